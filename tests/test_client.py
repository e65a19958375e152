"""The API client against the real sandbox: signing, envelope, typed results and errors."""

from __future__ import annotations

import contextlib
import hashlib
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
    PermissionRefused,
)
from importer.onoffice.client import (
    Action,
    ActionResult,
    Credentials,
    OnOfficeClient,
    Record,
    Timeouts,
    _code,
    _credentials_refused,
    _in_request_order,
    _is_protocol_error,
    _json_object,
    _never_connected,
    _read_results,
    _reason,
    _sorted_first_level,
    _with_identifiers,
    display_url,
    sign,
)
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


@contextlib.contextmanager
def _serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """An HTTP server on a free port of 127.0.0.1 answering with ``handler``; its API URL."""
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/stable/api.php"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def canned_server() -> Iterator[tuple[str, type[_Canned]]]:
    handler = type("Handler", (_Canned,), {})
    with _serving(handler) as url:
        yield url, handler


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


# --- reading an answer (§3.5), without a server: the rules are pure ----------------------------
GET = Action("get", "users", {}, identifier="u")


def answer(*results: dict[str, object], code: object = 200, errorcode: object = 0) -> dict:
    """A top-level answer holding ``results``."""
    return {
        "status": {"code": code, "errorcode": errorcode, "message": "OK"},
        "response": {"results": list(results)},
    }


def result(identifier: object = "u", errorcode: object = 0, **more: object) -> dict:
    out = {"identifier": identifier, "status": {"errorcode": errorcode, "message": "nein"}}
    return {**out, **more}


def test_a_result_becomes_records_or_a_refusal_in_its_place() -> None:
    """Records with id, type and elements (non-objects skipped), cntabsolute when an int; a
    non-zero errorcode (also as text) is an ActionRefused naming code, message, action and
    identifier."""
    data = {
        "records": [{"id": 7, "type": "user", "elements": {"a": 1}}, "junk"],
        "meta": {"cntabsolute": 12},
    }
    (ok,) = _read_results(answer(result(data=data)), [GET])
    assert isinstance(ok, ActionResult)
    assert ok.records == [Record(7, "user", {"a": 1})]
    assert (ok.cntabsolute, ok.action, ok.raw) == (12, GET, result(data=data))
    (empty,) = _read_results(answer(result(data={"meta": {"cntabsolute": "3"}})), [GET])
    assert isinstance(empty, ActionResult) and (empty.records, empty.cntabsolute) == ([], None)
    (code_zero,) = _read_results(answer({"status": {"code": "0"}, "data": {}}), [GET])
    assert isinstance(code_zero, ActionResult)
    for refused_code in (180, "180"):
        (refused,) = _read_results(answer(result(errorcode=refused_code), errorcode=97), [GET])
        assert isinstance(refused, ActionRefused)
        assert (refused.errorcode, refused.server_message) == (180, "nein")
        assert (refused.action, refused.identifier) == ("get users", "u")
    bare = Action("get", "users", {})
    (refused,) = _read_results(answer(result(None, 180)), [bare])
    assert isinstance(refused, ActionRefused) and refused.identifier is None


def test_a_refused_read_for_want_of_rights_concerns_every_row() -> None:
    """156 (or words of missing rights) on a read or get: PermissionRefused raised; on a write
    it is the row's refusal."""
    with pytest.raises(PermissionRefused) as caught:
        _read_results(answer(result(errorcode=156)), [GET])
    assert caught.value.action == "get users"
    write = Action("create", "calendar", {}, identifier="u")
    (refused,) = _read_results(answer(result(errorcode=156)), [write])
    assert isinstance(refused, ActionRefused)
    read = Action("read", "calendar", {}, identifier="u")
    worded = {"identifier": "u", "status": {"errorcode": 33, "message": "No rights for it"}}
    with pytest.raises(PermissionRefused):
        _read_results(answer(worded), [read])


