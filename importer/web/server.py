"""``onoffice-import ui``: serve the web app on 127.0.0.1 until Ctrl-C."""

from __future__ import annotations

import html
import logging
import os
import shutil
import tempfile
import webbrowser
from collections.abc import Callable
from pathlib import Path

from werkzeug.serving import BaseWSGIServer, make_server

from ..core import shipped
from ..core.i18n import _
from ..output.workbook import alive
from ..run.journal import data_dir
from .app import create_app
from .guard import Guard
from .workspace import Workspace

HOST = "127.0.0.1"  # never another interface: the app acts with the user's credentials


def default_mappings() -> Path:
    """The checkout's ``mappings/`` (where the CLI's examples are), else one in the data folder,
    which starts with a copy of the mappings that come with the tool (installed from a wheel)."""
    checkout = Path(__file__).resolve().parents[2] / "mappings"
    if checkout.is_dir():
        return checkout
    own = data_dir() / "mappings"
    if not own.is_dir():
        own.mkdir(parents=True)
        for path in shipped.mappings().values():
            shutil.copyfile(path, own / path.name)
    return own


FOLDER_PREFIX = "onoffice-import-ui-"


def private_folder() -> Path:
    """The app's private folder in the temp folder, named with this process's id. Folders an
    app that has ended left there are removed first: on Windows a file another program held
    open when the app stopped (an upload opened in Excel) could not be removed with it, and
    an app ended at once (Task Manager) removes nothing."""
    for left in Path(tempfile.gettempdir()).glob(f"{FOLDER_PREFIX}*-*"):
        pid = left.name[len(FOLDER_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and not alive(int(pid)) and left.is_dir():
            shutil.rmtree(left, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-"))


def build(
    *,
    port: int = 0,
    sandbox: bool = False,
    config: Path | None = None,
    mappings: Path | None = None,
    results: Path | None = None,
) -> tuple[BaseWSGIServer, Workspace, str]:
    """The bound server, its workspace and the first URL (with the session token)."""
    # werkzeug's request log would print the first address, token and all
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    folder = private_folder()
    workspace = Workspace(
        folder=folder,
        mappings=mappings or default_mappings(),
        results=results or data_dir() / "results",
        sandbox=sandbox,
        practice=data_dir() / "practice",  # practice imports stay in History, undoable
        config=config,
    )
    guard = Guard()
    app = create_app(workspace, guard)
    server = make_server(HOST, port, app, threaded=True)
    guard.port = server.server_port
    return server, workspace, f"http://{HOST}:{server.server_port}/?token={guard.token}"


def _opener(folder: Path, url: str) -> str:
    """A page in the private folder that forwards to ``url``: the browser is started with its
    file name, so the token never stands on a command line other users can read (Jupyter's
    way)."""
    page = folder / "open.html"
    descriptor = os.open(page, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    link = html.escape(url, quote=True)
    with os.fdopen(descriptor, "w", encoding="utf-8") as f:
        f.write('<!doctype html><meta charset="utf-8">\n<meta http-equiv="refresh" ')
        f.write(f'content="0;url={link}">\n<a href="{link}">onoffice-import</a>\n')
    return page.as_uri()


def serve(
    *,
    port: int = 0,
    open_browser: bool = True,
    sandbox: bool = False,
    config: Path | None = None,
    say: Callable[[str], None] = print,
) -> None:
    server, workspace, url = build(port=port, sandbox=sandbox, config=config)
    say(url)
    if open_browser:
        webbrowser.open(_opener(workspace.folder, url))
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        stop(server, workspace, say)


def stop(server: BaseWSGIServer, workspace: Workspace, say: Callable[[str], None]) -> None:
    """The server closed, the workspace's jobs ended and its folder removed, or said where a
    part of it stays (never silently: the uploads in it are the office's data)."""
    server.server_close()
    left = workspace.close()
    if left is not None:
        say(
            _(
                "The app's temporary folder {folder} could not be removed entirely (is a file "
                "in it open, in Excel?); it is removed when the app starts next."
            ).format(folder=left)
        )
