"""Stage 2, the source: a file becomes a table of cells exactly as the user typed them.

- ``load``: .xlsx/.xlsm, .csv/.txt and .ics into a :class:`~importer.source.load.Table`; the file's
  own problems (encoding, header, size) as :class:`~importer.core.errors.SourceFileError`.
- ``xlsx_scan``: a safety and fact scan of an .xlsx container before any library parses it.
- ``ics``: calendar files: each event a row, its properties the columns.
"""
