"""The office's Windows PC, each of its conditions made here on Linux.

No Windows machine runs these: each condition Windows brings is reproduced as it reaches the
program. No locale variable, and the Windows display language answered by the function that
asks Windows for it; stdout a file in the Windows code page (cp1252, a scheduled task's log); a
config file saved with a byte order mark (Notepad, PowerShell 5); Ctrl-Break (SIGBREAK, given
the number of a signal Linux has) and the console closed (the handler Windows would call,
called); a half-written workbook of a process Windows says has ended.
"""

from __future__ import annotations

import ctypes
import functools
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from ctypes import wintypes
from pathlib import Path
from typing import Any

import pytest

from importer import cli
from importer.core import i18n
from importer.core.errors import ConfigurationError, ExitCode
from importer.onoffice.config import api_settings, configured_language
from importer.output import workbook
from importer.sandbox import Faults, Sandbox
from importer.web import server

from .conftest import ROOT
from .helpers import CSV_MAPPING, generated, statuses

LOCALE = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


def windows_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A process environment as on Windows: no locale variable, no ONOFFICE_* of ours."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in LOCALE and not k.startswith(("ONOFFICE", "PYTHONIOENCODING"))
    }
    return env | {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data"), **extra}


def fresh(
    code: str, env: dict[str, str], cwd: Path, encoding: str = "cp1252"
) -> subprocess.CompletedProcess[str]:
    """A new interpreter (its streams' encoding is settled at start, as on Windows)."""
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding=encoding,
        errors="strict",
        timeout=120,
    )


# --- the language -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("langid", "expected"),
    [(0x0407, "de"), (0x0C07, "de"), (0x0807, "de"), (0x0409, "en"), (0x040C, "en"), (None, "en")],
    ids=["de-DE", "de-AT", "de-CH", "en-US", "fr-FR", "not-windows"],
)
def test_without_locale_variables_the_windows_display_language_counts(
    langid: int | None, expected: str
) -> None:
    assert i18n.from_environment({}, system=lambda: langid) == expected


def test_the_locale_variables_still_come_first() -> None:
    assert i18n.from_environment({"LANG": "en_US.UTF-8"}, system=lambda: 0x0407) == "en"
    assert i18n.from_environment({"LC_ALL": "de_DE"}, system=lambda: 0x0409) == "de"


def test_the_windows_display_language_is_asked_of_kernel32(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert i18n.windows_ui_language() is None  # not Windows: nothing asked

    class Kernel32:
        def GetUserDefaultUILanguage(self) -> int:
            return 0x0C07  # Deutsch (Österreich)

    class WinDLL:
        kernel32 = Kernel32()

    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(ctypes, "windll", WinDLL(), raising=False)
    assert i18n.windows_ui_language() == 0x0C07
    assert i18n.from_environment({}) == "de"


def test_a_german_windows_gets_german_messages(tmp_path: Path) -> None:
    """The CLI in a process with no locale variable, as Windows starts it; Windows answers
    German (0x0407) when asked for the display language."""
    source, mapping = generated(tmp_path, 2)
    code = (
        "from importer.core import i18n; i18n.windows_ui_language = lambda: 0x0407\n"
        "from importer.cli import main\n"
        f"main(['check', {str(source)!r}, '-m', {str(mapping)!r}])\n"
    )
    done = fresh(code, windows_env(tmp_path, PYTHONIOENCODING="utf-8"), tmp_path, "utf-8")
    assert done.returncode == 0, done.stderr
    assert "2 Zeilen gelesen: 2 gültig" in done.stdout


# --- the output's encoding ---------------------------------------------------------------
def test_a_cp1252_pipe_gets_every_row_and_no_traceback(tmp_path: Path) -> None:
    """A scheduled task's log file in the Windows code page: Ł, → and an emoji cannot be
    written in it; they become ? and the summary, the exit code and the report stay."""
    source = tmp_path / "polnisch.csv"
    source.write_text(
        "Start;Betreff;Makler;Objekt\n"
        "01.03.2027 10:00;Besichtigung Łódź;mmueller;AC-1042\n"
        "Łódź → 🏠;Übergabe;mmueller;AC-1042\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "rows.yaml"
    mapping.write_text(CSV_MAPPING, encoding="utf-8")
    env = windows_env(tmp_path, PYTHONIOENCODING="cp1252", LANG="de_DE.UTF-8")
    code = f"from importer.cli import main; main(['check', {str(source)!r}, '-m', 'rows.yaml'])"
    done = fresh(code, env, tmp_path)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == ExitCode.ROWS_FAILED
    assert "2 Zeilen gelesen: 1 gültig, 1 ungültig" in done.stdout
    assert "'?ód? ? ?'" in done.stdout  # the cell as far as cp1252 can write it
    assert (tmp_path / "polnisch.check.xlsx").is_file()
    missing = fresh(
        "from importer.cli import main; main(['check', 'Łódź→🏠.csv', '-m', 'rows.yaml'])",
        env,
        tmp_path,
    )
    assert missing.returncode == ExitCode.INPUT_REJECTED and "Traceback" not in missing.stderr
    assert "?ód???.csv" in missing.stderr


# --- a config file with a BOM -------------------------------------------------------------
def test_a_config_file_saved_with_a_bom_is_read(tmp_path: Path) -> None:
    config = tmp_path / "config.ini"
    text = "[onoffice]\nlang = de\ntoken = tok-en-1234\nsecret = sec-ret-5678\nproxy = none\n"
    config.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))  # Notepad's "UTF-8 with BOM"
    config.chmod(0o600)
    assert configured_language({}, config) == "de"
    settings = api_settings({}, config)
    assert (settings.credentials.token, settings.proxy) == ("tok-en-1234", "none")


