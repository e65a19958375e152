"""The house's one rule: a stage never imports a later one (issue 24).

The stages in pipeline order, each a subpackage of ``importer``; the front (the public calls
in ``importer.api`` and ``importer/__init__``, the CLI, the web app) may import any of them.
Every import counts: at the top of a module, inside a function, under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "importer"
STAGES = ["core", "onoffice", "source", "mapping", "rules", "run", "output"]
FRONT = {"api", "cli", "__init__", "__main__", "web"}
APART = {"sandbox"}  # the sandbox stands alone: it is onOffice, not the importer


def modules(package: Path = PACKAGE) -> list[tuple[str, Path]]:
    """Every module of ``package`` as (dotted name under it, path)."""
    found = []
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package).with_suffix("").parts
        found.append((".".join(parts), path))
    return found


def imported(name: str, path: Path) -> set[str]:
    """The importer modules ``path`` imports, as dotted names under ``importer``."""
    here = name.split(".")[:-1]  # the package the module is in
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)]
                target = [*base, *(node.module.split(".") if node.module else [])]
            elif node.module and node.module.split(".")[0] == "importer":
                target = node.module.split(".")[1:]
            else:
                continue
            for alias in node.names:
                out.add(".".join([*target, alias.name]))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "importer":
                    out.add(".".join(alias.name.split(".")[1:]))
    return out


def _stage(dotted: str) -> str:
    return dotted.split(".")[0] if dotted else "__init__"


@pytest.mark.parametrize(("name", "path"), modules(), ids=lambda v: str(v))
def test_no_stage_imports_a_later_one(name: str, path: Path) -> None:
    own = _stage(name)
    if own in FRONT or own == "locale":
        return
    for target in imported(name, path):
        other = _stage(target)
        if own in APART:
            assert other in APART, f"{name} imports {target}: the sandbox stands alone"
            continue
        assert other not in FRONT, f"{name} imports {target}, the front"
        assert other in STAGES, f"{name} imports {target}, which is in no stage"
        assert STAGES.index(other) <= STAGES.index(own), (
            f"{name} ({own}) imports {target} ({other}), a later stage"
        )


def test_every_module_is_in_a_stage() -> None:
    """No module lies about loose beside the stages: each is in one, or is the front."""
    loose = {
        name for name, _path in modules() if _stage(name) not in {*STAGES, *FRONT, *APART, "locale"}
    }
    assert not loose, sorted(loose)


def test_the_rule_is_not_vacuous() -> None:
    """The walk finds the imports it judges: the run imports the rules, the output the run."""
    found = dict(modules())
    assert "rules.check.CheckReport" in imported("run.runner", found["run.runner"])
    assert "run.runner.STATUSES" in imported("output.results", found["output.results"])


def test_the_public_names_stay_and_the_old_module_places_are_gone() -> None:
    """Public API kept: the top-level names as before. The modules' old places (importer.client,
    importer.submit, importer.mapping's old names) went in this version, as the README said:
    nothing rewrites a module's identity, so reloading one reloads it (in a fresh interpreter,
    so that no earlier import hides anything)."""
    code = (
        "import importlib, importer\n"
        "from importer.onoffice.client import OnOfficeClient\n"
        "assert importer.OnOfficeClient is OnOfficeClient\n"
        "assert callable(importer.check) and callable(importer.run_import)\n"
        "assert callable(importer.undo_import) and callable(importer.load_mapping)\n"
        "from importer.sandbox import Sandbox\n"
        "for old in ['importer.client', 'importer.submit', 'importer.journal']:\n"
        "    try:\n"
        "        importlib.import_module(old)\n"
        "    except ModuleNotFoundError:\n"
        "        pass\n"
        "    else:\n"
        "        raise AssertionError(old + ' still imports')\n"
        "import importer.mapping\n"
        "assert not hasattr(importer.mapping, 'load_mapping')\n"
        "import importer.onoffice.client as client\n"
        "before = client.OnOfficeClient\n"
        "assert importlib.reload(client) is client\n"
        "assert client.OnOfficeClient is not before, 'the reload ran nothing'\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stdout.strip() == "ok", done.stderr
