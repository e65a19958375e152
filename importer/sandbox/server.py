"""The sandbox HTTP server: envelope checks, authentication, dispatch, fault injection (§8)."""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import random
import secrets
import socket
import string
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from . import spec
from .actions import HANDLERS, Context, utc_now
from .calendar import Refusal
from .dialects import Dialect
from .fixtures import Fixtures, load_fixtures
from .store import Store

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 20 * 1024 * 1024
MAX_JSON_DEPTH = 64  # deeper requests are refused before parsing (no request needs more than 6)
LISTEN_BACKLOG = 128  # bursts of connects are queued, not made to wait for a retry
# UNDOCUMENTED (§8.8): the top-level `code` that goes with errorcode 97.
CODE_WITH_ERROR_IN_ACTION = 200


@dataclass(frozen=True)
class Credentials:
    """The API user's token and secret; never shown in a repr."""

    token: str = field(repr=False)
    secret: str = field(repr=False)

    def __repr__(self) -> str:
        return "Credentials(token=***, secret=***)"


@dataclass
class Faults:
    """Injected trouble, off by default. Rates are probabilities per request (0..1)."""

    latency: float | tuple[float, float] = 0.0  # seconds, fixed or a random range
    fail_before_rate: float = 0.0  # refused before processing ...
    fail_before: str = "503"  # ... with HTTP 503, "429" (rate limited), or "reset"
    drop_after_rate: float = 0.0  # processed, then no usable answer ...
    drop_after: str = "reset"  # ... the connection reset, or "500" (HTTP 500 after the work)
    clock_skew: float = 0.0  # seconds added to the server's clock
    writes_only: bool = False  # faults hit only requests holding a write action
    # faults hit nothing before the first write: an API that goes down as an import starts
    # sending (its reads, look-ups and preflight went through)
    from_first_write: bool = False
    # Every write action answered with this (code, message): e.g. (156, "no right ...").
    refuse_writes: tuple[int, str] | None = None
    # A script for the next requests the faults hit, one entry each, then the rates again:
    # "ok", "503", "429" or "reset" (refused before processing), "500" or "lost" (processed, no
    # answer).
    plan: list[str] = field(default_factory=list)
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.fail_before not in ("503", "429", "reset"):
            raise ValueError("fail_before must be '503', '429' or 'reset'")
        if self.drop_after not in ("500", "reset"):
            raise ValueError("drop_after must be '500' or 'reset'")
        self.rng = random.Random(self.seed)
        self.lock = threading.Lock()
        self.written = False

    def next_planned(self) -> str | None:
        with self.lock:
            return self.plan.pop(0) if self.plan else None

    def roll(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self.lock:
            return self.rng.random() < rate

    def delay(self) -> float:
        if isinstance(self.latency, tuple):
            with self.lock:
                return self.rng.uniform(*self.latency)
        return self.latency


@dataclass
class Stats:
    """What reached the sandbox: for tests that count POSTs per row."""

    posts: int = 0
    actions: Counter[str] = field(default_factory=Counter)
    by_identifier: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, actions: list[Any]) -> None:
        with self.lock:
            self.posts += 1
            for a in actions:
                if isinstance(a, dict):
                    kind = str(a.get("actionid", "")).rsplit(":", 1)[-1]
                    self.actions[f"{kind} {a.get('resourcetype', '')}"] += 1
                    if a.get("identifier"):
                        self.by_identifier[str(a["identifier"])] += 1


def _random_key(length: int) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


class _Dropped(Exception):
    """The fault plan says: no answer on this connection."""


