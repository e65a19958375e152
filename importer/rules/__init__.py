"""Stage 4, the rules: what a valid row is, and what it becomes; the dry run.

- ``schema``: every rule of calendar create as one Pandera schema over the whole table.
- ``payload``: a valid row's fields -> the ``parameters`` of one create, and their fingerprint.
- ``keys``: a row's identity from the mapping's key columns.
- ``conflicts``: double bookings within the file and against onOffice's calendar.
- ``refusals``: what onOffice's refusal of a row means, in the user's words.
- ``check``: the dry run: load, map, validate every row; nothing created, nothing written.
"""
