"""The safety rules of a server on the user's own machine (docs: ../shared/ui-notes.md).

- It listens on 127.0.0.1 only (:mod:`importer.web.server`).
- Every request needs the session token: in the first URL (``?token=``), then in an HttpOnly,
  SameSite=Strict cookie, the pattern Jupyter uses. Without it: 403.
- The Host header must name this server (``127.0.0.1:PORT`` or ``localhost:PORT``): a page
  of another site that rebinds its DNS name to 127.0.0.1 is refused.
- Every POST carries the CSRF token of the session (a form field or the ``X-CSRF-Token``
  header), and a browser's ``Origin``, when sent, must be this server: a page of another site
  cannot post to it. No CORS headers are ever sent.
- Request bodies are capped (``MAX_CONTENT_LENGTH``) before they are read: 413.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from flask import Flask, abort, redirect, request
from werkzeug.wrappers import Response

from ..core.i18n import _

COOKIE = "onoffice_import_session"  # and the port: browsers share cookies across ports
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
KEPT = 30 * 24 * 3600  # seconds a browser keeps the cookies (its workspace survives its restart)


def kept(response: Response, name: str, value: str) -> None:
    """A cookie of the app's: kept :data:`KEPT` seconds, for this app's pages only, never
    read by scripts nor sent from another site."""
    response.set_cookie(name, value, max_age=KEPT, httponly=True, samesite="Strict", path="/")


@dataclass
class Guard:
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    port: int = 0  # set once the server is bound; 0 in the test client: any port

    @property
    def cookie(self) -> str:
        """One cookie per server: a second app on another port does not overwrite this one's
        token (browsers keep cookies per host, not per port)."""
        return f"{COOKIE}_{self.port}"

    @property
    def browser_cookie(self) -> str:
        """Which browser this is (its own workspace, :class:`importer.web.app.Sessions`)."""
        return f"{COOKIE}_{self.port}_browser"

    def hosts(self) -> set[str]:
        names = ("127.0.0.1", "localhost")
        if self.port:
            return {f"{name}:{self.port}" for name in names}
        return {*names, *(f"{name}:80" for name in names)}

    def install(self, app: Flask) -> None:
        app.before_request(self.before)
        app.after_request(self.after)

    def before(self) -> Response | None:
        if request.host not in self.hosts():
            abort(400, _("unknown address: open the one the program printed"))
        given = request.args.get("token") or request.cookies.get(self.cookie, "")
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            abort(403, _("this page needs the address the program printed (with its token)"))
        if request.method == "GET" and "token" in request.args:
            # the token leaves the address bar (and the history) for the cookie
            response = redirect(request.path, 303)
            # kept when the browser is closed and opened again (the app still running): the
            # office's next morning needs no new address; a new app has a new token anyway
            kept(response, self.cookie, self.token)
            return response
        if request.method not in SAFE_METHODS:
            origin = request.headers.get("Origin")
            if origin is not None and not self.own(origin):
                abort(403, _("refused: the request came from another web site"))
            sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf", "")
            if not hmac.compare_digest(sent.encode(), self.csrf.encode()):
                abort(403, _("the form has expired; reload the page and try again"))
        return None

    def own(self, origin: str) -> bool:
        """An Origin of this server: its scheme (http, it serves no https) and its host."""
        parts = urlsplit(origin)
        return parts.scheme == "http" and parts.netloc in self.hosts() and not parts.path

    def after(self, response: Response) -> Response:
        # Not mutated (bench/mutation.py): a header name's case mutants are equivalent (names
        # are case-insensitive, RFC 9110 §5.1); tests/test_guard.py pins every value.
        response.headers["X-Frame-Options"] = "DENY"  # pragma: no mutate
        response.headers["X-Content-Type-Options"] = "nosniff"  # pragma: no mutate
        # "no-referrer" makes Origin "null"
        response.headers["Referrer-Policy"] = "same-origin"  # pragma: no mutate
        response.headers["Cache-Control"] = "no-store"  # pragma: no mutate
        response.headers["Content-Security-Policy"] = (  # pragma: no mutate
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'"
        )
        return response
