"""Every message in the user's language, every error with its own exit code.

A raised error's text is the catalogue's (``_()``), never a literal or an f-string the German
catalogue cannot hold: checked in the source of every module (the sandbox apart: it plays
onOffice, whose messages are its own). And each class of the error family names its exit code.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import importer
from importer.core import i18n
from importer.core.errors import ExitCode, ImporterError, NotDelivered
from importer.onoffice.client import OnOfficeClient, Timeouts
from importer.sandbox import Sandbox

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
    """A text written in the code as it is: a string, an f-string, a sum or format of one."""
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.BinOp):
        return _literal(node.left) or _literal(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr == "format" and _literal(node.func.value)
    return False


def _raised_texts_outside_the_catalogue() -> list[str]:
    names = {cls.__name__ for cls in _family()} | {
        "ImporterError",
        "ClickException",
        "UsageError",
        "BadParameter",
    }
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "sandbox" in path.relative_to(PACKAGE).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            in_family = name in names
            # the family's own constructors: super().__init__(text) in errors.py
            own = path.name == "errors.py" and name == "__init__"
            if not (in_family or own):
                continue
            texts = [*node.args, *(k.value for k in node.keywords if k.arg == "message")]
            for text in texts:
                if _literal(text):
                    where = path.relative_to(PACKAGE.parent)
                    found.append(f"{where}:{node.lineno}: {ast.unparse(text)[:70]}")
    return found


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
