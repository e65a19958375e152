"""Stage 5, the run: plan every row against what onOffice holds of the list, then send.

- ``journal``: the ledger: what was about to be sent and what came of it, durable before and after.
- ``state``: the previous version of the list, rebuilt from onOffice before a run.
- ``identity``: the plan: which appointment each row is, and what to do with it.
- ``watch``: what changes in onOffice while a run sends (another run of the same list).
- ``runner``: one row's step carried out: create, update, cancel, and the answer settled.
- ``settle``: what a lost answer left open: the appointment found by its stamp, or not.
- ``submit``: a whole run: check, read, plan, send in worker threads, settle.
- ``undo``: exactly the appointments an import created removed (or cancelled), nothing else.
"""