class Engine:
    """The protocol, independent of HTTP: body bytes in, answer object out."""

    def __init__(
        self,
        fixtures: Fixtures,
        store: Store,
        credentials: Credentials,
        faults: Faults,
        clock: Any = time.time,
        dialect: Dialect | None = None,
    ) -> None:
        self.fixtures, self.store, self.credentials = fixtures, store, credentials
        self.faults, self.clock, self.stats = faults, clock, Stats()
        self.dialect = dialect or Dialect()

    def now(self) -> float:
        return float(self.clock()) + self.faults.clock_skew

    def answer(self, body: bytes) -> dict[str, Any]:
        if not body.strip():
            return _top(500, spec.E_EMPTY, "Empty request")
        if _too_deep(body):
            return _top(500, spec.E_BROKEN_JSON, "Invalid or malformed JSON: nested too deeply")
        try:
            request = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return _top(500, spec.E_BROKEN_JSON, "Invalid or malformed JSON")
        if not isinstance(request, dict):
            return _top(500, spec.E_REQUEST, "Missing or invalid element: request")
        token = request.get("token")
        if not isinstance(token, str) or not token:
            return _top(400, spec.E_TOKEN, "Missing or invalid element: token")
        if not isinstance(request.get("request"), dict):
            return _top(500, spec.E_REQUEST, "Missing or invalid element: request")
        actions = request["request"].get("actions")
        if not isinstance(actions, list):
            return _top(500, spec.E_ACTIONS, "Missing or invalid element: actions")
        known = hmac.compare_digest(token.encode(), self.credentials.token.encode())
        if not known and self.dialect.auth_errors != "action":
            return _top(400, spec.E_NOT_AUTHENTICATED, "not authenticated")
        if self.dialect.auth_errors == "top":  # every signature first: nothing runs if one fails
            for action in actions:
                try:
                    self._authenticate(action if isinstance(action, dict) else {}, token)
                except Refusal as refusal:
                    if refusal.code in (spec.E_HMAC, spec.E_TIMESTAMP):
                        return _top(400, refusal.code, refusal.message)
        results = [self._action(action, token, known) for action in actions]
        failed = any(r["status"]["errorcode"] != 0 for r in results)
        answer = (
            _top(int(self.dialect.code_with_97), spec.E_IN_ACTION, "Error in action")
            if failed
            else _top(200, 0, "OK")
        )
        if self.dialect.result_order == "reversed":
            results.reverse()
        answer["response"]["results"] = results
        return answer

    def http_status(self, answer: dict[str, Any]) -> int:
        """HTTP 200 for every answer, or (dialect http_status=mirror) its top-level code."""
        code = answer.get("status", {}).get("code")
        if self.dialect.http_status == "mirror" and code in (400, 500):
            return int(code)
        return 200

    def _action(self, action: Any, token: str, known: bool) -> dict[str, Any]:
        echo = action if isinstance(action, dict) else {}
        result: dict[str, Any] = {
            "actionid": _echoable(echo.get("actionid", "")),
            "resourceid": str(_echoable(echo.get("resourceid", ""))),
            "resourcetype": _echoable(echo.get("resourcetype", "")),
            "cacheable": False,
            "identifier": _echoable(echo.get("identifier", "")),
        }
        try:
            if not known:  # dialect auth_errors=action: the token is refused per action
                raise Refusal(spec.E_NOT_AUTHENTICATED, "not authenticated")
            kind = self._authenticate(echo, token)
            # §3.1: reads are cacheable, but the examples mark conflicts `false`.
            result["cacheable"] = kind in ("read", "get") and echo["resourcetype"] not in (
                "appointmentConflicts",
                "checkuserrecordsright",
            )
            handler = HANDLERS.get((kind, echo["resourcetype"]))
            only = self.dialect.delete_resource
            if kind == "delete" and only != "both" and echo["resourcetype"] != only:
                handler = None
            if handler is None:
                raise Refusal(
                    spec.E_NO_RESOURCE_CONFIG,
                    f'Missing configuration for resourceType "{echo["resourcetype"]}"'
                    f' with action "{kind}"',
                )
            refuse = self.faults.refuse_writes
            if refuse is not None and kind in spec.WRITE_KINDS:
                raise Refusal(*refuse)
            ctx = Context(
                self.fixtures,
                self.store,
                utc_now(self.now()),
                str(echo["resourceid"]),
                self.dialect,
            )
            records, total = handler(ctx, echo["parameters"])
        except Refusal as refusal:
            return self._failed(result, refusal.code, refusal.message)
        except Exception:  # a server answers every readable request; logged, never a crash
            log.debug("sandbox: action failed", exc_info=True)
            return self._failed(
                result,
                spec.E_INVALID_VALUE,
                "Invalid parameter value (the request could not be processed)",
            )
        for record in records:
            record["id"] = self.dialect.id(record["id"])
        if total is not None and self.dialect.cntabsolute == "page":
            total = len(records)
        result["data"] = {"meta": {"cntabsolute": total}, "records": records}
        result["status"] = {"errorcode": 0, "message": "OK"}
        return result

    def _failed(self, result: dict[str, Any], code: int, message: str) -> dict[str, Any]:
        """A failed action's result; its `data` as this dialect writes it (UNDOCUMENTED)."""
        if self.dialect.failed_data == "empty":
            result["data"] = {"meta": {"cntabsolute": None}, "records": []}
        elif self.dialect.failed_data == "null":
            result["data"] = None
        result["status"] = {"errorcode": code, "message": message}
        return result

    def _authenticate(self, action: dict[str, Any], token: str) -> str:
        """Envelope fields, HMAC v2 and timestamp of one action; returns the action kind."""
        actionid = action.get("actionid")
        if actionid is None:
            raise Refusal(spec.E_ACTIONID_MISSING, "Missing or invalid attribute: actionid")
        if not isinstance(actionid, str) or not actionid:
            raise Refusal(spec.E_ACTIONID_EMPTY, "Empty attribute: actionid")
        for name, code in (
            ("resourceid", spec.E_RESOURCEID),
            ("resourcetype", spec.E_RESOURCETYPE),
            ("parameters", spec.E_PARAMETERS),
        ):
            if name not in action:
                raise Refusal(code, f"Missing or invalid attribute: {name}")
        if not isinstance(action["resourcetype"], str):
            raise Refusal(spec.E_RESOURCETYPE, "Missing or invalid attribute: resourcetype")
        if not isinstance(action["resourceid"], str | int) or isinstance(
            action["resourceid"], bool
        ):
            raise Refusal(spec.E_RESOURCEID, "Missing or invalid attribute: resourceid")
        if not isinstance(action["parameters"], dict | list):
            raise Refusal(spec.E_PARAMETERS, "Missing or invalid element: parameters")
        keys = list(action["parameters"]) if isinstance(action["parameters"], dict) else []
        if self.dialect.sorted_parameters == "required" and keys != sorted(keys):
            raise Refusal(spec.E_HMAC, "The HMAC is invalid. (parameters must be sorted by key)")
        # §1.2: `hmac_version` and `timestamp` come as strings (templates) or ints (SDK).
        version = str(action.get("hmac_version", ""))
        if version not in ("", "2"):
            raise Refusal(spec.E_HMAC, "The HMAC is invalid. (unknown hmac_version)")
        timestamp = action.get("timestamp")
        if isinstance(timestamp, bool) or not isinstance(timestamp, int | str):
            raise Refusal(spec.E_TIMESTAMP, "timestamp invalid")
        stamp = str(timestamp)
        if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
            raise Refusal(spec.E_TIMESTAMP, "timestamp invalid")
        secret = self.credentials.secret
        if version == "2":
            expected = spec.signature_v2(stamp, token, action["resourcetype"], actionid, secret)
        else:  # no version: the legacy HMAC of older SDK releases (§2.4)
            expected = spec.signature_v1(action, token, secret)
        if not hmac.compare_digest(str(action.get("hmac", "")).encode(), expected.encode()):
            raise Refusal(spec.E_HMAC, "The HMAC is invalid.")
        if abs(self.now() - int(stamp)) > spec.TIMESTAMP_TOLERANCE:
            raise Refusal(
                spec.E_TIMESTAMP, "Your timestamp is too old or your server time is wrong"
            )
        kind = actionid.removeprefix(spec.URN_PREFIX)
        if not actionid.startswith(spec.URN_PREFIX) or kind not in spec.KINDS:
            raise Refusal(
                spec.E_NO_ACTION_CONFIG, f'Missing configuration for actionId "{actionid}"'
            )
        return kind


