"""Stage 0, the ground every stage stands on: words, errors and the API's documented contract.

- ``contract``: the onOffice API contract: documented constants and every UNDOCUMENTED assumption.
- ``errors``: the small exception family and the exit codes the CLI maps them to.
- ``problems``: row problems as data (row, columns, code, message, level) and their registry.
- ``i18n``: the user's language (a ContextVar), German or English for every text a person reads.
- ``excel``: Excel's geometry and our workbooks' vocabulary: the statuses and what they mean.
- ``bulk``: the cyclic garbage collector paused during bulk work over a whole file.
"""
