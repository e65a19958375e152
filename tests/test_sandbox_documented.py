"""The sandbox answers in the documented shapes, reads requests as the PHP SDK sends them, stays
up under bad requests, and shares no code with the client it tests."""

from __future__ import annotations

import ast
import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from importer.sandbox import Dialect, Sandbox

from .conftest import ROOT

pytestmark = pytest.mark.documented  # pins the default answer shapes

URN = "urn:onoffice-de-ns:smart:2.5:smartml:action:"


def php_json(value: Any) -> bytes:
    """What PHP's json_encode writes: `/` escaped as `\\/`, non-ASCII as \\u escapes."""
    return json.dumps(value, separators=(",", ":")).replace("/", "\\/").encode()


def signed(sb: Sandbox, kind: str, rtype: str, parameters: Any, **extra: Any) -> dict[str, Any]:
    """One action signed as the reference describes it (§2.1), independently of
    importer.onoffice.client."""
    ts = int(time.time())
    message = f"{ts}{sb.credentials.token}{rtype}{URN}{kind}".encode()
    mac = hmac.new(sb.credentials.secret.encode(), message, hashlib.sha256).digest()
    action = {
        "actionid": URN + kind,
        "resourceid": "",
        "resourcetype": rtype,
        "identifier": "",
        "timestamp": ts,
        "hmac": base64.b64encode(mac).decode(),
        "hmac_version": 2,
        "parameters": parameters,
    }
    action.update(extra)
    return action


def post(sb: Sandbox, *actions: dict[str, Any], raw: bytes | None = None, **kw: Any) -> Any:
    body = (
        raw
        if raw is not None
        else php_json({"token": sb.credentials.token, "request": {"actions": list(actions)}})
    )
    return requests.post(sb.url, data=body, timeout=10, **kw).json()


def ok(answer: dict[str, Any], i: int = 0) -> dict[str, Any]:
    result = answer["response"]["results"][i]
    assert result["status"]["errorcode"] == 0, result["status"]
    return result


CREATE = {
    "data": {
        "start_dt": "2027-03-01 10:00:00",
        "end_dt": "2027-03-01 10:30:00",
        "description": "Besichtigung AC-1042",
        "art": "Besichtigung",
        "ressources": ["ind_Schl_3151"],
    },
    "subscribers": {"users": [17], "groups": [3]},
    "relatedAddressIds": [5431],
    "relatedEstateId": 608,
}


def create(sb: Sandbox, headers: dict[str, str] | None = None, **data: Any) -> Any:
    """calendar create of CREATE with ``data`` changed; the new id as the server wrote it."""
    parameters = CREATE | {"data": CREATE["data"] | data}
    answer = post(sb, signed(sb, "create", "calendar", parameters), headers=headers)
    return ok(answer)["data"]["records"][0]["id"]


def read_by_id(sb: Sandbox, appointment_id: Any) -> dict[str, Any]:
    answer = post(sb, signed(sb, "read", "calendar", [], resourceid=str(appointment_id)))
    return ok(answer)["data"]["records"][0]["elements"]


def test_the_sandbox_imports_nothing_from_the_importer() -> None:
    """Two readings of the documentation: the sandbox must not borrow the client's."""
    for path in sorted((ROOT / "importer" / "sandbox").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                module = node.module or ""
                assert node.level in (0, 1), f"{path.name}: from {'.' * node.level}{module}"
                assert (
                    node.level == 1
                    or not module.startswith("importer")
                    or module.startswith("importer.sandbox")
                ), f"{path.name} imports {module}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    assert not alias.name.startswith("importer") or alias.name.startswith(
                        "importer.sandbox"
                    ), f"{path.name} imports {alias.name}"


@pytest.fixture
def sb() -> Any:
    with Sandbox() as sandbox:
        yield sandbox


def test_php_sdk_request_shapes_are_answered(sb: Sandbox) -> None:
    """Int timestamp and hmac_version, [] parameters, `\\/`, curl's form content type, null id."""
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    users = post(sb, signed(sb, "get", "users", [], identifier=None), headers=form)
    assert ok(users)["identifier"] is None
    new_id = create(sb, headers=form, note="https://meet.example/a/b")
    assert read_by_id(sb, new_id)["note"] == "https://meet.example/a/b"
    as_strings = signed(sb, "get", "groups", {})
    as_strings.update(timestamp=str(as_strings["timestamp"]), hmac_version="2")
    ok(post(sb, as_strings))


def test_legacy_hmac_v1_of_older_sdk_releases_is_answered(sb: Sandbox) -> None:
    """Computed as the SDK's Request::createHmac does (md5 over ksorted json and fields)."""
    ts = int(time.time())
    parameters = {"userfilter": "onlyOwn", "a/b": "ü"}
    action = {
        "actionid": URN + "get",
        "identifier": "x",
        "parameters": parameters,
        "resourceid": "",
        "resourcetype": "users",
        "timestamp": ts,
    }
    token, secret = sb.credentials.token, sb.credentials.secret
    fields = ",".join([token, URN + "get", "x", "", secret, str(ts), "users"])
    encoded = php_json(dict(sorted(parameters.items()))).decode()
    inner = hashlib.md5(f"{encoded},{fields}".encode()).hexdigest()
    action["hmac"] = hashlib.md5((secret + inner).encode()).hexdigest()
    ok(post(sb, action))
    action["hmac"] = "0" * 32
    assert post(sb, action)["response"]["results"][0]["status"]["errorcode"] == 137


