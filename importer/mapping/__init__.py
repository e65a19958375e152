"""Stage 3, the mapping: columns become the fields of an onOffice calendar create.

- ``spec``: the mapping file (``mappings/*.yaml``): its language, parsed and checked.
- ``values``: pure conversions of one cell (dates, times, durations, booleans, ids, text).
- ``convert``: a mapping applied to a table, column by column: fields per row, or problems.
- ``schedule``: start, end, all-day and series fields (a part of ``convert``).
- ``lookup``: human keys (estate numbers, e-mails, user names) resolved against the account.
- ``draft``: a mapping drafted from a file: headers recognised, values matched to the account.
"""