def test_credentials_and_clock_refusals_raise_wherever_they_are_reported() -> None:
    """Top level or per action: a credential code is an AuthenticationError with one wording,
    136 a ClockError; 400 is not authenticated unless it only pairs with 97."""
    for top in (
        answer(code=400, errorcode=0),
        answer(code="400", errorcode=None),
        answer(errorcode=13),
        answer(errorcode=22),
        answer(errorcode=137),
    ):
        with pytest.raises(AuthenticationError):
            _read_results(top, [GET])
    with pytest.raises(AuthenticationError) as caught:
        _read_results(answer(errorcode=137), [GET])
    assert str(caught.value) == (
        "onOffice refused the credentials (error 137: OK); check ONOFFICE_TOKEN and ONOFFICE_SECRET"
    )
    assert caught.value.errorcode == 137
    (fine,) = _read_results(answer(result(errorcode=180), code=400, errorcode=97), [GET])
    assert isinstance(fine, ActionRefused)
    with pytest.raises(AuthenticationError) as per_action:
        _read_results(answer({"identifier": "u", "status": {"errorcode": 22}}), [GET])
    assert str(per_action.value) == (
        "onOffice refused the credentials (error 22: not authenticated); check ONOFFICE_TOKEN "
        "and ONOFFICE_SECRET"
    )
    with pytest.raises(ClockError) as clock:
        _read_results(answer(errorcode=136), [GET])
    assert str(clock.value).startswith("onOffice refused the timestamp (OK) - ")
    assert clock.value.errorcode == 136
    with pytest.raises(ClockError) as clock:
        _read_results(answer(result(errorcode="136")), [GET])
    assert str(clock.value).startswith("onOffice refused the timestamp (error 136: nein) - ")
    assert clock.value.errorcode == 136
    refused = _credentials_refused("x", "")
    assert (str(refused), refused.errorcode) == (
        "onOffice refused the credentials (); check ONOFFICE_TOKEN and ONOFFICE_SECRET",
        None,
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "the answer has no status object"),
        ({"status": "ok"}, "the answer has no status object"),
        ({"status": {"code": 200, "errorcode": 0}}, "the answer has no response.results list"),
        ({"status": {"errorcode": 0}, "response": []}, "the answer has no response.results list"),
        (answer(), "1 actions sent but 0 results received"),
        (answer("x"), "get users: result without status"),
        (answer({"identifier": "u", "status": 0}), "get users: result without status"),
        (answer(result(data=[])), "get users: result without data.records"),
        (answer(result(data={"records": {}})), "get users: result without data.records"),
        (answer(result("v")), "get users: result for 'v' came back where 'u' was expected"),
        (answer(result(errorcode="x")), "get users: errorcode 'x'"),
    ],
)
def test_an_answer_off_the_documented_shape_is_malformed(body: dict, message: str) -> None:
    """Every shape the contract does not allow is a MalformedResponse that says what is off."""
    with pytest.raises(MalformedResponse) as caught:
        _read_results(body, [GET])
    assert str(caught.value) == message


def test_a_request_refused_as_a_whole_refuses_each_action() -> None:
    """A non-zero top-level errorcode other than 97: ActionRefused for the request."""
    with pytest.raises(ActionRefused) as caught:
        _read_results({"status": {"errorcode": "500", "message": "busy"}}, [GET])
    assert (caught.value.errorcode, caught.value.server_message) == (500, "request refused: busy")


def test_results_are_matched_by_their_identifiers_when_all_echo() -> None:
    """Reordered results with every identifier echoed are put back in request order; without
    complete echoes, by position."""
    a, b = Action("get", "users", {}, identifier="a"), Action("get", "groups", {}, identifier="b")
    ra, rb = {"identifier": "a"}, {"identifier": "b"}
    assert _in_request_order([rb, ra], [a, b]) == [ra, rb]
    assert _in_request_order([ra, rb], [a, b]) == [ra, rb]
    assert _in_request_order([rb, {}], [a, b]) == [rb, {}]
    assert _in_request_order(["x", ra], [a, b]) == ["x", ra]


