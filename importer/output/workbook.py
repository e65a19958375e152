"""Writing report and results workbooks: the user's rows as they typed them, plus outcome columns.

- Text is always written as text (``=``, ``+``, ``-``, ``@`` never become formulas, no URLs, no
  numbers guessed); control characters are escaped, never crash the writer; over-long text is cut
  with a visible marker (the report is not the data).
- Faulty cells are filled red and carry a comment naming the problem.
- Written to a temporary file beside the target and renamed into place: never a half-written
  file. If the target cannot be replaced (open in Excel), an alternative name is used and
  returned.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import math
import os
import sys
from collections.abc import Iterable, Sequence
from collections.abc import Mapping as AnyMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.bulk import collector_paused
from ..core.i18n import _
from .xlsx_write import Left, Sheet, write_xlsx


@dataclass
class RowsSheet:
    """One sheet of rows: outcome columns and the input columns.

    The first ``frozen`` columns (the outcome) stay in view; ``wrap`` columns (messages) wrap.
    """

    name: str
    columns: Sequence[str]
    rows: Iterable[tuple[Sequence[Any], dict[int, str]]]  # values, {column index: comment}
    widths: AnyMapping[int, float] = field(default_factory=dict)
    wrap: frozenset[int] = frozenset()
    frozen: int = 0

    def sheet(self) -> Sheet:
        return Sheet(
            self.name[:31],
            self.rows,
            [str(c) for c in self.columns],
            self.widths,
            True,
            self.wrap,
            self.frozen,
        )


@dataclass
class TableSheet:
    """A plain sheet (summary, problem list): the first row is the header, if ``header``."""

    name: str
    rows: Sequence[Sequence[Any]]
    header: bool = True
    wrap: frozenset[int] = frozenset()
    links: Sequence[tuple[int, int, str]] = ()  # (row, column, place), 0-based, header row 0
    autofilter: bool = False
    widths: AnyMapping[int, float] = field(default_factory=dict)
    left: bool = False  # numbers left-aligned: counts beside their labels (a summary)

    def sheet(self) -> Sheet:
        head, body = (self.rows[0], self.rows[1:]) if self.header and self.rows else ((), self.rows)
        return Sheet(
            self.name[:31],
            ((_left_numbers(values) if self.left else values, {}) for values in body),
            head,
            self.widths,
            self.autofilter,
            self.wrap,
            0,
            self.links,
        )


def _left_numbers(values: Sequence[Any]) -> list[Any]:
    """A table's counts and ids sit at the left of their cells, beside what they count."""
    return [
        Left(v)
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        else v
        for v in values
    ]


def write_workbook(target: Path, sheets: Sequence[RowsSheet | TableSheet]) -> Path:
    """Write atomically; return the path written (another name if the target is locked)."""
    target = Path(target)
    _remove_stale_temps(target)
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with collector_paused():
            write_xlsx(temp, [spec.sheet() for spec in sheets])
        return _move_into_place(temp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def _remove_stale_temps(target: Path) -> None:
    """Half-written copies a killed process left beside ``target`` (its pid is gone)."""
    for stale in target.parent.glob(f".{glob.escape(target.name)}.*.tmp"):
        pid = stale.name[len(target.name) + 2 : -len(".tmp")]
        if pid.isdigit() and not alive(int(pid)):
            with contextlib.suppress(OSError):
                stale.unlink()


def alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (another user's: taken as running)."""
    if pid == os.getpid():
        return True
    if not 0 < pid <= (_MAX_WINDOWS_PID if sys.platform == "win32" else _MAX_PID):
        return False  # no process has it (a name in the shared temp folder may say anything)
    if sys.platform == "win32":  # os.kill would end the process there
        import ctypes
        from ctypes import wintypes

        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        # a HANDLE is pointer-sized: without its type ctypes would cut it to a C int
        kernel32.OpenProcess.restype = wintypes.HANDLE
        kernel32.OpenProcess.argtypes = (wintypes.DWORD, wintypes.BOOL, wintypes.DWORD)
        kernel32.GetExitCodeProcess.argtypes = (wintypes.HANDLE, ctypes.POINTER(wintypes.DWORD))
        kernel32.CloseHandle.argtypes = (wintypes.HANDLE,)
        return alive_on_windows(pid, kernel32, ctypes.get_last_error)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, but not ours to signal (or Windows): leave its file alone
        return True
    return True


_MAX_PID = 2**31 - 1  # pid_t: os.kill overflows beyond it
_MAX_WINDOWS_PID = 2**32 - 1  # a DWORD
_QUERY_LIMITED_INFORMATION = 0x1000  # PROCESS_QUERY_LIMITED_INFORMATION: any user's process
_STILL_ACTIVE = 259
_ACCESS_DENIED = 5  # it exists, but is not ours to look at: leave its file alone


def alive_on_windows(pid: int, kernel32: Any, last_error: Any) -> bool:
    """Whether process ``pid`` runs, as Windows tells (``kernel32`` given by tests): a
    process that ended or never was cannot be opened, or has an exit code."""
    import ctypes
    from ctypes import wintypes

    handle = kernel32.OpenProcess(_QUERY_LIMITED_INFORMATION, False, pid)
    if not handle:
        return bool(last_error() == _ACCESS_DENIED)
    try:
        code = wintypes.DWORD()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True
        return code.value == _STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


def _move_into_place(temp: Path, target: Path) -> Path:
    for n in range(0, 20):
        candidate = (
            target if n == 0 else target.with_name(f"{target.stem} ({n + 1}){target.suffix}")
        )
        try:
            os.replace(temp, candidate)
            return candidate
        except PermissionError:
            continue  # Windows: the file is open in Excel
    raise PermissionError(  # its strerror is what the callers say (in the user's language)
        errno.EACCES,
        _("neither it nor another name beside it can be written; is it open in Excel?"),
        str(target),
    )
