"""The API client against the real sandbox: signing, envelope, typed results and errors."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import traceback
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import requests

from importer.core import contract
from importer.core.errors import (
    ActionRefused,
    AuthenticationError,
    ClockError,
    MalformedResponse,
    NotDelivered,
    OutcomeUnknown,
)
from importer.onoffice.client import Action, Credentials, OnOfficeClient, Timeouts, sign
from importer.run.submit import run_import
from importer.sandbox import Faults, Sandbox

from .helpers import FAST, client_for, generated

APPOINTMENT = {
    "data": {
        "start_dt": "2026-08-01 17:45:00",
        "end_dt": "2026-08-01 18:00:00",
        "description": "Besichtigung",
    }
}


def test_hmac_v2_matches_documented_vector() -> None:
    mac = sign(123456789, "dX5hkIIU6W", "estateCategories", contract.action_id("get"), "dhY8h7FeU9")
    assert mac == "F9OXyaJv7p+bLkwGDGV7ZUmfYgjH2E24zpsxY5/nVDk="


def test_hmac_v2_matches_sdk_unit_test_vector() -> None:
    mac = sign(
        123456789,
        "mgjIQkNRnaqggVzy9cZW",
        "estateCategories",
        contract.action_id("get"),
        "yOJobbhGLXdp90XxvxedFhH7073L9U",
    )
    assert mac == "dsvg3r4AFcQXges0MZ+3auzQVfnEB39pLkKSgmm9Wvg="


def test_envelope_has_documented_shape_and_fresh_timestamp() -> None:
    client = OnOfficeClient("http://127.0.0.1:9/x", Credentials("tok", "sec"), clock=lambda: 1000.7)
    body = client.envelope([Action("get", "users", {}, identifier="u")])
    (action,) = body["request"]["actions"]
    assert body["token"] == "tok"
    assert action["timestamp"] == 1000
    assert action["hmac_version"] == "2"
    assert action["hmac"] == sign(1000, "tok", "users", contract.action_id("get"), "sec")
    assert set(action) == {
        "actionid",
        "resourceid",
        "resourcetype",
        "identifier",
        "timestamp",
        "hmac",
        "hmac_version",
        "parameters",
    }


@pytest.mark.documented
def test_create_and_read_back(client: OnOfficeClient) -> None:
    new_id = client.create_appointment(APPOINTMENT, identifier="row-1")
    record = client.read_appointment(new_id)
    assert record is not None
    assert record["description"] == "Besichtigung"
    assert record["start_dt"] == "2026-08-01 17:45:00"
    assert client.read_appointment(999_999) is None


def test_refused_action_carries_code_message_and_action(client: OnOfficeClient) -> None:
    bad = {"data": {**APPOINTMENT["data"], "erinnerung": "10 minutes"}}
    with pytest.raises(ActionRefused) as caught:
        client.create_appointment(bad, identifier="row-9")
    assert caught.value.errorcode == 255
    assert "erinnerung" in caught.value.server_message
    assert caught.value.identifier == "row-9"
    assert caught.value.action is not None and "create" in caught.value.action


def test_multi_action_request_returns_one_outcome_per_action_in_order(
    client: OnOfficeClient,
) -> None:
    bad = {"data": {**APPOINTMENT["data"], "end_dt": "2026-08-01 17:00:00"}}
    outcomes = client.send(
        [
            Action("create", "calendar", APPOINTMENT, identifier="a"),
            Action("create", "calendar", bad, identifier="b"),
            Action("get", "users", {}, identifier="c"),
        ]
    )
    assert [type(o).__name__ for o in outcomes] == ["ActionResult", "ActionRefused", "ActionResult"]
    assert outcomes[1].errorcode == 93
    assert client.requests_sent == 1


def test_wrong_token_raises_authentication_error(sandbox: Sandbox) -> None:
    creds = Credentials("x" * 32, sandbox.credentials.secret)
    with OnOfficeClient(sandbox.url, creds) as c, pytest.raises(AuthenticationError) as caught:
        c.get_users()
    assert caught.value.errorcode == 22


def test_wrong_secret_raises_authentication_error(sandbox: Sandbox) -> None:
    creds = Credentials(sandbox.credentials.token, "y" * 64)
    with OnOfficeClient(sandbox.url, creds) as c, pytest.raises(AuthenticationError) as caught:
        c.get_users()
    assert caught.value.errorcode == 137


@pytest.mark.parametrize("offset", [-600, 600])
def test_timestamp_ten_minutes_off_raises_clock_error(sandbox: Sandbox, offset: int) -> None:
    skewed = OnOfficeClient(sandbox.url, sandbox.credentials, clock=lambda: time.time() + offset)
    with skewed, pytest.raises(ClockError, match="check this computer's clock"):
        skewed.get_users()


@pytest.mark.documented
def test_a_v2_signature_without_hmac_version_is_refused(sandbox: Sandbox) -> None:
    """Without the version the legacy v1 check applies, which a v2 signature fails."""
    client = OnOfficeClient(sandbox.url, sandbox.credentials)
    body = client.envelope([Action("get", "users", {})])
    del body["request"]["actions"][0]["hmac_version"]
    answer = requests.post(sandbox.url, json=body, timeout=5).json()
    assert answer["response"]["results"][0]["status"]["errorcode"] == 137
    assert answer["status"]["errorcode"] == 97


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_connection_refused_is_not_delivered() -> None:
    port = _free_port()
    url = f"http://user:pa55word@127.0.0.1:{port}/api/stable/api.php"
    with OnOfficeClient(url, Credentials("t", "s")) as c, pytest.raises(NotDelivered) as caught:
        c.get_users()
    error = caught.value
    assert error.may_have_been_processed is False
    # the context as attributes, never a credential
    assert error.url == f"http://127.0.0.1:{port}/api/stable/api.php"
    assert error.action is not None and "user" in error.action and error.status is None
    assert "pa55word" not in str(error) + str(error.url)


def test_unresolvable_host_is_not_delivered(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_such_host(host: object, *args: object, **kwargs: object) -> object:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    # the machine's resolver answers "unknown host" at once: no DNS server is asked
    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    url = "http://no-such-host.invalid/api/stable/api.php"
    with OnOfficeClient(url, Credentials("t", "s")) as c, pytest.raises(NotDelivered):
        c.get_users()


def test_read_timeout_may_have_been_processed(sandbox: Sandbox) -> None:
    sandbox.faults = Faults(latency=1.5)
    client = OnOfficeClient(sandbox.url, sandbox.credentials, timeouts=Timeouts(2, 0.3))
    with client, pytest.raises(OutcomeUnknown) as caught:
        client.create_appointment(APPOINTMENT)
    assert caught.value.may_have_been_processed is True
    time.sleep(1.5)  # the server finishes its work after the client gave up
    assert sandbox.store.count_appointments() == 1


def test_http_503_may_have_been_processed(sandbox: Sandbox, client: OnOfficeClient) -> None:
    sandbox.faults = Faults(fail_before_rate=1.0, fail_before="503")
    with pytest.raises(OutcomeUnknown, match="HTTP 503"):
        client.create_appointment(APPOINTMENT)
    assert sandbox.store.count_appointments() == 0


def test_connection_reset_may_have_been_processed(sandbox: Sandbox, client: OnOfficeClient) -> None:
    sandbox.faults = Faults(fail_before_rate=1.0, fail_before="reset")
    with pytest.raises(OutcomeUnknown):
        client.create_appointment(APPOINTMENT)
    assert sandbox.store.count_appointments() == 0


def test_dropped_after_processing_may_have_been_processed(
    sandbox: Sandbox, client: OnOfficeClient
) -> None:
    sandbox.faults = Faults(drop_after_rate=1.0)
    with pytest.raises(OutcomeUnknown):
        client.create_appointment(APPOINTMENT)
    assert sandbox.store.count_appointments() == 1  # created, but the answer was lost


class _Canned(BaseHTTPRequestHandler):
    body = b""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def canned_server() -> Iterator[tuple[str, type[_Canned]]]:
    handler = type("Handler", (_Canned,), {})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/stable/api.php", handler
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.mark.parametrize(
    "body",
    [
        b"<html>gateway</html>",
        b"[]",
        b'{"response": {}}',
        b'{"status": {"code": 200, "errorcode": 0}, "response": {"results": []}}',
        json.dumps(
            {
                "status": {"code": 200, "errorcode": 0, "message": "OK"},
                "response": {
                    "results": [
                        {
                            "identifier": "someone-else",
                            "status": {"errorcode": 0},
                            "data": {"records": []},
                        }
                    ]
                },
            }
        ).encode(),
    ],
    ids=["html", "array", "no-status", "no-result", "identifier-mismatch"],
)
def test_malformed_answers_raise_malformed_response(
    canned_server: tuple[str, type[_Canned]], body: bytes
) -> None:
    url, handler = canned_server
    handler.body = body
    with OnOfficeClient(url, Credentials("t", "s")) as c, pytest.raises(MalformedResponse):
        c.send([Action("get", "users", {}, identifier="mine")])


def test_secret_and_token_never_appear_in_errors_reprs_or_logs(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    token, secret = "T0kenT0kenT0kenT0kenT0kenT0ken12", "S3cret" * 10 + "abcd"
    creds = Credentials(token, secret)
    caplog.set_level(logging.DEBUG)
    texts = [repr(creds), str(creds)]
    failures: list[BaseException] = []
    urls = [sandbox.url, f"http://127.0.0.1:{_free_port()}/api/stable/api.php"]
    for url in urls:
        with OnOfficeClient(url, creds) as c:
            texts.append(repr(c))
            try:
                c.create_appointment(APPOINTMENT)
            except (AuthenticationError, NotDelivered) as exc:
                failures.append(exc)
    assert len(failures) == 2
    for exc in failures:
        texts.append(str(exc))
        texts.append("".join(traceback.format_exception(exc)))
    texts.append(caplog.text)
    joined = "\n".join(texts)
    assert token not in joined
    assert secret not in joined


def test_a_429_is_never_delivered_so_it_may_be_sent_again(sandbox: Sandbox) -> None:
    """HTTP 429 (rate limited) comes before any work: the create was not delivered (sent
    again after a backoff), never a maybe that needs a read-back; nothing was created."""
    sandbox.faults = Faults(plan=["429"], writes_only=True)
    with OnOfficeClient(sandbox.url, sandbox.credentials, timeouts=Timeouts(2, 5)) as client:
        with pytest.raises(NotDelivered, match="429"):
            client.create_appointment(APPOINTMENT)
        assert sandbox.store.count_appointments() == 0
        assert isinstance(client.create_appointment(APPOINTMENT), int)
    assert sandbox.store.count_appointments() == 1


def test_a_cookie_the_server_sets_goes_back_with_the_next_requests() -> None:
    """A load balancer's sticky cookie: each request carries the session's cookies as they
    are then (the request is prepared once and copied)."""
    seen: list[str | None] = []

    class Sticky(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.append(self.headers.get("Cookie"))
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            body = json.dumps(
                {"status": {"code": 200, "errorcode": 0, "message": "OK"},
                 "response": {"results": []}}
            ).encode()  # fmt: skip
            self.send_response(200)
            self.send_header("Set-Cookie", "AWSALB=sticky1; Path=/")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Sticky)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/api.php"
        with OnOfficeClient(url, Credentials("t", "s"), read_retries=0) as client:
            for _ in range(3):  # the answer holds no result: only the cookies count here
                with pytest.raises(MalformedResponse):
                    client.send([Action("get", "users", {})])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert seen == [None, "AWSALB=sticky1", "AWSALB=sticky1"]


@pytest.mark.parametrize(
    "url", ["api.onoffice.de/api.php?apitoken=S3CRETQ", "http://user:hunt3r2@/api.php"]
)
def test_a_malformed_api_url_is_an_error_of_the_call_and_keeps_its_secrets(url: str) -> None:
    client = OnOfficeClient(url, Credentials("t", "s"), timeouts=Timeouts(1, 1), read_retries=0)
    with pytest.raises(OutcomeUnknown) as caught:
        client.send([Action("get", "users", {})])
    assert "S3CRETQ" not in str(caught.value) and "hunt3r2" not in str(caught.value)


def test_a_503_or_reset_on_a_read_is_retried_not_fatal(tmp_path: Path, sandbox: Sandbox) -> None:
    source, mapping = generated(tmp_path, 8)
    # preflight answered; the first look-up gets a 503, its retry a reset, the next one passes
    sandbox.faults = Faults(plan=["ok", "503", "reset"])
    with client_for(sandbox) as client:
        report = run_import(source, mapping, client=client, options=FAST)
    assert report.counts() == {"created": 8}, report.stopped
    assert sandbox.stats.posts >= 3 + 8
