"""onoffice-import: appointment spreadsheets into onOffice enterprise, safely.

The CLI (``onoffice-import``) is a thin layer over these calls.
"""

from .client import Action, ActionResult, Credentials, OnOfficeClient, Record, Timeouts, sign
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
    SourceFileError,
    TransportError,
)

__all__ = [
    "Action",
    "ActionRefused",
    "ActionResult",
    "ApiError",
    "AuthenticationError",
    "ClockError",
    "ConfigurationError",
    "Credentials",
    "ExitCode",
    "ImporterError",
    "InputError",
    "MalformedResponse",
    "MappingError",
    "NotDelivered",
    "OnOfficeClient",
    "OutcomeUnknown",
    "Record",
    "SourceFileError",
    "Timeouts",
    "TransportError",
    "sign",
]
