"""The web app's guard, rule by rule, on a Flask app with one page (importer/web/guard.py).

The app is real (Flask's own test client sends the requests through the WSGI stack); the page
behind the guard only answers "ok", so every refusal here is the guard's.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from importer.web.guard import COOKIE, Guard

PORT = 8765
HOST = f"127.0.0.1:{PORT}"
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'"
)


@pytest.fixture
def guard() -> Guard:
    return Guard(port=PORT)


@pytest.fixture
def browser(guard: Guard) -> FlaskClient:
    """A browser that has opened the printed address (its token now in the cookie)."""
    app = Flask(__name__)
    guard.install(app)

    @app.route("/page", methods=["GET", "POST", "HEAD", "OPTIONS", "PUT"])
    def page() -> str:
        return "ok"

    client = app.test_client()
    first = client.get(f"/page?token={guard.token}", headers={"Host": HOST})
    assert first.status_code == 303 and first.headers["Location"] == "/page"
    return client


def test_tokens_are_long_random_and_distinct() -> None:
    """Each server has its own 256-bit token and CSRF token (43 URL-safe characters)."""
    one, two = Guard(), Guard()
    assert len(one.token) == len(one.csrf) == 43
    assert len({one.token, one.csrf, two.token, two.csrf}) == 4


def test_the_cookie_and_the_hosts_are_the_ports() -> None:
    """One cookie per port; the hosts are 127.0.0.1 and localhost with the port (any port,
    i.e. none or 80, in the test client)."""
    guard = Guard(port=PORT)
    assert guard.cookie == f"{COOKIE}_{PORT}" == "onoffice_import_session_8765"
    assert guard.browser_cookie == "onoffice_import_session_8765_browser"
    assert guard.hosts() == {"127.0.0.1:8765", "localhost:8765"}
    assert Guard().hosts() == {"127.0.0.1", "localhost", "127.0.0.1:80", "localhost:80"}


def test_the_printed_address_sets_a_strict_http_only_cookie(guard: Guard) -> None:
    """The token in the first address is traded for an HttpOnly, SameSite=Strict cookie on the
    whole site, and the browser is sent to the address without it (303)."""
    app = Flask(__name__)
    guard.install(app)
    app.add_url_rule("/a/b", "b", lambda: "ok")
    answer = app.test_client().get(f"/a/b?token={guard.token}&x=1", headers={"Host": HOST})
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/a/b"
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith(f"{guard.cookie}={guard.token};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie


def test_without_the_token_every_page_is_forbidden(guard: Guard, browser: FlaskClient) -> None:
    """No token, or a wrong one, in the address or the cookie: 403 with the reason."""
    app = Flask(__name__)
    guard.install(app)
    app.add_url_rule("/page", "page", lambda: "ok")
    stranger = app.test_client()
    for url in ("/page", "/page?token=wrong", f"/page?token={guard.token[:-1]}"):
        answer = stranger.get(url, headers={"Host": HOST})
        assert answer.status_code == 403
        assert (
            b"<p>this page needs the address the program printed (with its token)</p>"
            in answer.data
        )
    stranger.set_cookie(guard.cookie, "wrong", domain="127.0.0.1")
    assert stranger.get("/page", headers={"Host": HOST}).status_code == 403
    assert browser.get("/page", headers={"Host": HOST}).data == b"ok"


def test_another_host_name_is_refused(browser: FlaskClient) -> None:
    """A page of another site that rebinds its name to 127.0.0.1 sends its own Host: 400."""
    for host in ("evil.example:8765", "127.0.0.1:8766", "127.0.0.1"):
        answer = browser.get("/page", headers={"Host": host})
        assert answer.status_code == 400
        assert b"<p>unknown address: open the one the program printed</p>" in answer.data
    assert browser.get("/page", headers={"Host": HOST}).status_code == 200


def test_localhost_is_this_server_too(guard: Guard, browser: FlaskClient) -> None:
    """localhost with the port is accepted as 127.0.0.1 is (its own cookie, so its own token)."""
    there = {"Host": f"localhost:{PORT}"}
    assert browser.get(f"/page?token={guard.token}", headers=there).status_code == 303


def test_a_post_needs_the_csrf_token_and_this_sites_origin(
    guard: Guard, browser: FlaskClient
) -> None:
    """A write carries the session's CSRF token (header or form field); an Origin, when sent,
    is this server's; the safe methods need neither."""
    headers = {"Host": HOST}
    assert browser.post("/page", headers={**headers, "X-CSRF-Token": guard.csrf}).data == b"ok"
    assert browser.post("/page", headers=headers, data={"csrf": guard.csrf}).data == b"ok"
    own = {**headers, "Origin": f"http://{HOST}", "X-CSRF-Token": guard.csrf}
    assert browser.post("/page", headers=own).status_code == 200
    for sent in ({}, {"X-CSRF-Token": "wrong"}, {"X-CSRF-Token": guard.token}):
        answer = browser.post("/page", headers={**headers, **sent}, data={"csrf": "wrong"})
        assert answer.status_code == 403
        assert b"<p>the form has expired; reload the page and try again</p>" in answer.data
    assert browser.put("/page", headers=headers).status_code == 403
    foreign = {**headers, "Origin": "http://evil.example", "X-CSRF-Token": guard.csrf}
    answer = browser.post("/page", headers=foreign)
    assert answer.status_code == 403
    assert b"<p>refused: the request came from another web site</p>" in answer.data
    for method in ("HEAD", "OPTIONS"):
        assert browser.open("/page", method=method, headers=headers).status_code == 200


def test_a_post_with_the_token_in_its_address_is_not_redirected(
    guard: Guard, browser: FlaskClient
) -> None:
    """Only a GET trades the address's token for the cookie; a POST is judged as it is."""
    headers = {"Host": HOST, "X-CSRF-Token": guard.csrf}
    assert browser.post(f"/page?token={guard.token}", headers=headers).data == b"ok"


def test_only_this_servers_own_http_origin_is_its_own(guard: Guard) -> None:
    """Scheme http, host with this port, no path: anything else is another site."""
    assert guard.own("http://127.0.0.1:8765") and guard.own("http://localhost:8765")
    for origin in (
        "https://127.0.0.1:8765",
        "http://127.0.0.1:8765/",
        "http://127.0.0.1:8766",
        "http://evil.example",
        "null",
    ):
        assert not guard.own(origin), origin


def test_every_answer_forbids_framing_sniffing_caching_and_foreign_content(
    browser: FlaskClient,
) -> None:
    """The security headers on every answer, refusals included."""
    for answer in (
        browser.get("/page", headers={"Host": HOST}),
        browser.get("/page", headers={"Host": "evil.example"}),
    ):
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Referrer-Policy"] == "same-origin"
        assert answer.headers["Cache-Control"] == "no-store"
        assert answer.headers["Content-Security-Policy"] == CSP
        assert "Access-Control-Allow-Origin" not in answer.headers