def test_identifiers_are_given_and_must_be_unique() -> None:
    """Actions without an identifier get action-<position>; two alike are refused."""
    given = _with_identifiers([Action("get", "users"), GET, Action("read", "calendar", [], "7")])
    assert [a.identifier for a in given] == ["action-0", "u", "action-2"]
    assert given[2] == Action("read", "calendar", [], "7", "action-2")
    assert given[1] is GET
    with pytest.raises(ValueError) as caught:
        _with_identifiers([GET, Action("get", "groups", {}, identifier="u")])
    assert str(caught.value) == "two actions share the identifier 'u'"


def test_small_rules_of_the_protocol() -> None:
    """Codes as text are numbers; a JSON object or None; a protocol error is a JSON status
    with a non-zero errorcode; parameters sorted at the first level only; URLs shown without
    what could hide credentials; actions described as the user reads them."""
    assert _code("97") == 97 and _code(" 13 ") == 13 and _code("x1") == "x1" and _code(5) == 5
    assert _json_object(b'{"a": 1}') == {"a": 1}
    for bad in (b"[1]", b"", b"\xff", b"<html>", b"[" * 100_000):
        assert _json_object(bad) is None
    assert _is_protocol_error({"status": {"errorcode": "22"}})
    for not_one in (
        None,
        {},
        {"status": "x"},
        {"status": {"errorcode": 0}},
        {"status": {"errorcode": ""}},
        {"status": {"errorcode": "0"}},
    ):
        assert not _is_protocol_error(not_one)
    assert list(_sorted_first_level({"b": {"z": 1, "a": 2}, "a": 1})) == ["a", "b"]
    assert _sorted_first_level({"b": {"z": 1, "a": 2}})["b"] == {"z": 1, "a": 2}
    assert _sorted_first_level([3, 1]) == [3, 1]
    assert display_url("https://u:p@api.example:8443/api/stable/api.php?token=x#f") == (
        "https://api.example:8443/api/stable/api.php"
    )
    assert display_url("http://[::1]:80/a") == "http://[::1]:80/a"
    assert display_url("http://host:99999/a") == "http://host/a"
    assert display_url("http://host/a") == "http://host/a"
    assert Action("delete", "calendar", {}, "7").describe() == "delete calendar 7"
    assert GET.describe() == "get users" and GET.actionid == contract.action_id("get")


def test_network_failures_are_told_apart_by_their_cause() -> None:
    """Never connected (urllib3's connect errors, wrapped or not) vs lost after sending; a
    failure's reason is its type and last argument."""
    from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

    refused = NewConnectionError(None, "Connection refused")
    assert _never_connected(requests.ConnectionError(MaxRetryError(None, "/", refused)))
    assert _never_connected(requests.ConnectionError(refused))
    assert not _never_connected(requests.ConnectionError(ProtocolError("reset", OSError(104))))
    assert not _never_connected(requests.ConnectionError())
    assert _reason(requests.ConnectionError(MaxRetryError(None, "/", refused))) == (
        "NewConnectionError: None: Connection refused"
    )
    assert _reason(requests.ConnectionError("plain")) == "str"
    assert _reason(requests.ConnectionError()) == "ConnectionError"
    assert _reason(ValueError(OSError())) == "OSError"


# --- the calls, against a server that answers what a test tells it -----------------------------
class _Scripted(BaseHTTPRequestHandler):
    """Answers each POST with the next (HTTP status, body) of ``answers`` and keeps what was
    asked (the decoded request) in ``asked``."""

    answers: list[tuple[int, bytes]]
    asked: list[dict]

    def do_POST(self) -> None:
        self.asked.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        status, body = self.answers.pop(0)
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def scripted() -> Iterator[tuple[str, type[_Scripted]]]:
    handler = type("Handler", (_Scripted,), {"answers": [], "asked": []})
    with _serving(handler) as url:
        yield url, handler


