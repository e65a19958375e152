"""The library's front door: the public calls that span stages.

``importer.check`` is the dry run (:mod:`importer.rules.check`) followed by its report workbook
(:mod:`importer.output.report`): a stage never calls a later one, so the two meet here, above
them, as they meet in the CLI and the web app.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from .mapping.spec import Mapping
from .output.report import write_report
from .rules import check as dry_run
from .rules.check import Api, CheckReport
from .source.load import LoadOptions, Table


def check(
    source: str | Path,
    mapping: str | Path | Mapping,
    *,
    api: Api | None = None,
    report: str | Path | bool | None = None,
    load_options: LoadOptions | None = None,
    now: datetime | None = None,
    prepared: tuple[Mapping, Table] | None = None,
    strict: bool = False,
) -> CheckReport:
    """Dry-run ``source`` through ``mapping`` and write the report workbook (``report``: where;
    None: ``<input>.check.xlsx`` beside the input; False: none). The rest as
    :func:`importer.rules.check.check`."""
    result = dry_run.check(
        source,
        mapping,
        api=api,
        load_options=load_options,
        now=now,
        prepared=prepared,
        strict=strict,
    )
    if report is not False:
        clock = time.perf_counter()
        write_report(result, report if isinstance(report, str | Path) else None)
        result.timings["report"] = time.perf_counter() - clock
    return result
