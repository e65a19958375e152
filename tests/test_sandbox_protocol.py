"""The sandbox speaks the documented protocol: envelope, auth, results, the CLI, conformance."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from importer.core import contract
from importer.onoffice.client import Action, OnOfficeClient, sign
from importer.sandbox import Sandbox

from .conftest import ROOT

pytestmark = pytest.mark.documented  # pins the default answer shapes

CONFORMANCE = ROOT.parent / "shared" / "conformance" / "check_sandbox.py"


def _post(sandbox: Sandbox, body: bytes | dict, **kw: object) -> dict:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.post(sandbox.url, data=data, timeout=5, **kw).json()  # type: ignore[arg-type]


def test_conformance_client_written_from_the_docs_passes(sandbox: Sandbox) -> None:
    if not CONFORMANCE.exists():
        pytest.skip("shared/conformance is not beside this checkout")
    run = subprocess.run(
        [
            sys.executable,
            str(CONFORMANCE),
            sandbox.url,
            sandbox.credentials.token,
            sandbox.credentials.secret,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 failed" in run.stdout


@pytest.mark.parametrize(
    ("body", "code", "errorcode"),
    [
        (b"{not json", 500, 4),
        (b"", 500, 9),
        ({"request": {"actions": []}}, 400, 13),
        ({"token": "", "request": {"actions": []}}, 400, 13),
        ({"token": "x"}, 500, 14),
        ({"token": "x", "request": {"actions": {}}}, 500, 15),
    ],
    ids=["bad-json", "empty", "no-token", "empty-token", "no-request", "actions-not-array"],
)
def test_envelope_errors_answer_json(
    sandbox: Sandbox, body: object, code: int, errorcode: int
) -> None:
    answer = _post(sandbox, body)  # type: ignore[arg-type]
    assert answer["status"]["code"] == code
    assert answer["status"]["errorcode"] == errorcode
    assert answer["response"]["results"] == []


def test_unknown_token_executes_nothing(sandbox: Sandbox) -> None:
    client = OnOfficeClient(sandbox.url, sandbox.credentials)
    body = client.envelope(
        [
            Action(
                "create",
                "calendar",
                {"data": {"start_dt": "2026-01-01 10:00:00", "end_dt": "2026-01-01 11:00:00"}},
            )
        ]
    )
    body["token"] = "z" * 32
    answer = _post(sandbox, body)
    assert answer["status"] == {"code": 400, "errorcode": 22, "message": "not authenticated"}
    assert sandbox.store.count_appointments() == 0


@pytest.mark.parametrize(
    ("drop", "errorcode"),
    [("actionid", 16), ("resourceid", 18), ("resourcetype", 19), ("parameters", 20)],
)
def test_missing_action_attributes_are_refused_per_action(
    sandbox: Sandbox, drop: str, errorcode: int
) -> None:
    client = OnOfficeClient(sandbox.url, sandbox.credentials)
    body = client.envelope([Action("get", "users", {}), Action("get", "groups", {})])
    del body["request"]["actions"][0][drop]
    answer = _post(sandbox, body)
    results = answer["response"]["results"]
    assert results[0]["status"]["errorcode"] == errorcode
    assert results[1]["status"]["errorcode"] == 0
    assert answer["status"]["errorcode"] == 97


def test_unsupported_actions_answer_documented_errors(sandbox: Sandbox) -> None:
    client = OnOfficeClient(sandbox.url, sandbox.credentials)
    body = client.envelope([Action("do", "noSuchThing", {}), Action("get", "users", {})])
    foreign = "urn:example:other"
    ts = body["request"]["actions"][1]["timestamp"]
    body["request"]["actions"][1].update(
        actionid=foreign,
        hmac=sign(ts, sandbox.credentials.token, "users", foreign, sandbox.credentials.secret),
    )
    results = _post(sandbox, body)["response"]["results"]
    assert [r["status"]["errorcode"] for r in results] == [25, 23]


def test_both_endpoints_answer_and_other_paths_and_methods_do_not(sandbox: Sandbox) -> None:
    base = sandbox.url.removesuffix(contract.API_PATHS[0])
    client = OnOfficeClient(base + contract.API_PATHS[1], sandbox.credentials)
    assert client.get_users()
    assert requests.post(base + "/api/v3/api.php", data=b"{}", timeout=5).status_code == 404
    assert requests.get(sandbox.url, timeout=5).status_code == 405


def test_results_echo_ids_and_mark_reads_cacheable(sandbox: Sandbox) -> None:
    client = OnOfficeClient(sandbox.url, sandbox.credentials)
    outcomes = client.send(
        [
            Action("get", "users", {}, identifier="u1"),
            Action("read", "estate", {"listlimit": 1}, identifier="e1"),
        ]
    )
    raws = [o.raw for o in outcomes]  # type: ignore[union-attr]
    assert [r["identifier"] for r in raws] == ["u1", "e1"]
    assert all(r["cacheable"] for r in raws)
    assert raws[1]["data"]["meta"]["cntabsolute"] == 7


def _start_cli(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-c", "from importer.cli import main; main()", "sandbox", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_cli_sandbox_prints_credentials_serves_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    proc = _start_cli("--port", "0", "--db", str(tmp_path / "sb.sqlite"))
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(5)]
        env = dict(
            line.split("export ", 1)[1].strip().split("=", 1) for line in lines if "export " in line
        )
        from importer.onoffice.client import Credentials

        creds = Credentials(env["ONOFFICE_TOKEN"], env["ONOFFICE_SECRET"])
        with OnOfficeClient(env["ONOFFICE_API_URL"], creds) as client:
            assert len(client.get_users()) == 7
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err
        assert "Sandbox stopped" in out
        assert "Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)


def test_cli_sandbox_keeps_credentials_and_ids_in_its_db(tmp_path: Path) -> None:
    db = str(tmp_path / "sb.sqlite")
    with Sandbox(db=db) as first:
        creds = first.credentials
        with OnOfficeClient(first.url, creds) as c:
            old = c.create_appointment(
                {"data": {"start_dt": "2026-01-01 10:00:00", "end_dt": "2026-01-01 11:00:00"}}
            )
            c.delete_appointment(old)
    with Sandbox(db=db) as second:
        assert second.credentials == creds
        with OnOfficeClient(second.url, creds) as c:
            new = c.create_appointment(
                {"data": {"start_dt": "2026-01-01 10:00:00", "end_dt": "2026-01-01 11:00:00"}}
            )
    assert new == old + 1  # never reused, also after a delete and a restart


def test_cli_sandbox_port_in_use_is_one_clear_line() -> None:
    with Sandbox() as busy:
        proc = _start_cli("--port", str(busy.port))
        _, err = proc.communicate(timeout=20)
    assert proc.returncode != 0
    assert "cannot listen" in err
    assert "Traceback" not in err


def test_stop_is_prompt_even_with_open_keepalive_connections() -> None:
    sandbox = Sandbox().start()
    session = requests.Session()
    client = OnOfficeClient(sandbox.url, sandbox.credentials, session=session)
    client.get_users()
    started = time.monotonic()
    sandbox.close()
    assert time.monotonic() - started < 3
