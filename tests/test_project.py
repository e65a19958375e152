"""Promises about the project itself: the README's commands and CI stay in step."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from importer.sandbox import Sandbox

from .conftest import ROOT


def _readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    setup = readme.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", setup)


def test_readme_has_exactly_two_setup_commands() -> None:
    commands = _readme_commands()
    assert len(commands) == 2
    assert all("\n" not in c for c in commands)


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    test_command = _readme_commands()[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test_command in ci.splitlines()


def test_the_public_names_resolve_and_nothing_else_is_exported() -> None:
    import importer

    for name in importer.__all__:
        assert getattr(importer, name) is not None, name
    assert "sign" not in importer.__all__ and "Action" not in importer.__all__
    with pytest.raises(AttributeError):
        _ = importer.no_such_name  # type: ignore[attr-defined]


def test_help_and_python_dash_m_start_without_the_heavy_libraries() -> None:
    probe = (
        "import sys; from importer.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('pandas', 'pandera', 'requests', 'openpyxl') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert "HEAVY []" in out
    module = subprocess.run(
        [sys.executable, "-m", "importer", "--help"], capture_output=True, text=True, timeout=60
    )
    assert module.returncode == 0 and "Usage:" in module.stdout


def test_every_command_in_a_fresh_interpreter(tmp_path: Path, sandbox: Sandbox) -> None:
    """demo (the README's first command), check, run and undo, each in an interpreter of its
    own: the suite's other CLI processes are forked from one that has imported everything
    (tests/forkserver.py), so an import only a fresh start misses would show here alone."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONOFFICE")}
    env |= {
        "ONOFFICE_API_URL": sandbox.url,
        "ONOFFICE_TOKEN": sandbox.credentials.token,
        "ONOFFICE_SECRET": sandbox.credentials.secret,
    }
    shutil.copy(ROOT / "samples" / "viewings.xlsx", tmp_path / "viewings.xlsx")
    mapping = str(ROOT / "mappings" / "viewings.yaml")

    def fresh(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "importer", *args],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            cwd=tmp_path,
        )

    demo = fresh("demo", "--out", "demo")
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "Second run of the same file: 0 created, 8 already created" in demo.stdout
    checked = fresh("check", "viewings.xlsx", "-m", mapping, "--resolve")
    assert checked.returncode == 1 and "8 valid" in checked.stdout, checked.stdout + checked.stderr
    done = fresh("run", "viewings.xlsx", "-m", mapping)
    assert done.returncode == 1 and "8 created" in done.stdout, done.stdout + done.stderr
    assert sandbox.store.count_appointments() == 8
    undone = fresh("undo", "viewings.results.xlsx", "--yes")
    assert undone.returncode == 0 and "8 deleted" in undone.stdout, undone.stdout + undone.stderr
    assert sandbox.store.count_appointments() == 0


def test_every_problem_code_is_registered_and_documented() -> None:
    """The registry (importer.core.problems.CODES) and mappings/README.md name the same codes, and
    every code the code base can raise is in it."""
    from importer.core.problems import CODES

    readme = (ROOT / "mappings" / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Problem codes", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`([a-z]+(?:-[a-z0-9]+)+)`", section))
    assert documented == set(CODES)
    source = "\n".join(
        (ROOT / "importer" / name).read_text(encoding="utf-8")
        for name in (
            "mapping/convert.py",
            "mapping/schedule.py",
            "mapping/values.py",
            "mapping/lookup.py",
            "rules/schema.py",
            "rules/check.py",
            "rules/conflicts.py",
            "run/identity.py",
        )
    )
    raised = set(re.findall(r'"([a-z]+(?:-[a-z0-9]+)+)"', source))
    not_codes = {"all-day", "e-mail"}  # words in messages, not codes
    not_codes |= {c for c in raised if c.startswith("file-")}  # a file's codes, not a row's
    assert raised - not_codes <= set(CODES), sorted(raised - not_codes - set(CODES))