def test_the_config_files_permission_check_is_not_made_on_windows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows reports every file as readable by all (0o666: its ACLs are not modes): the
    check that refuses a config file others can read would refuse every one there, so it is
    not made (the README says what protects the file instead)."""
    config = tmp_path / "config.ini"
    config.write_text("[onoffice]\ntoken = tok-en-1234\nsecret = sec-ret-5678\n", "utf-8")
    config.chmod(0o666)  # what os.stat answers on Windows
    with pytest.raises(ConfigurationError, match="can be read by other users"):
        api_settings({}, config)
    monkeypatch.setattr(sys, "platform", "win32")
    assert api_settings({}, config).credentials.token == "tok-en-1234"


# --- stopping -----------------------------------------------------------------------------
RUNNER = """
import signal, sys, threading, time, functools
from pathlib import Path
{patch}
from importer.cli import main
main(['run', {source!r}, '-m', {mapping!r}])
"""


def _stopped_run(tmp_path: Path, sandbox: Sandbox, patch: str, stop: Any) -> None:
    """A run of 300 rows stopped after some are sent: the rows sent are in the results,
    the rest not sent, exit 130."""
    source, mapping = generated(tmp_path, 300)
    sandbox.faults = Faults(latency=0.02)
    env = windows_env(
        tmp_path,
        ONOFFICE_API_URL=sandbox.url,
        ONOFFICE_TOKEN=sandbox.credentials.token,
        ONOFFICE_SECRET=sandbox.credentials.secret,
        PYTHONIOENCODING="utf-8",
    )
    code = RUNNER.format(patch=patch, source=str(source), mapping=str(mapping))
    with subprocess.Popen(
        [sys.executable, "-c", code],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            deadline = time.monotonic() + 60
            while sandbox.stats.posts < 40 and proc.poll() is None:
                assert time.monotonic() < deadline
                time.sleep(0.005)
            stop(proc)
            out, err = proc.communicate(timeout=30)
        finally:
            proc.kill()
    assert proc.returncode == ExitCode.INTERRUPTED, (proc.returncode, err[-2000:])
    assert "Traceback" not in err, err
    assert "Interrupted" in out + err, out + err
    counted = statuses(tmp_path / "rows.results.xlsx")
    assert counted["created"] == sandbox.store.count_appointments() > 0
    assert counted["not-sent"] > 0 and sum(counted.values()) == 300


def test_ctrl_break_stops_like_ctrl_c(tmp_path: Path, sandbox: Sandbox) -> None:
    """Windows' Ctrl-Break is SIGBREAK: here it is given the number of SIGUSR1."""
    patch = "signal.SIGBREAK = signal.SIGUSR1"
    _stopped_run(tmp_path, sandbox, patch, lambda proc: proc.send_signal(signal.SIGUSR1))


def test_closing_the_console_window_stops_like_ctrl_c(tmp_path: Path, sandbox: Sandbox) -> None:
    """Windows calls the console handler in a thread of its own when the window is closed
    (CTRL_CLOSE_EVENT = 2) and ends the process when it returns: here a thread of the process
    calls the handler the CLI registered, when the test says so (a file appears)."""
    trigger = tmp_path / "close-the-window"
    patch = f"""
import importer.cli as cli
registered = []
class Kernel32:
    def SetConsoleCtrlHandler(self, handler, add):
        registered.append(handler)
        return 1
cli._stop_like_ctrl_c = functools.partial(cli._stop_like_ctrl_c, Kernel32())
def windows():
    while not Path({str(trigger)!r}).exists():
        time.sleep(0.01)
    print("handler returned", registered[0](2), file=sys.stderr, flush=True)
threading.Thread(target=windows, daemon=True).start()
"""
    _stopped_run(tmp_path, sandbox, patch, lambda proc: trigger.touch())