def ok(*records: dict, identifier: str = "action-0", errorcode: int = 0) -> tuple[int, bytes]:
    """An answer of one action with ``records`` (``errorcode``: refused instead)."""
    single = {
        "identifier": identifier,
        "status": {"errorcode": errorcode, "message": "unknown action" if errorcode else ""},
        "data": {"records": list(records)},
    }
    top = 97 if errorcode else 0
    return 200, json.dumps(answer(single, errorcode=top)).encode()


def parameters(handler: type[_Scripted], n: int = -1) -> object:
    (action,) = handler.asked[n]["request"]["actions"]
    return action["parameters"]


def test_each_call_asks_with_the_documented_parameters(
    scripted: tuple[str, type[_Scripted]],
) -> None:
    """read calendar with its period, flags and filters; get fields in German with labels;
    checkuserrecordsright with the ids as text; the answers read as records or ids."""
    url, handler = scripted
    handler.answers += [ok({"id": 1, "type": "calendar", "elements": {}})] * 2
    handler.answers += [ok({"id": 0, "elements": [5, "6", "x"]}), ok(), ok(), ok(), ok()]
    with OnOfficeClient(url, Credentials("t", "s")) as c:
        records = c.read_appointments(
            "2027-03-01 00:00:00",
            "2027-03-02 00:00:00",
            filter={"note": [{"op": "like", "val": "%x%"}]},
            allusers=False,
            users=[17],
            groups=[3],
            showcancelled=True,
        )
        assert records == [Record(1, "calendar", {})]
        assert parameters(handler) == {
            "allusers": False,
            "dateend": "2027-03-02 00:00:00",
            "datestart": "2027-03-01 00:00:00",
            "filter": {"note": [{"op": "like", "val": "%x%"}]},
            "groups": [3],
            "showcancelled": True,
            "users": [17],
        }
        c.read_appointments("2027-03-01 00:00:00", "2027-03-02 00:00:00")
        assert parameters(handler) == {
            "allusers": True,
            "dateend": "2027-03-02 00:00:00",
            "datestart": "2027-03-01 00:00:00",
            "showcancelled": False,
        }
        assert c.rights("modify", "calendar", 17, [5, 6, 7]) == {5, 6}
        assert parameters(handler) == {
            "action": "modify",
            "module": "calendar",
            "recordIds": ["5", "6", "7"],
            "userid": 17,
        }
        assert c.rights("modify", "calendar", 17, [5]) == set()
        c.get_fields("calendar")
        assert parameters(handler) == {
            "labels": True,
            "language": contract.FIELDS_LANGUAGE,
            "modules": ["calendar"],
        }
        for call, resourcetype in (
            (c.get_users, "users"),
            (c.get_groups, "groups"),
        ):
            call()
            (action,) = handler.asked[-1]["request"]["actions"]
            assert (action["resourcetype"], action["parameters"]) == (resourcetype, {})
        assert c.requests_sent == len(handler.asked) == 7


def test_list_reads_page_by_the_cap_until_a_short_page(
    scripted: tuple[str, type[_Scripted]],
) -> None:
    """listlimit 500 and listoffset moving by what came back; a short page ends it."""
    url, handler = scripted
    full = [{"id": n, "elements": {}} for n in range(contract.LISTLIMIT_MAX)]
    handler.answers += [ok(*full), ok(*full), ok({"id": "last", "elements": {}})]
    with OnOfficeClient(url, Credentials("t", "s")) as c:
        found = c.read_estates(filter={"status": [{"op": "=", "val": 1}]}, data=["Id"])
    assert len(found) == 2 * contract.LISTLIMIT_MAX + 1 and found[-1].id == "last"
    offsets = [parameters(handler, n)["listoffset"] for n in (0, 1, 2)]
    assert offsets == [0, contract.LISTLIMIT_MAX, 2 * contract.LISTLIMIT_MAX]
    assert parameters(handler, 0) == {
        "data": ["Id"],
        "filter": {"status": [{"op": "=", "val": 1}]},
        "listlimit": contract.LISTLIMIT_MAX,
        "listoffset": 0,
    }
    handler.answers += [ok()]
    with OnOfficeClient(url, Credentials("t", "s")) as c:
        assert c.read_addresses(filter={}, data=["Name"]) == []
    (action,) = handler.asked[-1]["request"]["actions"]
    assert action["resourcetype"] == "address"


