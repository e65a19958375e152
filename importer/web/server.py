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
    folder = Path(tempfile.mkdtemp(prefix="onoffice-import-ui-"))
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
        server.server_close()
        workspace.close()