def test_read_calendar_record_has_the_documented_types(sb: Sandbox) -> None:
    new_id = create(sb)
    assert isinstance(new_id, int)
    e = read_by_id(sb, new_id)
    for flag in ("ganztags", "rp_flag", "abgesagt", "allowTransitTime"):
        assert e[flag] is False, flag
    assert e["private"] == "0" and e["rp_ende_status"] == "0"
    assert e["rp_tage"] == 0 and e["rp_beginn_datum"] == "0000-00-00"
    assert e["rp_exception"] == [] and e["erinnerung"] == ""
    assert e["art"] == {"Besichtigung": "Besichtigung"}
    assert e["ressourcesWithKeys"] == {"ind_Schl_3151": "Firmenfahrzeug"}
    assert e["ressources"] == ["Firmenfahrzeug"]
    assert [u["id"] for u in e["users"]] == ["17"]  # only the explicit user, as a string
    members = {17, *next(g["userIds"] for g in sb.fixtures.groups if g["id"] == 3)}
    assert set(e["user_ids"]) == members and all(isinstance(i, int) for i in e["user_ids"])
    assert e["assignedaddressids"] == [5431] and e["assignedobjectids"] == [608]
    assert "location" not in e and isinstance(e["ort"], str)
    assert e["status"] == "active"
    e = read_by_id(sb, create(sb, ressources=[]))
    assert e["ressourcesWithKeys"] == []  # an empty map is an empty array (§5.2)


def test_appointment_list_has_the_documented_types(sb: Sandbox) -> None:
    create(sb, erinnerung="1 hours")
    missing = post(sb, signed(sb, "get", "appointmentList", {"filter": {}}))
    assert missing["response"]["results"][0]["status"]["errorcode"] != 0
    answer = post(
        sb,
        signed(
            sb,
            "get",
            "appointmentList",
            {"filter": {"startDate": "2027-03-01", "endDate": "2027-03-01", "userIds": ["17"]}},
        ),
    )
    (record,) = ok(answer)["data"]["records"]
    e = record["elements"]
    assert isinstance(e["id"], str) and e["date"]["start"] == "2027-03-01T09:00:00+00:00"
    assert e["type"] == {"value": "Besichtigung", "label": "Besichtigung"}
    assert e["status"] == {"value": "active", "label": "active"}
    assert e["reminder"]["timeBefore"] == 60
    assert all(isinstance(u["id"], str) for u in e["users"]) and e["contacts"][0]["id"] == "5431"
    assert e["estate"] == {"id": "608"} and e["private"] is False
    subject = post(
        sb,
        signed(
            sb,
            "get",
            "appointmentList",
            {
                "filter": {
                    "startDate": "2027-03-01",
                    "endDate": "2027-03-01",
                    "subject": [{"op": "like", "val": "%AC-1042"}],
                    "isCancelled": False,
                }
            },
        ),
    )
    assert len(ok(subject)["data"]["records"]) == 1


@pytest.mark.parametrize(
    "parameters",
    [
        {"userfilter": "byGroupId", "groupId": "abc"},
        {"filter": {"startDate": "2027-03-01", "endDate": "2027-03-01", "userIds": ["abc"]}},
        {"filter": {"startDate": "2027-03-01", "endDate": "2027-03-01"}, "listlimit": "Infinity"},
    ],
    ids=["groupId-abc", "userIds-abc", "listlimit-text"],
)
def test_bad_get_parameters_get_an_error_answer(sb: Sandbox, parameters: dict[str, Any]) -> None:
    rtype = "users" if "userfilter" in parameters else "appointmentList"
    answer = post(sb, signed(sb, "get", rtype, parameters))
    assert answer["response"]["results"][0]["status"]["errorcode"] in (80, 255)


@pytest.mark.parametrize(
    "body",
    [
        b'{"token": "x", "request": {"actions": [' + b"[" * 1000 + b"]" * 1000 + b"]}}",
        None,  # users: [[1]]
        None,  # a resource id of 10^26
        None,  # listlimit: Infinity (PHP and Python write it)
    ],
    ids=["nested-1000", "users-nested", "id-10e26", "listlimit-infinity"],
)
def test_hostile_bodies_get_an_answer(sb: Sandbox, body: bytes | None, request: Any) -> None:
    case = request.node.callspec.id
    if case == "users-nested":
        body = php_json(
            {
                "token": sb.credentials.token,
                "request": {
                    "actions": [
                        signed(sb, "create", "calendar", CREATE | {"subscribers": {"users": [[1]]}})
                    ]
                },
            }
        )
    elif case == "id-10e26":
        body = php_json(
            {
                "token": sb.credentials.token,
                "request": {
                    "actions": [signed(sb, "read", "calendar", [], resourceid=str(10**26))]
                },
            }
        )
    elif case == "listlimit-infinity":
        action = signed(sb, "read", "estate", {"listlimit": 1})
        body = json.dumps({"token": sb.credentials.token, "request": {"actions": [action]}})
        body = body.replace('"listlimit": 1', '"listlimit": Infinity').encode()
    assert body is not None
    answer = requests.post(sb.url, data=body, timeout=10).json()
    status = answer["status"]
    if answer["response"]["results"]:
        status = answer["response"]["results"][0]["status"]
    assert status["errorcode"] != 0