def test_the_console_handler_leaves_ctrl_c_to_python_and_waits_for_the_results() -> None:
    interrupted: list[int] = []
    assert cli._console_event(0, lambda: interrupted.append(0)) is False  # Ctrl-C: Python's
    assert cli._console_event(1, lambda: interrupted.append(1)) is False  # Ctrl-Break: SIGBREAK
    assert interrupted == []
    cli._finished.clear()
    threading.Timer(0.3, cli._finished.set).start()  # main() returns: the results are written
    began = time.monotonic()
    assert cli._console_event(5, lambda: interrupted.append(5)) is True  # logoff
    assert interrupted == [5] and 0.25 < time.monotonic() - began < 3


# --- stale temporary workbooks ------------------------------------------------------------
class FakeKernel32:
    """Windows' answers about processes: ``running`` are alive, ``foreign`` belong to another
    user (cannot be opened), every other pid has ended or never was."""

    def __init__(self, running: set[int], foreign: set[int] = frozenset()) -> None:  # type: ignore[assignment]
        self.running, self.foreign, self.error, self.closed = running, foreign, 0, 0
        # kernel32's functions take the types of their result and arguments: so do these
        for name in ("OpenProcess", "GetExitCodeProcess", "CloseHandle"):
            setattr(self, name, functools.partial(getattr(type(self), name), self))

    def OpenProcess(self, access: int, inherit: bool, pid: int) -> int:
        if pid in self.foreign:
            self.error = 5
            return 0
        self.error = 0 if pid in self.running or pid % 2 else 87
        return pid if not self.error else 0

    def GetExitCodeProcess(self, handle: int, code: Any) -> int:
        code._obj.value = 259 if handle in self.running else 0
        return 1

    def CloseHandle(self, handle: int) -> int:
        self.closed += 1
        return 1


def test_windows_says_which_writers_have_ended() -> None:
    kernel = FakeKernel32(running={4242}, foreign={7777})
    assert workbook.alive_on_windows(4242, kernel, lambda: kernel.error) is True
    assert workbook.alive_on_windows(7777, kernel, lambda: kernel.error) is True  # not ours
    assert workbook.alive_on_windows(4243, kernel, lambda: kernel.error) is False  # exit code
    assert workbook.alive_on_windows(4244, kernel, lambda: kernel.error) is False  # gone
    assert kernel.closed == 2


def test_stale_temporary_workbooks_are_removed_on_windows_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kernel = FakeKernel32(running={4242})
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(ctypes, "WinDLL", lambda name, use_last_error: kernel, raising=False)
    monkeypatch.setattr(ctypes, "get_last_error", lambda: kernel.error, raising=False)
    target = tmp_path / "rows.results.xlsx"
    for pid in (4242, 4243, 4244):
        (tmp_path / f".rows.results.xlsx.{pid}.tmp").write_bytes(b"PK half")
    workbook._remove_stale_temps(target)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == [".rows.results.xlsx.4242.tmp"]  # the running writer's stays
    # a HANDLE is pointer-sized on 64-bit Windows: ctypes would cut an untyped one to an int
    assert kernel.OpenProcess.restype is wintypes.HANDLE  # type: ignore[attr-defined]
    assert kernel.CloseHandle.argtypes == (wintypes.HANDLE,)  # type: ignore[attr-defined]


APP = """
import os
from pathlib import Path
from importer.web import server
app, workspace, url = server.build(mappings=Path({mappings!r}), results=Path({results!r}))
upload = workspace.folder / "uploads" / "7f3a" / "Besichtigungen.xlsx"
upload.parent.mkdir(parents=True)
upload.write_bytes(b"PK the office's list")
unlink = os.unlink
def open_in_excel(path, *args, **kwargs):  # Windows removes no file another program holds
    if str(path).endswith("Besichtigungen.xlsx"):
        raise PermissionError(13, "used by another process", str(path))
    return unlink(path, *args, **kwargs)
os.unlink = open_in_excel
server.stop(app, workspace, print)
"""


