"""Stage 6, the output: the workbooks a person reads.

- ``xlsx_write``: a small, fast .xlsx writer (one string template per row).
- ``workbook``: sheets of the user's rows plus outcome columns, written in one step.
- ``report``: the check report: which rows fail, why, in which cell.
- ``results``: the results workbook: every row as entered, plus its outcome.
- ``undo_book``: the undo workbook: what undo did with each appointment.
- ``corrections``: corrections typed into a results workbook by a program (the web app).
"""