def test_a_delete_tries_the_other_resource_type_once_and_remembers(
    scripted: tuple[str, type[_Scripted]],
) -> None:
    """§5.5 names `appointments`, its example `calendar`: an unknown action on the first is
    tried as the other, and the one the server does not know is not asked again."""
    url, handler = scripted
    handler.answers += [ok(errorcode=25), ok(), ok()]
    with OnOfficeClient(url, Credentials("t", "s")) as c:
        c.delete_appointment(7)
        assert c.unsupported == {"delete calendar"}
        c.delete_appointment(8)
    kinds = [
        (a["resourcetype"], a["resourceid"]) for r in handler.asked for a in r["request"]["actions"]
    ]
    assert kinds == [("calendar", "7"), ("appointments", "7"), ("appointments", "8")]
    handler.answers += [ok(errorcode=25), ok(errorcode=25)]
    with OnOfficeClient(url, Credentials("t", "s")) as c, pytest.raises(ActionRefused):
        c.delete_appointment(9)
    handler.answers += [ok(errorcode=180)]
    with OnOfficeClient(url, Credentials("t", "s")) as c, pytest.raises(ActionRefused):
        c.delete_appointment(9)
    assert len(handler.asked) == 6


def test_a_read_of_an_unknown_appointment_is_none(scripted: tuple[str, type[_Scripted]]) -> None:
    """Refused or empty: None; else its elements. A modify names its appointment."""
    url, handler = scripted
    handler.answers += [ok(errorcode=180), ok(), ok({"id": 7, "elements": {"a": 1}})]
    with OnOfficeClient(url, Credentials("t", "s")) as c:
        assert c.read_appointment(7) is None
        assert c.read_appointment(7) is None
        assert c.read_appointment(7) == {"a": 1}
        handler.answers.append(ok())
        c.modify_appointment(7, {"data": {"note": "x"}})
    (action,) = handler.asked[-1]["request"]["actions"]
    assert (action["resourceid"], action["parameters"]) == ("7", {"data": {"note": "x"}})


def test_the_account_is_the_api_users_id_or_a_hash_of_the_token(
    scripted: tuple[str, type[_Scripted]],
) -> None:
    """get users onlyOwn names the API user; where it names none, a keyed hash of the token,
    never the token."""
    url, handler = scripted
    handler.answers += [ok({"id": 17, "elements": {}}), ok(), ok(errorcode=180)]
    shown = url  # nothing in it to hide
    with OnOfficeClient(url, Credentials("the-token", "s")) as c:
        assert c.account() == f"{shown} user 17" and c.user_id == 17
        assert parameters(handler) == {"userfilter": "onlyOwn"}
    digest = hashlib.sha256(b"onoffice-import account:the-token").hexdigest()[:16]
    for _ in range(2):
        with OnOfficeClient(url, Credentials("the-token", "s")) as c:
            assert c.account() == f"{shown} token {digest}" and c.user_id is None


