"""Token and secret never appear in output, logs, journal, reports or results: CLI scenarios,
forced error paths and --debug included, searched raw, URL-encoded and base64-encoded."""

from __future__ import annotations

import base64
import os
import shutil
import urllib.parse
import zipfile
from pathlib import Path

import pytest

from importer.sandbox import Sandbox, load_fixtures

from . import forkserver
from .conftest import ROOT

TOKEN = "T0kenT0kenT0kenT0kenT0kenT0ken32"
SECRET = "S3cretS3cretS3cretS3cretS3cretS3cretS3cretS3cretS3cretS3cretS3c4"
WRONG = "WrongWrongWrongWrongWrongWrongWrongWrongWrongWrongWrongWrongWro1"


def forms(value: str) -> list[str]:
    raw = value.encode()
    return [
        value,
        urllib.parse.quote(value),
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode(),
    ]


def cli(args: list[str], env: dict[str, str], cwd: Path) -> str:
    run = forkserver.run(args, env={**os.environ, **env}, cwd=cwd, timeout=120)
    return run.stdout + run.stderr


def file_texts(folder: Path) -> list[str]:
    """Every file below ``folder`` as text; workbooks unzipped, SQLite as raw bytes."""
    texts = []
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as z:
                texts += [z.read(n).decode("utf-8", "replace") for n in z.namelist()]
        else:
            texts.append(path.read_bytes().decode("utf-8", "replace"))
    return texts


@pytest.fixture
def known_sandbox() -> Sandbox:
    fixtures = load_fixtures()
    fixtures.token, fixtures.secret = TOKEN, SECRET
    with Sandbox(fixtures) as sb:
        yield sb


def test_no_secret_anywhere_across_cli_scenarios(tmp_path: Path, known_sandbox: Sandbox) -> None:
    assert (known_sandbox.credentials.token, known_sandbox.credentials.secret) == (TOKEN, SECRET)
    work = tmp_path / "work"
    work.mkdir()
    for name in ("viewings.xlsx", "termine.csv"):
        shutil.copy(ROOT / "samples" / name, work / name)
    viewings, termine = (
        str(ROOT / "mappings" / "viewings.yaml"),
        str(ROOT / "mappings" / "termine.yaml"),
    )
    good = {
        "ONOFFICE_API_URL": known_sandbox.url,
        "ONOFFICE_TOKEN": TOKEN,
        "ONOFFICE_SECRET": SECRET,
    }
    wrong_secret = {**good, "ONOFFICE_SECRET": WRONG}
    wrong_token = {**good, "ONOFFICE_TOKEN": WRONG[:32]}
    nowhere = {**good, "ONOFFICE_API_URL": "http://127.0.0.1:9/api/stable/api.php"}
    config = work / "onoffice.ini"
    config.write_text(
        f"[onoffice]\nurl = {known_sandbox.url}\ntoken = {TOKEN}\nsecret = {SECRET}\n"
    )
    config.chmod(0o600)
    loose = work / "loose.ini"
    loose.write_text(config.read_text())
    loose.chmod(0o644)
    no_env = {"ONOFFICE_TOKEN": "", "ONOFFICE_SECRET": "", "ONOFFICE_API_URL": ""}
    outputs = [
        cli(["check", "viewings.xlsx", "-m", viewings, "--resolve"], good, work),
        cli(["--debug", "run", "viewings.xlsx", "-m", viewings], good, work),
        cli(["--debug", "run", "viewings.xlsx", "-m", viewings], good, work),  # re-run
        cli(["--debug", "run", "termine.csv", "-m", termine], wrong_secret, work),
        cli(["--debug", "run", "termine.csv", "-m", termine], wrong_token, work),
        cli(["--debug", "check", "termine.csv", "-m", termine, "--resolve"], wrong_secret, work),
        cli(
            ["--debug", "run", "termine.csv", "-m", termine, "--results", "x.results.xlsx"],
            nowhere,
            work,
        ),
        cli(
            [
                "run",
                "termine.csv",
                "-m",
                termine,
                "--config",
                str(config),
                "--results",
                "cfg.results.xlsx",
            ],
            no_env,
            work,
        ),
        cli(["--debug", "run", "termine.csv", "-m", termine, "--config", str(loose)], no_env, work),
    ]
    joined = "\n".join(outputs)
    assert "other users; run: chmod 600" in joined  # the loose config file was refused
    assert joined.count("onOffice refused the credentials") >= 2  # bad token, bad secret
    assert "8 created" in joined and "8 already-created" in joined
    config.unlink()
    loose.unlink()  # the config files themselves hold the secret by design
    haystack = "\n".join([joined, *file_texts(work)])
    leaks = [
        form
        for value in (TOKEN, SECRET, WRONG, WRONG[:32])
        for form in forms(value)
        if form in haystack
    ]
    assert leaks == []


def test_no_command_line_option_takes_a_token_or_secret() -> None:
    import click

    from importer.cli import cli

    names = []
    for command in cli.commands.values():
        for param in command.params:
            if isinstance(param, click.Option):
                names += [*param.opts, param.name or ""]
    assert names and not [n for n in names if "token" in n.lower() or "secret" in n.lower()]
