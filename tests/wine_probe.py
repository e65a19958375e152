"""The Windows branches on Windows' own CPython, under wine (.ci/wine-lane; optional).

Not a pytest module: the suite needs pandas, numpy and Rust-built wheels, which Windows CPython
cannot load under wine 8 (numpy 2 needs ucrtbase.crealf, python-calamine and pydantic-core
bcryptprimitives.dll). These are the parts of the tool that talk to Windows itself and need
nothing but the standard library and click: each line prints ok or FAIL, the exit code counts
the failures.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

failures = 0


def check(what: str, good: bool, detail: object = "") -> None:
    global failures
    failures += not good
    print(f"{'ok  ' if good else 'FAIL'} {what} {detail}", flush=True)


def main() -> int:
    from importer import cli
    from importer.core import i18n
    from importer.onoffice.config import configured_language
    from importer.output import workbook

    check("sys.platform is win32", sys.platform == "win32", sys.platform)
    langid = i18n.windows_ui_language()
    check("GetUserDefaultUILanguage answers", isinstance(langid, int), hex(langid or 0))
    expected = os.environ.get("PROBE_EXPECT_LANGUAGE", "de")
    check("the language without locale variables", i18n.from_environment({}) == expected)
    folder = Path(tempfile.mkdtemp())
    config = folder / "config.ini"
    config.write_bytes(b"\xef\xbb\xbf[onoffice]\r\nlang = de\r\n")
    check("a config file with a BOM", configured_language({}, config) == "de")
    check("this process is alive", workbook.alive(os.getpid()))
    ended = 99_999_988  # no such process
    check("a process that never was is not alive", not workbook.alive(ended))
    _processes_that_ran(workbook)
    target = folder / "rows.results.xlsx"
    stale = folder / f".rows.results.xlsx.{ended}.tmp"
    mine = folder / f".rows.results.xlsx.{os.getpid()}.tmp"
    stale.write_bytes(b"PK")
    mine.write_bytes(b"PK")
    workbook._remove_stale_temps(target)
    check("a stale temporary workbook removed", not stale.exists() and mine.exists())
    handler = cli._stop_like_ctrl_c()
    check("the console handler is installed", handler is not None)
    cli._never_crash_on_output()
    print("cp1252 output: Ł → 🏠", flush=True)
    check("unencodable output did not raise", True, sys.stdout.encoding)
    cli._finished.set()
    began = time.monotonic()
    interrupted = []
    check(
        "a console close stops like Ctrl-C",
        cli._console_event(2, lambda: interrupted.append(2)) and interrupted == [2],
        f"{time.monotonic() - began:.2f} s",
    )
    check("Windows' console close wakes a sleeping main thread", _closed_while_asleep(cli))
    return failures


def _processes_that_ran(workbook: object) -> None:
    """Another Windows process: alive while it runs, not once it has ended."""
    import subprocess

    alive = workbook.alive  # type: ignore[attr-defined]
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as running:
        check("a running process is alive", alive(running.pid), running.pid)
        running.kill()
        running.wait(30)
        check("a process that has ended is not alive", not alive(running.pid), running.pid)


def _closed_while_asleep(cli: object) -> bool:
    """The handler called in a thread of its own, as Windows calls it, while the main thread
    sleeps: the sleep ends at once with KeyboardInterrupt (as Ctrl-C ends it)."""
    import threading

    finished = cli._finished  # type: ignore[attr-defined]
    finished.clear()
    began = time.monotonic()
    closer = threading.Timer(0.5, cli._console_event, args=(2,))  # type: ignore[attr-defined]
    closer.start()
    try:
        time.sleep(10)
        woke = False
    except KeyboardInterrupt:
        woke = True
    took = time.monotonic() - began
    finished.set()
    closer.join(10)
    print(f"     woke after {took:.2f} s", flush=True)
    return woke and took < 5


if __name__ == "__main__":
    sys.exit(main())