@pytest.mark.parametrize(
    ("status", "body", "error", "message"),
    [
        (500, b"<html>oops</html>", OutcomeUnknown, "get users: HTTP 500 from {url}"),
        (503, b"", OutcomeUnknown, "get users: HTTP 503 from {url}"),
        (429, b"", NotDelivered, "get users: HTTP 429 (rate limited) from {url}"),
        (
            404,
            b"<html>no</html>",
            MalformedResponse,
            "get users: HTTP 404 from {url} - is the API URL right?",
        ),
        (
            200,
            b"<html>",
            MalformedResponse,
            "get users: the answer from {url} is not a JSON object",
        ),
    ],
)
def test_an_http_status_is_read_by_what_it_says_about_the_request(
    scripted: tuple[str, type[_Scripted]],
    status: int,
    body: bytes,
    error: type[Exception],
    message: str,
) -> None:
    """5xx: the server may have acted; 429: it did not; another 4xx: a wrong URL; a body that
    is no JSON object: malformed. Each names the call, the URL and the status."""
    url, handler = scripted
    handler.answers.append((status, body))
    with (
        OnOfficeClient(url, Credentials("t", "s"), read_retries=0) as c,
        pytest.raises(error) as caught,
    ):
        c.send([Action("get", "users", {})])
    assert str(caught.value) == message.format(url=url)
    assert caught.value.status == status and caught.value.action == "get users"


def test_an_http_error_with_a_json_status_is_read_as_the_json(
    scripted: tuple[str, type[_Scripted]],
) -> None:
    """UNDOCUMENTED HTTP status (§1.1): a 400 whose JSON names an errorcode is that error."""
    url, handler = scripted
    handler.answers.append((400, json.dumps(answer(errorcode=22)).encode()))
    with OnOfficeClient(url, Credentials("t", "s")) as c, pytest.raises(AuthenticationError):
        c.send([Action("get", "users", {})])


def test_reads_are_asked_again_writes_never(scripted: tuple[str, type[_Scripted]]) -> None:
    """A read whose answer got lost is asked again (re-signed), up to read_retries times; a
    write is not: its outcome is unknown."""
    url, handler = scripted
    handler.answers += [(503, b""), (503, b""), ok()]
    with OnOfficeClient(url, Credentials("t", "s"), read_retries=2) as c:
        assert c.get_users() == []
        assert c.requests_sent == 3
        handler.answers += [(503, b""), (503, b"")]
        with pytest.raises(OutcomeUnknown):
            OnOfficeClient(url, Credentials("t", "s"), read_retries=1).get_users()
        handler.answers += [(503, b""), ok()]
        with pytest.raises(OutcomeUnknown):
            c.call(Action("create", "calendar", {}))
        assert c.requests_sent == 4
        assert c.call(Action("get", "users", {})).records == []  # get_users() keeps its answer
    assert handler.answers == []


def test_the_accounts_lists_are_asked_once_per_client(sandbox: Sandbox) -> None:
    """Users, groups, resources and fields are the account's setup: the look-ups, the rights'
    messages and the account report share one answer per client; a new client asks again."""
    for _ in range(2):
        with OnOfficeClient(sandbox.url, sandbox.credentials) as c:
            for _ in range(3):
                assert len(c.get_users()) == 7 and c.get_groups() and c.get_calendar_resources()
                assert c.get_fields("calendar") and c.get_fields("address") == []
    kinds = ("get users", "get groups", "get calendarResources")
    assert [sandbox.stats.actions[k] for k in kinds] == [2, 2, 2]
    assert sandbox.stats.actions["get fields"] == 4  # per module


def test_the_servers_clock_is_read_from_its_date_header(sandbox: Sandbox) -> None:
    """Our signed timestamp minus the server's `Date`: the skew; the server's time is ours
    less it (ours before any answer)."""
    sandbox.faults = Faults(clock_skew=100)
    with OnOfficeClient(sandbox.url, sandbox.credentials, clock=lambda: 1_800_000_000.0) as c:
        assert c.last_clock_skew is None and c.server_now() == 1_800_000_000.0
    with OnOfficeClient(sandbox.url, sandbox.credentials) as c:
        c.get_users()
        assert c.last_clock_skew is not None and -102 <= c.last_clock_skew <= -98
        assert abs(c.server_now() - (time.time() + 100)) < 3
        assert c.round_trip > 0