def test_content_length_minus_one_is_refused_not_buffered(sb: Sandbox) -> None:
    host, port = sb.url.split("//")[1].split("/")[0].split(":")
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(
            b"POST /api/stable/api.php HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"
            + b"x" * 1000
        )
        answer = b""
        while chunk := s.recv(4096):  # the sandbox closes the connection after answering
            answer += chunk
    text = answer.decode(errors="replace")
    assert text.startswith("HTTP/1.1 400") and '"errorcode"' in text


def test_a_burst_of_connects_is_answered_without_waiting(sb: Sandbox) -> None:
    """With a listen backlog of 5, 64 simultaneous connects waited a second or more."""
    body = php_json({"token": sb.credentials.token, "request": {"actions": []}})
    slowest: list[float] = []

    def one() -> None:
        started = time.perf_counter()
        requests.post(sb.url, data=body, timeout=10)
        slowest.append(time.perf_counter() - started)

    threads = [threading.Thread(target=one) for _ in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert len(slowest) == 64 and max(slowest) < 0.9, max(slowest)


@pytest.mark.parametrize("mode", ["top", "action", "mixed"])
def test_credential_errors_where_the_dialect_puts_them(mode: str) -> None:
    with Sandbox(dialect=Dialect(auth_errors=mode)) as sb:
        bad_mac = signed(sb, "get", "users", [], hmac="x" * 44)
        answer = post(sb, bad_mac)
        if mode == "top":
            assert answer["status"]["errorcode"] == 137 and answer["response"]["results"] == []
        else:
            assert answer["response"]["results"][0]["status"]["errorcode"] == 137
        wrong_token = json.dumps(
            {"token": "nope", "request": {"actions": [signed(sb, "get", "users", [])]}}
        ).encode()
        answer = post(sb, raw=wrong_token)
        if mode == "action":
            assert answer["response"]["results"][0]["status"]["errorcode"] == 22
        else:
            assert answer["status"] == {
                "code": 400,
                "errorcode": 22,
                "message": "not authenticated",
            }


def test_every_dialect_point_has_a_readme_line() -> None:
    readme = (ROOT / "importer" / "sandbox" / "README.md").read_text(encoding="utf-8")
    for name in Dialect.__dataclass_fields__:
        assert f"`{name}`" in readme, name


def test_dialects_come_from_text_fixtures_and_seeds(tmp_path: Path) -> None:
    assert str(Dialect.parse("ids=string, booleans=digits")) == "ids=string,booleans=digits"
    assert Dialect.parse("random:7") == Dialect.random(7) != Dialect()
    from importer.sandbox import POINTS

    alternatives = list(Dialect.alternatives())
    assert (
        len(set(alternatives)) == len(alternatives) == sum(len(v) - 1 for v, _ in POINTS.values())
    )
    assert all(len(a.changes()) == 1 for a in alternatives)
    fixtures = tmp_path / "f.json"
    fixtures.write_text(json.dumps({"dialect": {"ids": "string"}}), encoding="utf-8")
    from importer.sandbox import FixtureError, load_fixtures

    assert load_fixtures(fixtures).dialect == Dialect(ids="string")
    fixtures.write_text(json.dumps({"dialect": {"idz": "string"}}), encoding="utf-8")
    with pytest.raises(FixtureError, match="idz"):
        load_fixtures(fixtures)


def test_estate_id_text_only_when_asked_and_conflicts_not_cacheable(sb: Sandbox) -> None:
    asked = ok(post(sb, signed(sb, "read", "estate", {"data": ["Id", "objektnr_extern"]})))
    record = asked["data"]["records"][0]
    assert record["elements"]["Id"] == str(record["id"]) and isinstance(record["id"], int)
    plain = ok(post(sb, signed(sb, "read", "estate", {"data": ["objektnr_extern"]})))
    assert "Id" not in plain["data"]["records"][0]["elements"]
    conflicts = ok(post(sb, signed(sb, "get", "appointmentConflicts", {"data": CREATE["data"]})))
    assert conflicts["cacheable"] is False and conflicts["data"]["meta"]["cntabsolute"] == 4
    assert [r["id"] for r in conflicts["data"]["records"]] == [
        "conflictedUsers",
        "conflictedResources",
        "conflictedAddresses",
        "conflictedEstates",
    ]
    assert ok(post(sb, signed(sb, "get", "users", {})))["cacheable"] is True
