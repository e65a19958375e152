"""onoffice-import: appointment spreadsheets into onOffice enterprise, safely.

The CLI (``onoffice-import``) is a thin layer over these calls.
"""

from .check import CheckReport, RowOutcome, check
from .client import Action, ActionResult, Credentials, OnOfficeClient, Record, Timeouts, sign
from .draft import Draft, draft_mapping
from .errors import (
    ActionRefused,
    ApiError,
    AuthenticationError,
    ClockError,
    ConfigurationError,
    ExitCode,
    ImporterError,
    InputError,
    MalformedResponse,
    MappingError,
    NotDelivered,
    OutcomeUnknown,
    PermissionRefused,
    SourceFileError,
    TransportError,
)
from .load import Limits, LoadOptions, Table, load_table
from .mapping import Mapping, load_mapping
from .problems import Level, RowProblem
from .submit import RowResult, RunOptions, RunReport, run_import
from .undo import UndoReport, undo_import

__all__ = [
    "Action",
    "ActionRefused",
    "ActionResult",
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
    "Record",
    "RowOutcome",
    "RowProblem",
    "RowResult",
    "RunOptions",
    "RunReport",
    "SourceFileError",
    "Table",
    "Timeouts",
    "TransportError",
    "UndoReport",
    "check",
    "draft_mapping",
    "load_mapping",
    "load_table",
    "run_import",
    "sign",
    "undo_import",
]