def test_each_call_names_its_resource_type(scripted: tuple[str, type[_Scripted]]) -> None:
    """Every convenience call sends the action and resource type of the documentation."""
    url, handler = scripted
    handler.answers += [ok({"id": 7, "elements": {}})] + [ok() for _ in range(10)]
    with OnOfficeClient(url, Credentials("t", "s")) as c:
        assert c.create_appointment({"data": {}}) == 7
        c.read_appointment(7)
        c.read_appointments("2027-03-01 00:00:00", "2027-03-02 00:00:00")
        c.modify_appointment(7, {"data": {}})
        c.delete_appointment(7)
        c.read_estates(filter={"a": 1}, data=["Id"])
        c.read_addresses(filter={"b": 2}, data=["Name"])
        c.get_users()
        c.get_groups()
        c.get_calendar_resources()
        c.get_fields("calendar")
    sent = [r["request"]["actions"][0] for r in handler.asked]
    assert [
        (a["actionid"].rsplit(":", 1)[1], a["resourcetype"], a["resourceid"]) for a in sent
    ] == [
        ("create", "calendar", ""),
        ("read", "calendar", "7"),
        ("read", "calendar", ""),
        ("modify", "calendar", "7"),
        ("delete", "calendar", "7"),
        ("read", "estate", ""),
        ("read", "address", ""),
        ("get", "users", ""),
        ("get", "groups", ""),
        ("get", "calendarResources", ""),
        ("get", "fields", ""),
    ]
    assert [a["parameters"] for a in sent[1:2] + sent[4:5] + sent[7:10]] == [[], {}, {}, {}, {}]
    assert sent[6]["parameters"] == {
        "data": ["Name"],
        "filter": {"b": 2},
        "listlimit": contract.LISTLIMIT_MAX,
        "listoffset": 0,
    }


def test_a_create_answered_without_an_id_is_malformed(
    scripted: tuple[str, type[_Scripted]],
) -> None:
    url, handler = scripted
    handler.answers += [ok(), ok({"id": "x", "elements": {}})]
    with OnOfficeClient(url, Credentials("t", "s")) as c:
        for _ in range(2):
            with pytest.raises(MalformedResponse) as caught:
                c.create_appointment({"data": {}})
            assert str(caught.value) == "calendar create: the answer holds no appointment id"


def test_the_account_reads_the_first_user_only(scripted: tuple[str, type[_Scripted]]) -> None:
    """The first record is the API user; an id that is no number names the account but is no
    user id; rights are the numbers the answer lists."""
    url, handler = scripted
    handler.answers += [
        ok({"id": 17}, {"id": 18}),
        ok({"id": "anna"}),
        ok({"id": 0, "elements": 5}),
    ]
    with OnOfficeClient(url, Credentials("t", "s")) as c:
        assert c.account().endswith(" user 17") and c.user_id == 17
    with OnOfficeClient(url, Credentials("t", "s")) as c:
        assert c.account().endswith(" user anna") and c.user_id is None
        assert c.rights("read", "calendar", 1, [5]) == set()
    assert handler.asked[-1]["request"]["actions"][0]["resourcetype"] == "checkuserrecordsright"


def test_credentials_show_as_stars() -> None:
    creds = Credentials("token-value", "secret-value")
    assert repr(creds) == str(creds) == "Credentials(token=***, secret=***)"


def test_a_refusal_without_a_message_is_not_authenticated() -> None:
    """No message at the top level: the credentials' refusal says "not authenticated"."""
    with pytest.raises(AuthenticationError) as caught:
        _read_results({"status": {"code": 400, "errorcode": 22}}, [GET])
    assert "(error 22: not authenticated)" in str(caught.value)
    with pytest.raises(PermissionRefused) as refused:
        _read_results(answer(result(errorcode=156)), [GET])
    assert (refused.value.errorcode, refused.value.server_message) == (156, "nein")
