"""The tool as a colleague installs it: the built wheel, not the checkout.

The wheel is built from this checkout (``pip wheel``) and installed, not editable, into a
folder outside it (``pip install --target``, its dependencies taken from this environment);
the commands then run in an empty folder with only that folder first on the path. `.ci/run`
does the same into a fresh venv with every dependency from the index.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from .conftest import ROOT

PARTS = ["importer", "mappings", "samples", "pyproject.toml", "README.md"]
# every mapping of the checkout's mappings/ folder ships, known by its name
SHIPPED = sorted(p.stem for p in (ROOT / "mappings").glob("*.yaml"))


def build_wheel(folder: Path) -> Path:
    """The wheel, built from a copy of the checkout's tracked files (no build/ left over from
    another build, none of its own left in the checkout)."""
    tree = folder / "tree"
    tracked = (
        subprocess.run(  # the checkout's files as a clone has them, with new ones not ignored
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", *PARTS],
            cwd=ROOT,
            capture_output=True,
            check=True,
            timeout=30,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, tracked):
        source, copy = ROOT / name, tree / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            copy.symlink_to(os.readlink(source))
        elif source.is_file():
            shutil.copy2(source, copy)
    for compiled in (ROOT / "importer" / "locale").rglob("*.mo"):  # compiled, maybe untracked
        shutil.copy2(compiled, tree / compiled.relative_to(ROOT))
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(folder), str(tree)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    (built,) = folder.glob("onoffice_import-*.whl")
    return built


def check_contents(wheel: Path) -> None:
    """Every file the tool reads at run time is in the wheel: each of the package's own that
    is not code (the web app's pages and static files, both languages' catalogues, the sandbox's
    agency), every sample and every mapping; a file added later is counted too."""
    names = set(zipfile.ZipFile(wheel).namelist())
    tracked = subprocess.run(
        ["git", "ls-files", "importer", "samples", "mappings"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.split()
    shipped = {"importer/locale/de/LC_MESSAGES/onoffice_import.mo"}
    for name in tracked:
        top, _slash, rest = name.partition("/")
        if top == "importer" and not name.endswith((".py", "README.md")):
            shipped.add(name)  # the sandbox's README.md is for developers
        elif top in ("samples", "mappings") and not name.endswith(".png"):
            shipped.add(f"importer/_shipped/{top}/{rest}")
    assert len(shipped) > 40 and shipped - names == set()
    for kind in ("web/templates/*.html", "web/static/*", "locale/*/LC_MESSAGES/*.mo"):
        assert list((ROOT / "importer").glob(kind)), kind
    assert not any(n.endswith(".png") for n in names)  # the README's pictures stay behind


def test_every_package_is_listed_in_pyproject() -> None:
    """pyproject lists the packages (the shipped folders need a list); a new one is not
    forgotten."""
    listed = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"
    ]["packages"]
    on_disk = {
        ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "importer").rglob("__init__.py")
    }
    assert set(listed) == on_disk | {"importer._shipped.mappings", "importer._shipped.samples"}


@pytest.mark.ci_share  # builds and installs a wheel (20 s); .ci/run does so from a clean clone too
def test_the_installed_wheel_runs_the_demo_and_knows_its_mappings(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    check_contents(wheel)
    target, empty = tmp_path / "site", tmp_path / "office"
    empty.mkdir()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONOFFICE", "PYTHON"))}
    env |= {"PYTHONPATH": str(target), "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    env["XDG_DATA_HOME"] = str(tmp_path / "data")

    def installed(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "importer", *args],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            cwd=empty,
        )

    where = subprocess.run(
        [sys.executable, "-c", "import importer; print(importer.__file__)"],
        capture_output=True,
        text=True,
        env=env,
        cwd=empty,
        check=True,
    ).stdout
    assert where.startswith(str(target)), where  # the wheel's copy, not the checkout's
    demo = installed("demo")
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "Second run of the same file: 0 created, 8 already created" in demo.stdout
    assert "--only-failed and --mapping viewings." in demo.stdout  # not a path
    assert (empty / "onoffice-demo" / "viewings.results.xlsx").is_file()
    listed = installed("mapping", "list")
    assert listed.returncode == 0, listed.stderr
    names = re.findall(r"^(\S+)\s", listed.stdout, re.MULTILINE)
    assert names[: len(SHIPPED)] == SHIPPED
    assert str(target) in listed.stdout
    sample = target / "importer" / "_shipped" / "samples" / "outlook-de.csv"
    checked = installed("check", str(sample), "--mapping", "outlook-csv", "--sandbox", "--resolve")
    assert checked.returncode in (0, 1), checked.stdout + checked.stderr
    assert "outlook-csv.yaml" in checked.stdout and "valid" in checked.stdout
    seeded = subprocess.run(  # the web app's mappings folder of an installed tool
        [sys.executable, "-c", "from importer.web.server import default_mappings as d; print(d())"],
        capture_output=True,
        text=True,
        env=env,
        cwd=empty,
        check=True,
    ).stdout.strip()
    assert sorted(p.name for p in Path(seeded).glob("*.yaml"))[-1] == "viewings.yaml"
    german = installed("--lang", "de", "check", "onoffice-demo/viewings.xlsx", "-m", "viewings")
    assert german.returncode == 1 and "14 Zeilen gelesen: 10 gültig" in german.stdout, (
        german.stdout + german.stderr
    )
    app = subprocess.run(
        [sys.executable, "-c", WEB_APP], capture_output=True, text=True, env=env, cwd=empty
    )
    assert app.returncode == 0, app.stderr
    page, css, script = app.stdout.split("\n", 2)
    assert page == "page 200 de Verbindung" and css.startswith("css 200 ")
    assert script.startswith("js 200 ")


# The installed web app, as the office starts it (`onoffice-import ui`): its first page in the
# browser's language (German), its stylesheet and its script, then stopped.
WEB_APP = """
import threading, urllib.request
from importer.web import server
app, workspace, url = server.build()
threading.Thread(target=app.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
browser.addheaders = [("Accept-Language", "de-DE,de;q=0.9")]
try:
    with browser.open(url, timeout=30) as answer:
        page = answer.read().decode()
    german = '<html lang="de">' in page and "Verbindung" in page
    print("page", answer.status, "de" if german else "not German", "Verbindung")
    home = url.split("?")[0]
    for kind, name in (("css", "app.css"), ("js", "app.js")):
        with browser.open(f"{home}static/{name}", timeout=30) as answer:
            print(kind, answer.status, len(answer.read()))
finally:
    app.shutdown()
    server.stop(app, workspace, print)
"""


def test_a_mapping_by_name_is_the_users_own_first_then_the_shipped_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from importer.core import shipped

    monkeypatch.chdir(tmp_path)
    assert shipped.mapping(Path("viewings")) == ROOT / "mappings" / "viewings.yaml"
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "viewings.yaml").write_text("start: Start\n", encoding="utf-8")
    assert shipped.mapping(Path("viewings")) == Path("mappings/viewings.yaml")
    assert shipped.mapping(Path("no-such-mapping")) == Path("no-such-mapping")  # its reader says
    assert shipped.mapping(Path("../viewings")) == Path("../viewings")  # a path, never a name
    assert list(shipped.mappings()) == SHIPPED
