"""The errors that stop work, and the exit codes the CLI maps them to.

Row problems are not exceptions: they are :class:`importer.core.problems.RowProblem` records
collected into reports. What is raised is a small family::

    ImporterError
    ├── InputError                 the user's files: exit 2
    │   ├── SourceFileError        spreadsheet refused (file, sheet, row, column)
    │   └── MappingError           mapping file refused (file, key path)
    ├── ConfigurationError         credentials, config file, options: exit 3
    └── ApiError                   anything the onOffice API did or did not answer
        ├── AuthenticationError    token/HMAC refused (400, 13, 22, 137): exit 3
        ├── ClockError             timestamp outside the window (136): exit 3
        ├── ActionRefused          one action answered with an errorcode (carries the action)
        ├── MalformedResponse      not the documented shape
        └── TransportError         no usable HTTP answer
            ├── NotDelivered       surely never reached the server: safe to re-send
            └── OutcomeUnknown     may have been processed: read back before re-sending

Messages never contain the API token or secret: the client never puts them in, and
:func:`redact` is applied to anything that echoes a request.
"""

from __future__ import annotations

import logging
import re
from enum import IntEnum

from .i18n import _


class ExitCode(IntEnum):
    """Documented process exit codes (README, "Exit codes")."""

    OK = 0
    ROWS_FAILED = 1
    INPUT_REJECTED = 2
    CONFIGURATION = 3
    STOPPED = 4
    UNKNOWN_OUTCOME = 5
    # `check`: no row invalid, but some the account has not confirmed (a type an account that
    # lists none has not shown yet, core/problems.py UNCONFIRMED): not "valid"
    UNCONFIRMED = 6
    INTERRUPTED = 130


class ImporterError(Exception):
    """Base of every error this package raises on purpose. Every class of the family names its
    own exit code (a class that forgets is refused when it is defined): no error is reported as
    "input refused; nothing sent" because its author forgot to say what it is."""

    exit_code: ExitCode

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if not isinstance(cls.__dict__.get("exit_code"), ExitCode):
            raise TypeError(f"{cls.__qualname__} names no exit code of its own (exit_code = …)")


class InputError(ImporterError):
    exit_code = ExitCode.INPUT_REJECTED


class SourceFileError(InputError):
    """The spreadsheet cannot be used. Carries where, as far as it is known."""

    exit_code = ExitCode.INPUT_REJECTED

    def __init__(
        self,
        message: str,
        *,
        file: str,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
        code: str = "file-unusable",
    ) -> None:
        self.message, self.file, self.sheet, self.row, self.column = (
            message,
            file,
            sheet,
            row,
            column,
        )
        self.code = code
        super().__init__(str(self))

    def __str__(self) -> str:
        where = [self.file]
        if self.sheet:
            where.append(_("sheet {sheet}").format(sheet=repr(self.sheet)))
        if self.row is not None:
            where.append(_("row {row}").format(row=self.row))
        if self.column:
            where.append(_("column {column}").format(column=repr(self.column)))
        return f"{', '.join(where)}: {self.message}"


class MappingError(InputError):
    """The mapping file is not valid. ``problems`` lists every problem found, not just one."""

    exit_code = ExitCode.INPUT_REJECTED

    def __init__(self, file: str, problems: list[tuple[str, str]]) -> None:
        self.file, self.problems = file, problems
        super().__init__(str(self))

    def __str__(self) -> str:
        lines = [
            f"{self.file}: {path}: {msg}" if path else f"{self.file}: {msg}"
            for path, msg in self.problems
        ]
        return "\n".join(lines)


class ConfigurationError(ImporterError):
    """The set-up is not usable: credentials, the config file, the journal, a sandbox option.

    ``path`` is the file concerned (config file, journal), when there is one."""

    exit_code = ExitCode.CONFIGURATION

    def __init__(self, message: str, *, path: object = None) -> None:
        self.message, self.path = message, None if path is None else str(path)
        super().__init__(message)


