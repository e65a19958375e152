"""Shared fixtures: the real sandbox over HTTP on 127.0.0.1, on a free port."""

from __future__ import annotations

import os
import random
import signal
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from importer.core import i18n
from importer.onoffice.client import OnOfficeClient, Timeouts
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


# These modules run twice: against the documented sandbox, and under one random dialect per
# test session (each UNDOCUMENTED point switched at random; see test_dialects.py).
SWEPT = {
    "test_identity",  # issue 30: the identity tests under each dialect point the session draws
    "test_run",
    "test_undo",
    "test_undo_elsewhere",
    "test_conflicts",
    "test_living",
    "test_truth",
}
# Of these, the longest sweeps (about 90 test-seconds together) run their random-dialect reading
# in CI's share (marker ci_share, with the seed printed): the default run keeps the documented one.
SWEPT_IN_CI_SHARE = {"test_identity", "test_living"}


def dialect_seed() -> int:
    """DIALECT_SEED, else one chosen for this test session. It is chosen in pytest_configure,
    before pytest-xdist starts its workers, which inherit it and so collect the same tests."""
    if not os.environ.get("DIALECT_SEED"):
        os.environ["DIALECT_SEED"] = str(random.SystemRandom().randrange(10**6))
    return int(os.environ["DIALECT_SEED"])


def pytest_configure(config: pytest.Config) -> None:
    # A suite started in the background (`pytest &`) inherits SIGINT ignored, and so would the
    # processes it starts: the Ctrl-C tests need it delivered, as in a terminal.
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    dialect_seed()
    config.addinivalue_line(
        "markers",
        "documented(*points): pins the sandbox's documented answer shapes (all, or only the "
        "named dialect points)",
    )


def pytest_report_header(config: pytest.Config) -> str:
    seed = dialect_seed()
    return f"random dialects from seed {seed} (replay with DIALECT_SEED={seed})"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    seed = dialect_seed()
    terminalreporter.write_line(f"random dialects from seed {seed} (replay: DIALECT_SEED={seed})")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """The swept modules' tests once more under this session's random dialect (not those that
    pin the documented shapes, nor when --sandbox-dialect chooses one for every test)."""
    module = metafunc.module.__name__.rsplit(".", 1)[-1]
    if module not in SWEPT or metafunc.config.getoption("--sandbox-dialect"):
        return
    marker = metafunc.definition.get_closest_marker("documented")
    if marker is not None and not marker.args:
        return
    marks = [pytest.mark.ci_share] if module in SWEPT_IN_CI_SHARE else []
    metafunc.parametrize(
        "swept_dialect",
        ["", pytest.param(f"random:{dialect_seed()}", marks=marks)],
        ids=["documented", "random-dialect"],
        indirect=True,
    )


@pytest.fixture
def swept_dialect(request: pytest.FixtureRequest) -> str:
    """For a swept module's test: "" (documented) or this session's random dialect."""
    return str(getattr(request, "param", ""))


@pytest.fixture(autouse=True)
def _sandbox_dialect(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, swept_dialect: str
) -> None:
    """With --sandbox-dialect (or in a swept module's random run), every Sandbox() of the test
    answers in that dialect."""
    text = request.config.getoption("--sandbox-dialect") or swept_dialect
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