def _echoable(value: Any) -> Any:
    """The identifier as sent when it is a plain value (the SDK may send null)."""
    return value if value is None or isinstance(value, str | int | float | bool) else ""


def _too_deep(body: bytes) -> bool:
    """Nested deeper than MAX_JSON_DEPTH (bracket counting is skipped for small bodies)."""
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return False
    return _nesting(body) > MAX_JSON_DEPTH


def _nesting(body: bytes) -> int:
    """How deeply the JSON nests, counted without parsing (brackets inside strings excluded)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_JSON_DEPTH:
                return deepest
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def _top(code: int, errorcode: int, message: str) -> dict[str, Any]:
    return {
        "status": {"code": code, "errorcode": errorcode, "message": message},
        "response": {"results": []},
    }


def _actions_of(body: bytes) -> list[Any]:
    """The action objects of a request body, or [] when it is not a readable request."""
    try:
        if _too_deep(body):
            return []
        actions = json.loads(body)["request"]["actions"]
    except (ValueError, KeyError, TypeError, RecursionError):
        return []
    return [a for a in actions if isinstance(a, dict)] if isinstance(actions, list) else []


def _writes(actions: list[Any]) -> bool:
    return any(str(a.get("actionid", "")).rsplit(":", 1)[-1] in spec.WRITE_KINDS for a in actions)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so a client Session reuses its connection
    disable_nagle_algorithm = True  # without it each kept-alive request stalls ~40 ms
    timeout = 60  # an idle kept-alive connection does not hold a thread for ever
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.open_connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.open_connections.discard(self.connection)
        super().finish()

    def date_time_string(self, timestamp: float | None = None) -> str:
        # The `Date` header follows the sandbox's own (possibly skewed) clock.
        return formatdate(self.server.engine.now() if timestamp is None else timestamp, usegmt=True)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("sandbox %s - %s", self.address_string(), format % args)

    def _send(self, status: int, payload: dict[str, Any] | None = None) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode() if payload is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _reset(self) -> None:
        """Close with RST: the client sees 'connection reset' / 'closed without response'."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def do_GET(self) -> None:
        self._send(405, {"status": {"code": 405, "errorcode": 0, "message": "use POST"}})

    do_PUT = do_DELETE = do_PATCH = do_GET

    def do_POST(self) -> None:
        if self.path.split("?")[0] not in spec.API_PATHS:
            self._send(404, {"status": {"code": 404, "errorcode": 0, "message": "not found"}})
            return
        header = self.headers.get("Content-Length") or "0"
        length = int(header) if header.isascii() and header.isdigit() else -1
        if length < 0 or length > MAX_BODY_BYTES:
            self.close_connection = True  # the body cannot be skipped safely
            if length < 0:
                self._send(400, _top(500, spec.E_EMPTY, "Invalid Content-Length"))
            else:
                self._send(413, _top(500, spec.E_EMPTY, "Request too large"))
            return
        body = self.rfile.read(length)
        engine = self.server.engine
        faults = engine.faults
        actions = _actions_of(body)
        engine.stats.record(actions)
        if _writes(actions):
            faults.written = True
        hit = (not faults.writes_only or _writes(actions)) and (
            faults.written or not faults.from_first_write
        )
        planned = faults.next_planned() if hit else None
        if hit and (delay := faults.delay()) > 0:
            time.sleep(delay)  # the way there: the work is done after it
        before = planned in ("503", "429", "reset") or (
            planned is None and hit and faults.roll(faults.fail_before_rate)
        )
        if before:
            kind = planned or faults.fail_before
            if kind == "503":
                self._send(503, _top(503, 0, "injected: service unavailable"))
            elif kind == "429":
                self._send(429, _top(429, 0, "injected: too many requests"))
            else:
                self._reset()
            return
        answer = engine.answer(body)
        after = planned in ("500", "lost") or (
            planned is None and hit and faults.roll(faults.drop_after_rate)
        )
        if after:
            if (planned or faults.drop_after) == "500":
                self._send(500, _top(500, 0, "injected: failed after processing"))
            else:
                self._reset()
            return
        self._send(engine.http_status(answer), answer)


