"""Every message in the user's language, every error with its own exit code.

A raised error's text is the catalogue's (``_()``), never a literal or an f-string the German
catalogue cannot hold: checked in the source of every module (the sandbox apart: it plays
onOffice, whose messages are its own). And each class of the error family names its exit code.
"""

from __future__ import annotations

import ast
import importlib
import os
import pkgutil
import sys
import zipfile
from pathlib import Path

import pytest

import importer
from importer.core import i18n
from importer.core.errors import ExitCode, ImporterError, NotDelivered, SourceFileError
from importer.onoffice.client import OnOfficeClient, Timeouts
from importer.output import workbook
from importer.sandbox import Sandbox
from importer.source.load import LoadOptions, load_table

from . import forkserver
from .helpers import computer, generated

PACKAGE = Path(importer.__file__).parent


def _family() -> list[type[ImporterError]]:
    for info in pkgutil.walk_packages(importer.__path__, "importer."):
        if not info.name.endswith("__main__") and "_shipped" not in info.name:
            importlib.import_module(info.name)
    found, todo = [], [ImporterError]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.append(sub)
            todo.append(sub)
    return found


def _literal(node: ast.expr) -> bool:
    """A text for people written in the code as it is (a string or f-string with a space in
    it, a sum or format of one, inside a list or tuple too): codes, keys and paths such as
    'too-large' or 'start.date' have no space."""
    if isinstance(node, ast.JoinedStr):
        return any(_literal(v) for v in node.values if isinstance(v, ast.Constant))
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and " " in node.value.strip()
    if isinstance(node, ast.BinOp):
        return _literal(node.left) or _literal(node.right)
    if isinstance(node, ast.List | ast.Tuple):
        return any(_literal(e) for e in node.elts)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr == "format" and _literal(node.func.value)
    return False


# Raised for a programmer, never shown to a user: a bug's own words stay English.
FOR_PROGRAMMERS = {"AssertionError", "TypeError", "AttributeError", "NotImplementedError"}
# ValueErrors whose text no user reads: (module, part of the text)
NEVER_SHOWN = {
    ("importer/core/contract.py", "unknown action kind"),  # the code's own action kinds
    ("importer/onoffice/client.py", "two actions share"),  # identifiers the code gives
    ("importer/core/i18n.py", "unknown language"),  # caught: click names the choices
}
# Calls that collect a problem a user reads: the mapping's p.fail(path, text), ics' fail(…)
COLLECTORS = {"fail", "warn"}


def _raised_texts_outside_the_catalogue() -> list[str]:
    """Every raise of any class, every construction of an error this package defines, every
    problem collected: a text for people in it comes from the catalogue."""
    names = {cls.__name__ for cls in _own_exceptions()} | {
        "ClickException",
        "UsageError",
        "BadParameter",
    }
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if {"sandbox", "_shipped"} & set(path.relative_to(PACKAGE).parts):
            continue  # the sandbox answers in onOffice's words; samples' generator script
        where = path.relative_to(PACKAGE.parent).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        raised = {id(n.exc) for n in ast.walk(tree) if isinstance(n, ast.Raise) and n.exc}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            # the family's own constructors: super().__init__(text) in errors.py
            own = path.name == "errors.py" and name == "__init__"
            if name in FOR_PROGRAMMERS or not (
                name in names or own or id(node) in raised or name in COLLECTORS
            ):
                continue
            texts = [*node.args, *(k.value for k in node.keywords if k.arg == "message")]
            for text in texts:
                shown = ast.unparse(text)
                if _literal(text) and not any(
                    where == w and part in shown for w, part in NEVER_SHOWN
                ):
                    found.append(f"{where}:{node.lineno}: {shown[:70]}")
    return found


def _own_exceptions() -> list[type[BaseException]]:
    """The error family and every other exception class a module of this package defines."""
    own: list[type[BaseException]] = list(_family())
    for name, module in list(sys.modules.items()):
        if name.startswith("importer.") and "sandbox" not in name:
            own += [
                value
                for value in vars(module).values()
                if isinstance(value, type)
                and issubclass(value, BaseException)
                and value.__module__ == name
            ]
    return own


def test_no_raised_error_says_a_text_outside_the_catalogue() -> None:
    assert _raised_texts_outside_the_catalogue() == []