def test_an_upload_open_in_excel_is_said_at_exit_and_removed_at_the_next_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The web app stops while Excel holds an upload of its private folder open: the folder
    cannot be removed entirely, which the app says (it did so silently); the next start
    removes what an app that has ended left, never a running app's folder."""
    temp = tmp_path / "temp"
    temp.mkdir()
    env = windows_env(tmp_path, TMPDIR=str(temp), LANG="de_DE.UTF-8", PYTHONIOENCODING="utf-8")
    code = APP.format(mappings=str(tmp_path / "mappings"), results=str(tmp_path / "results"))
    (tmp_path / "mappings").mkdir()
    done = fresh(code, env, tmp_path, "utf-8")
    assert done.returncode == 0, done.stderr
    (left,) = temp.iterdir()  # the app's process has ended; its folder stays, with the upload
    assert (left / "uploads" / "7f3a" / "Besichtigungen.xlsx").is_file()
    assert done.stdout == (
        f"Der temporäre Ordner der App {left} ließ sich nicht ganz entfernen (ist eine Datei "
        "darin in Excel geöffnet?); er wird beim nächsten Start der App entfernt.\n"
    )
    running = temp / f"onoffice-import-ui-{os.getpid()}-k2j4"  # an app still running
    unknown = temp / "onoffice-import-ui-q8w7e6"  # whose app cannot be told
    running.mkdir()
    unknown.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    mine = server.private_folder()
    assert sorted(temp.iterdir()) == sorted([running, unknown, mine])
    assert mine.name.startswith(f"onoffice-import-ui-{os.getpid()}-")


def test_the_readme_says_what_file_modes_protect_on_windows() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    windows = readme.split("### On Windows\n", 1)[1].split("\n## ", 1)[0]
    assert "0600" in windows and "%USERPROFILE%" in windows and "Ctrl-Break" in windows


def test_the_readme_sets_up_in_two_commands_and_installs_apart_from_the_data() -> None:
    """Set-up: the two commands for Linux and macOS; in PowerShell the first, the office's
    install of the wheel and the web app's start. The office's program folder is not the data
    folder (%LOCALAPPDATA%\\onoffice-import, platformdirs without an author): removing it to
    install a new version must leave the ledgers."""
    setup = (ROOT / "README.md").read_text(encoding="utf-8").split("## Set-up\n", 1)[1]
    setup = setup.split("\n### Behind a proxy", 1)[0]
    blocks = re.findall(r"```(\w+)\n(.*?)```", setup, re.DOTALL)
    assert [kind for kind, _ in blocks] == ["sh", "sh", "powershell", "powershell", "text"]
    (demo, tests), (checkout, office), shortcut = (
        [b for k, b in blocks if k == "sh"],
        [b for k, b in blocks if k == "powershell"],
        blocks[-1][1],
    )
    assert demo.strip().endswith(".venv/bin/onoffice-import demo") and "pytest" in tests
    assert checkout.strip().endswith(r".venv\Scripts\onoffice-import demo")
    venv = re.match(r"py -m venv (\S+);", office).group(1)  # type: ignore[union-attr]
    assert venv == r"$env:LOCALAPPDATA\Programs\onoffice-import"
    assert f"& {venv}\\Scripts\\pip install -q .\\onoffice_import-" in office
    assert office.strip().endswith(f"& {venv}\\Scripts\\onoffice-import demo")
    data = r"%LOCALAPPDATA%\onoffice-import"
    assert f"`{data}\\mappings`" in setup
    program = venv.replace("$env:LOCALAPPDATA", "%LOCALAPPDATA%")
    assert not program.startswith(data + "\\") and program != data
    assert shortcut.strip() == f'"{program}\\Scripts\\onoffice-import.exe" ui'


def test_the_sandbox_says_how_powershell_uses_it() -> None:
    """`onoffice-import sandbox` prints the lines that point another shell at it (the demo
    sends the office there to try fixing rows): PowerShell has no `export`."""

    class Keys:
        token, secret = "tok-1234", "sec-5678"

    url = "http://127.0.0.1:8765/api/stable/api.php"
    assert cli.use_it_with(url, Keys(), windows=True) == [
        f'$env:ONOFFICE_API_URL = "{url}"',
        '$env:ONOFFICE_TOKEN = "tok-1234"',
        '$env:ONOFFICE_SECRET = "sec-5678"',
    ]
    assert cli.use_it_with(url, Keys(), windows=False)[0] == f"export ONOFFICE_API_URL={url}"


def test_a_left_folder_or_workbook_named_with_an_impossible_process_id_is_no_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The temp folder is shared by every user of the computer: a folder (or a half-written
    workbook) whose name holds a number no process id can be (os.kill overflowed: a traceback
    at every start of the web app) is one of no running process."""
    impossible = "9" * 20
    assert workbook.alive(int(impossible)) is False
    assert workbook.alive(2**31) is False  # beyond pid_t
    temp = tmp_path / "temp"
    temp.mkdir()
    (temp / f"onoffice-import-ui-{impossible}-x1").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    mine = server.private_folder()
    assert sorted(temp.iterdir()) == [mine]
    target = tmp_path / "rows.results.xlsx"
    (tmp_path / f".rows.results.xlsx.{impossible}.tmp").write_bytes(b"PK half")
    workbook._remove_stale_temps(target)
    assert not (tmp_path / f".rows.results.xlsx.{impossible}.tmp").exists()