class _Server(ThreadingHTTPServer):
    request_queue_size = LISTEN_BACKLOG
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    engine: Engine

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.open_connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def close_open_connections(self) -> None:
        """Cut kept-alive connections too: after a stop, nothing is answered any more."""
        with self.connections_lock:
            for conn in list(self.open_connections):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
            self.open_connections.clear()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout, reset) is part of the game here, not a crash.
        log.debug("sandbox: connection from %s ended early", client_address, exc_info=True)


class Sandbox:
    """A running (or ready to run) onOffice sandbox.

    ``with Sandbox() as sb:`` starts it on a free port of 127.0.0.1 in a thread; ``sb.url`` and
    ``sb.credentials`` are what a client needs. ``sb.faults`` may be changed while it runs.
    """

    def __init__(
        self,
        fixtures: Fixtures | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        db: str = ":memory:",
        faults: Faults | None = None,
        credentials: Credentials | None = None,
        clock: Any = time.time,
        dialect: Dialect | str | None = None,
    ) -> None:
        self.fixtures = fixtures if fixtures is not None else load_fixtures()
        self.store = Store(db)
        self.host, self.port = host, port
        self._credentials = credentials or self._stored_credentials()
        if dialect is None:
            dialect = self.fixtures.dialect
        if isinstance(dialect, str):
            dialect = Dialect.parse(dialect)
        self.engine = Engine(
            self.fixtures, self.store, self._credentials, faults or Faults(), clock, dialect
        )
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def _stored_credentials(self) -> Credentials:
        """Fixture credentials, else the ones kept in the db, else new ones (kept in the db)."""
        if self.fixtures.token and self.fixtures.secret:
            return Credentials(self.fixtures.token, self.fixtures.secret)
        token, secret = self.store.setting("token"), self.store.setting("secret")
        if not token or not secret:
            token, secret = _random_key(32), _random_key(64)
            self.store.set_setting("token", token)
            self.store.set_setting("secret", secret)
        return Credentials(token, secret)

    @property
    def credentials(self) -> Credentials:
        return self._credentials

    @property
    def faults(self) -> Faults:
        return self.engine.faults

    @faults.setter
    def faults(self, value: Faults) -> None:
        self.engine.faults = value

    @property
    def dialect(self) -> Dialect:
        return self.engine.dialect

    @dialect.setter
    def dialect(self, value: Dialect) -> None:
        self.engine.dialect = value

    @property
    def stats(self) -> Stats:
        return self.engine.stats

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{spec.API_PATHS[0]}"

    def revoke_credentials(self) -> None:
        """Give the API user a new token and secret: the old ones stop working at once."""
        self._credentials = Credentials(_random_key(32), _random_key(64))
        self.engine.credentials = self._credentials

    def bind(self) -> Sandbox:
        """Open the listening socket (so `url` holds the real port) without serving yet."""
        if self._server is None:
            self._server = _Server((self.host, self.port), _Handler)
            self._server.engine = self.engine
            self.port = self._server.server_address[1]
        return self

    def start(self) -> Sandbox:
        """Serve in a background thread."""
        self.bind()
        assert self._server is not None
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            name="onoffice-sandbox",
            kwargs={"poll_interval": 0.1},
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the CLI's `sandbox` command)."""
        self.bind()
        assert self._server is not None
        try:
            self._server.serve_forever(poll_interval=0.2)
        finally:
            self._server.server_close()
            self._server = None
            self.store.close()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server.close_open_connections()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def close(self) -> None:
        self.stop()
        self.store.close()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Sandbox(url={self.url!r})"
