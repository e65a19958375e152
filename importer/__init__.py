"""onoffice-import: appointment spreadsheets into onOffice enterprise, safely.

    import importer
    report = importer.check("viewings.xlsx", "mappings/viewings.yaml")
    with importer.OnOfficeClient(url, importer.Credentials(token, secret)) as client:
        run = importer.run_import("viewings.xlsx", "mappings/viewings.yaml", client=client)

The CLI (``onoffice-import``) is a thin layer over these calls. Names are imported on first
use, so ``import importer`` (and the CLI's ``--help``) does not pay for pandas and pandera.
"""

from __future__ import annotations

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
