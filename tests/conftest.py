"""Shared fixtures: the real sandbox over HTTP on 127.0.0.1, on a free port."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from importer import i18n
from importer.client import OnOfficeClient, Timeouts
from importer.sandbox import Dialect, Sandbox

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[OnOfficeClient]:
    with OnOfficeClient(sandbox.url, sandbox.credentials, timeouts=Timeouts(2, 5)) as c:
        yield c


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--sandbox-dialect",
        default=os.environ.get("SANDBOX_DIALECT", ""),
        help="Run every in-process sandbox in this dialect (point=value,... or random:SEED); "
        "tests marked 'documented' (they pin the documented shapes) are skipped then.",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "documented(*points): pins the sandbox's documented answer shapes (all, or only the "
        "named dialect points)",
    )


@pytest.fixture(autouse=True)
def _sandbox_dialect(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """With --sandbox-dialect, every Sandbox() of the test answers in that dialect."""
    text = request.config.getoption("--sandbox-dialect")
    if not text:
        return
    chosen = Dialect.parse(text)
    marker = request.node.get_closest_marker("documented")
    if marker is not None and not marker.args:
        pytest.skip("pins the documented shapes; not run under another dialect")
    if marker is not None:  # documented("conflicts"): only these points stay as documented
        chosen = replace(chosen, **{name: getattr(Dialect(), name) for name in marker.args})
    original = Sandbox.__init__

    def init(self: Sandbox, *args: Any, dialect: Any = None, **kwargs: Any) -> None:
        original(self, *args, dialect=chosen if dialect is None else dialect, **kwargs)

    monkeypatch.setattr(Sandbox, "__init__", init)


@pytest.fixture(autouse=True)
def _own_data_folder(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ledgers of in-process runs go to a folder of the test's own, never the developer's; so
    does the home folder (no test reads the developer's ~/.config/onoffice-import)."""
    monkeypatch.setenv("ONOFFICE_IMPORT_DATA", str(tmp_path_factory.mktemp("data")))
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.delenv("ONOFFICE_CONFIG", raising=False)


@pytest.fixture(autouse=True)
def _english_locale(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Messages in English whatever the developer's locale (a German one gives German), in
    this process and in the programs a test starts: the tests that speak German ask for it."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    with i18n.use("en"):
        yield