def test_every_error_class_names_its_own_exit_code() -> None:
    family = _family()
    assert len(family) >= 15  # the family of core/errors.py and the web app's Refused
    for cls in family:
        assert isinstance(cls.__dict__.get("exit_code"), ExitCode), cls
    assert "exit_code" not in ImporterError.__dict__  # no default to fall back to
    with pytest.raises(TypeError, match="Forgetful names no exit code"):

        class Forgetful(ImporterError):
            pass


def test_the_journal_refused_is_said_in_german(tmp_path: Path, sandbox: Sandbox) -> None:
    source, mapping = generated(tmp_path, 2)
    args = ["--lang", "de", "run", str(source), "-m", str(mapping)]
    done = forkserver.run(
        [*args, "--journal", "/proc/nope/j.sqlite"], env=computer(sandbox, tmp_path), timeout=60
    )
    assert done.returncode == ExitCode.CONFIGURATION, done.stderr
    assert done.stderr.startswith("Fehler: das Journal /proc/nope/j.sqlite kann nicht verwendet")


class Keys:
    token = "t0ken-1234"
    secret = "s3cret-5678"


def test_the_unreachable_api_is_said_in_german() -> None:
    with (
        i18n.use("de"),
        OnOfficeClient(
            "https://api.onoffice-office.invalid/api.php",
            Keys(),
            timeouts=Timeouts(2, 2),
            read_retries=0,
            proxy="none",
        ) as client,
        pytest.raises(NotDelivered) as caught,
    ):
        client.account()
    assert "keine Verbindung zu https://api.onoffice-office.invalid/api.php direkt" in str(
        caught.value
    )


def test_a_refused_mapping_is_said_in_german(tmp_path: Path) -> None:
    """The office edits a mapping (or the web app's mapping page shows its problems): each
    problem in the user's language, the key paths as they are in the file."""
    source, _mapping = generated(tmp_path, 2)
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 2\nstart: Start\nfields:\n  descripton: Betreff\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONOFFICE")}
    env |= {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data")}
    done = forkserver.run(["--lang", "de", "check", str(source), "-m", str(bad)], env=env)
    assert done.returncode == ExitCode.INPUT_REJECTED, done.stderr
    assert done.stderr.splitlines() == [
        f"Fehler: {bad}: version: nur Version 1 ist bekannt",
        f"{bad}: end: geben Sie an, woraus sich das Ende ergibt: `column`, `time`, `duration` "
        "oder `minutes` (oder kennzeichnen Sie die Termine als ganztägig)",
        f"{bad}: fields.descripton: unbekannter Schlüssel; meinten Sie 'description'?",
    ]
    missing = forkserver.run(["--lang", "de", "check", str(source), "-m", "nope.yaml"], env=env)
    assert missing.stderr.strip() == "Fehler: nope.yaml: Zuordnungsdatei nicht gefunden"


def test_a_refused_workbook_is_said_in_german(tmp_path: Path) -> None:
    """A workbook whose index declares a DTD (an entity bomb's way in): refused by our own scan
    of the zip, said in German."""
    book = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(book, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaa">]><workbook>&a;</workbook>',
        )
    with i18n.use("de"), pytest.raises(SourceFileError) as caught:
        load_table(book, LoadOptions())
    assert str(caught.value) == (
        f"{book}: die Datei enthält verbotene XML-Konstrukte (eine DTD oder "
        "Entity-Deklarationen); sie wird nicht gelesen"
    )


def test_a_report_open_in_excel_is_said_in_german(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows refuses to replace a workbook open in Excel (a sharing violation, raised by
    os.replace as PermissionError), and so each other name beside it: the reason the caller
    says is the user's language, and no half-written copy stays."""

    def open_in_excel(source: object, target: object) -> None:
        raise PermissionError(13, "Der Prozess kann nicht auf die Datei zugreifen", str(target))

    monkeypatch.setattr(workbook.os, "replace", open_in_excel)
    target = tmp_path / "rows.check.xlsx"
    with i18n.use("de"), pytest.raises(PermissionError) as caught:
        workbook.write_workbook(target, [workbook.TableSheet("S", [["a"], [1]])])
    assert caught.value.strerror == (
        "weder sie noch ein anderer Name daneben lässt sich schreiben; ist sie in Excel geöffnet?"
    )
    assert list(tmp_path.iterdir()) == []
