"""Stage 1, onOffice: the API, and what an appointment looks like when it is read back.

Beneath the pipeline, as ``core`` is: the mapping asks the account for ids through it, the
rules read its appointments, the run writes through it.

- ``client``: the HMAC-signed client: envelope, signing, typed results and errors.
- ``config``: where the URL and credentials come from (environment or an owner-only file).
- ``readback``: reading appointments back in whichever shape the server answers.
- ``reference``: the import stamp in an appointment's note: which list, row and write it holds.
"""