class JournalError(ImporterError):
    """The journal cannot be written (disk full, read-only, removed): nothing more is sent."""

    exit_code = ExitCode.STOPPED

    def __init__(self, path: object, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(
            _(
                "the journal {path} cannot be written ({why}); nothing more is sent - free some "
                "space and run again"
            ).format(path=path, why=reason)
        )


class ApiError(ImporterError):
    """A call to onOffice went wrong. Where known: ``url`` (the API URL, never with
    credentials), ``action`` (what was asked, e.g. "create calendar") and ``status`` (the HTTP
    status)."""

    exit_code = ExitCode.STOPPED

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        action: str | None = None,
        status: int | None = None,
    ) -> None:
        self.url, self.action, self.status = url, action, status
        super().__init__(message)


class AuthenticationError(ApiError):
    """Token or signature refused. Never retried: every further request would fail alike."""

    exit_code = ExitCode.CONFIGURATION

    def __init__(self, message: str, *, errorcode: int | None = None) -> None:
        self.errorcode = errorcode
        super().__init__(message)


class PermissionRefused(AuthenticationError):
    """The API user lacks a right for every row alike: a refused read, or the first writes of
    a run all refused for a right (156: editing other users' appointments), so it stops the run
    like a credential error. One row's refused write is that row's failure."""

    exit_code = ExitCode.CONFIGURATION

    def __init__(self, errorcode: int, message: str, *, action: str = "") -> None:
        self.server_message = message
        super().__init__(
            _(
                "the onOffice API user lacks a right for {action} (error {code}: {message}); "
                "grant it to the API user in onOffice (user rights), then run again"
            ).format(action=action or _("this call"), code=errorcode, message=message),
            errorcode=errorcode,
        )
        self.action = action or None


class ClockError(ApiError):
    """The server refused the request timestamp: the local clock is off."""

    exit_code = ExitCode.CONFIGURATION

    def __init__(self, message: str, *, errorcode: int | None = None) -> None:
        self.errorcode = errorcode
        super().__init__(
            _(
                "{message} - check this computer's clock and time zone (the API accepts "
                "timestamps within 120 seconds of its own time)"
            ).format(message=message)
        )


class ActionRefused(ApiError):
    """The server answered one action with a non-zero errorcode."""

    exit_code = ExitCode.STOPPED

    def __init__(
        self,
        errorcode: int,
        message: str,
        *,
        action: str | None = None,
        identifier: str | None = None,
    ) -> None:
        self.errorcode, self.server_message = errorcode, message
        self.identifier = identifier  # the action's identifier, e.g. "row-9"
        super().__init__(
            _("onOffice refused the action (error {code}): {message}").format(
                code=errorcode, message=message
            ),
            action=action,
        )


class MalformedResponse(ApiError):
    """The answer was not the documented JSON shape (or the identifier echo did not match)."""

    exit_code = ExitCode.STOPPED


class TransportError(ApiError):
    """No usable HTTP answer. ``may_have_been_processed`` is the one fact retries depend on."""

    exit_code = ExitCode.STOPPED
    may_have_been_processed: bool = True


class NotDelivered(TransportError):
    """Connection refused, DNS failure or connect timeout: the request never left this machine."""

    exit_code = ExitCode.STOPPED

    may_have_been_processed = False


class OutcomeUnknown(TransportError):
    """Read timeout, connection dropped after sending, HTTP 5xx: the server may have acted."""

    exit_code = ExitCode.STOPPED

    may_have_been_processed = True

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        timed_out: bool = False,
        url: str | None = None,
        action: str | None = None,
    ) -> None:
        self.timed_out = timed_out  # no answer in time: the server may still be working on it
        super().__init__(message, url=url, action=action, status=status)


def redact(text: str, *secrets: str) -> str:
    """Replace every non-empty secret in ``text`` by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


# A URL's user info and query: where credentials ride when someone puts them into the API URL.
_URL_SECRETS = re.compile(r"(//)[^/\s\"'@]+@|(\?)[^\s\"']+")


class HideUrlSecrets(logging.Filter):
    """Every log line with a URL's user info and query replaced by ``***`` (urllib3 logs each
    request line as "POST /api.php?token=... HTTP/1.1" at debug level)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        hidden = _URL_SECRETS.sub(lambda m: f"{m.group(1) or m.group(2)}***", message)
        if hidden != message:
            record.msg, record.args = hidden, None
        return True
