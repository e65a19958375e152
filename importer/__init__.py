"""onoffice-import: appointment spreadsheets into onOffice enterprise, safely.

    import importer
    report = importer.check("viewings.xlsx", "mappings/viewings.yaml")
    with importer.OnOfficeClient(url, importer.Credentials(token, secret)) as client:
        run = importer.run_import("viewings.xlsx", "mappings/viewings.yaml", client=client)

The CLI (``onoffice-import``) is a thin layer over these calls. Names are imported on first
use, so ``import importer`` (and the CLI's ``--help``) does not pay for pandas and pandera.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
import warnings
from importlib import import_module
from typing import TYPE_CHECKING, Any

# public name -> the module that defines it
_WHERE = {
    "check": "api",
    "CheckReport": "rules.check",
    "RowOutcome": "rules.check",
    "OnOfficeClient": "onoffice.client",
    "Credentials": "onoffice.client",
    "Timeouts": "onoffice.client",
    "draft_mapping": "mapping.draft",
    "Draft": "mapping.draft",
    "load_table": "source.load",
    "Table": "source.load",
    "LoadOptions": "source.load",
    "Limits": "source.load",
    "load_mapping": "mapping.spec",
    "Mapping": "mapping.spec",
    "Level": "core.problems",
    "RowProblem": "core.problems",
    "run_import": "run.submit",
    "RunOptions": "run.runner",
    "RunReport": "run.runner",
    "RowResult": "run.runner",
    "Status": "run.runner",
    "undo_import": "run.undo",
    "UndoReport": "run.undo",
    **{
        name: "core.errors"
        for name in (
            "ActionRefused",
            "ApiError",
            "AuthenticationError",
            "ClockError",
            "ConfigurationError",
            "ExitCode",
            "ImporterError",
            "InputError",
            "JournalError",
            "MalformedResponse",
            "MappingError",
            "NotDelivered",
            "OutcomeUnknown",
            "PermissionRefused",
            "SourceFileError",
            "TransportError",
        )
    },
}

__all__ = [
    "ActionRefused",
    "ApiError",
    "AuthenticationError",
    "CheckReport",
    "ClockError",
    "ConfigurationError",
    "Credentials",
    "Draft",
    "ExitCode",
    "ImporterError",
    "InputError",
    "JournalError",
    "Level",
    "Limits",
    "LoadOptions",
    "MalformedResponse",
    "Mapping",
    "MappingError",
    "NotDelivered",
    "OnOfficeClient",
    "OutcomeUnknown",
    "PermissionRefused",
    "RowOutcome",
    "RowProblem",
    "RowResult",
    "RunOptions",
    "RunReport",
    "SourceFileError",
    "Status",
    "Table",
    "Timeouts",
    "TransportError",
    "UndoReport",
    "check",
    "draft_mapping",
    "load_mapping",
    "load_table",
    "run_import",
    "undo_import",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'importer' has no attribute {name!r}")
    value = getattr(import_module(f".{_WHERE[name]}", __name__), name)
    globals()[name] = value  # once imported, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


# --- the modules' old places (before the stage packages), kept for one version ----------------
# ``import importer.client`` still works and is ``importer.onoffice.client``, with a
# DeprecationWarning. ``importer.check`` stays the public function (a module of that name would
# replace it), and ``importer.mapping`` is now its stage (its old names: mapping/__init__).
_NOW_AT = (
    "core.bulk",
    "core.contract",
    "core.errors",
    "core.excel",
    "core.i18n",
    "core.problems",
    "source.load",
    "source.xlsx_scan",
    "source.ics",
    "mapping.values",
    "mapping.schedule",
    "mapping.convert",
    "mapping.lookup",
    "mapping.draft",
    "onoffice.client",
    "onoffice.config",
    "onoffice.readback",
    "onoffice.reference",
    "rules.schema",
    "rules.payload",
    "rules.refusals",
    "rules.conflicts",
    "run.journal",
    "run.state",
    "run.identity",
    "run.settle",
    "run.watch",
    "run.runner",
    "run.submit",
    "run.undo",
    "output.xlsx_write",
    "output.workbook",
    "output.report",
    "output.results",
    "output.corrections",
)
_MOVED = {f"{__name__}.{new.split('.')[1]}": f"{__name__}.{new}" for new in _NOW_AT}


class _Moved(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds a module at its old name and hands out the module at its new one."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname not in _MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: Any) -> Any:
        new = _MOVED[spec.name]
        warnings.warn(
            f"{spec.name} is now {new}; the old name goes in the next version",
            DeprecationWarning,
            stacklevel=2,
        )
        return import_module(new)  # the same module object under both names

    def exec_module(self, module: Any) -> None:
        """Nothing to run: the module ran when it was imported under its new name."""


if not any(isinstance(finder, _Moved) for finder in sys.meta_path):
    sys.meta_path.append(_Moved())


if TYPE_CHECKING:  # for type checkers and editors: the same names, imported eagerly
    from .api import check
    from .core.errors import (
        ActionRefused,
        ApiError,
        AuthenticationError,
        ClockError,
        ConfigurationError,
        ExitCode,
        ImporterError,
        InputError,
        JournalError,
        MalformedResponse,
        MappingError,
        NotDelivered,
        OutcomeUnknown,
        PermissionRefused,
        SourceFileError,
        TransportError,
    )
    from .core.problems import Level, RowProblem
    from .mapping.draft import Draft, draft_mapping
    from .mapping.spec import Mapping, load_mapping
    from .onoffice.client import Credentials, OnOfficeClient, Timeouts
    from .rules.check import CheckReport, RowOutcome
    from .run.runner import RowResult, RunOptions, RunReport, Status
    from .run.submit import run_import
    from .run.undo import UndoReport, undo_import
    from .source.load import Limits, LoadOptions, Table, load_table
