"""A client for the onOffice API: envelope, HMAC v2 signing, typed results and errors.

One :class:`OnOfficeClient` holds one ``requests.Session`` (connection reuse) and the
credentials. :meth:`OnOfficeClient.send` posts one or several actions in one request and returns
one outcome per action, by position, after checking the ``identifier`` echo. Transport failures
are classified as :class:`~importer.core.errors.NotDelivered` (safe to re-send) or
:class:`~importer.core.errors.OutcomeUnknown` (the server may have acted: read back first).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import ssl
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Protocol, TypeGuard
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import requests
import truststore
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, ProxyError

from ..core import contract
from ..core.errors import (
    ActionRefused,
    AuthenticationError,
    ClockError,
    MalformedResponse,
    NotDelivered,
    OutcomeUnknown,
    PermissionRefused,
    TransportError,
    redact,
)
from ..core.i18n import _

log = logging.getLogger(__name__)

__all__ = [
    "Action",
    "ActionResult",
    "Credentials",
    "OnOfficeClient",
    "Record",
    "Timeouts",
    "sign",
]


def sign(timestamp: int, token: str, resourcetype: str, actionid: str, secret: str) -> str:
    """HMAC v2 (§2.1): base64(HMAC-SHA256(secret, timestamp + token + resourcetype + actionid))."""
    message = f"{timestamp}{token}{resourcetype}{actionid}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


@dataclass(frozen=True)
class Credentials:
    """API token and secret. Neither ever appears in a repr, a log line or an error message."""

    token: str = field(repr=False)
    secret: str = field(repr=False)

    def __repr__(self) -> str:
        return "Credentials(token=***, secret=***)"

    def __str__(self) -> str:
        return repr(self)


class KeyPair(Protocol):
    """Anything holding a token and a secret (:class:`Credentials`, a sandbox's credentials)."""

    @property
    def token(self) -> str: ...
    @property
    def secret(self) -> str: ...


@dataclass(frozen=True)
class Timeouts:
    connect: float = contract.CONNECT_TIMEOUT_SECONDS
    read: float = contract.READ_TIMEOUT_SECONDS


@dataclass(frozen=True)
class Action:
    """One API action before signing."""

    kind: str  # read, create, modify, delete, get, do
    resourcetype: str
    parameters: Mapping[str, Any] | Sequence[Any] = field(default_factory=dict)
    resourceid: str = ""
    identifier: str = ""

    @property
    def actionid(self) -> str:
        return contract.action_id(self.kind)

    def describe(self) -> str:
        target = f" {self.resourceid}" if self.resourceid else ""
        return f"{self.kind} {self.resourcetype}{target}"


@dataclass(frozen=True)
class Record:
    id: Any
    type: Any
    elements: Any


@dataclass(frozen=True)
class ActionResult:
    action: Action
    records: list[Record]
    cntabsolute: int | None
    raw: dict[str, Any] = field(repr=False)


Outcome = ActionResult | ActionRefused


class OnOfficeClient:
    """Talks to one onOffice API endpoint with one set of credentials."""

    def __init__(
        self,
        url: str,
        credentials: KeyPair,
        *,
        timeouts: Timeouts | None = None,
        clock: Callable[[], float] = time.time,
        session: requests.Session | None = None,
        read_retries: int = 3,
        proxy: str | None = None,
    ) -> None:
        """``proxy``: the config file's ``proxy`` (a URL, or ``none`` for none); None takes the
        environment's (:func:`proxy_for`)."""
        self._endpoint = url  # as given: may hold credentials (user:pass@, ?token=)
        self.url = display_url(url)  # for messages, reports and journals: never a secret
        parts = urlsplit(url)
        self._hidden = [
            v
            for v in (parts.username, parts.password, parts.query, credentials.token)
            if v and len(v) >= 4
        ] + [v for _key, v in parse_qsl(parts.query) if len(v) >= 4]
        self._hidden.append(credentials.secret)
        self.proxy = proxy_for(url, proxy)
        if self.proxy:  # a proxy's own user and password are never shown either
            proxy_parts = urlsplit(self.proxy)
            self._hidden += [v for v in (proxy_parts.username, proxy_parts.password) if v]
        self.read_retries = read_retries
        self._credentials = credentials
        self.timeouts = timeouts or Timeouts()
        self._clock = clock
        self._session = session or requests.Session()
        # The proxy is chosen once, above (loopback never goes through one); the environment
        # is not read again per request (it also saves time), nor is .netrc.
        self._session.trust_env = False
        self._session.proxies = {parts.scheme: self.proxy} if self.proxy else {}
        # Room for concurrent workers on one host (requests keeps 10 by default); certificates
        # checked against the operating system's trust store, where an office's TLS-inspecting
        # proxy has its own certificate installed.
        self._session.mount(url.split("://")[0] + "://", _TrustStoreAdapter(pool_maxsize=32))
        # Every request goes to one URL with one header: prepared once (at the first request,
        # where a malformed URL is an error like any other) and copied per request; Session.post
        # prepares and merges settings anew each time: 0.3-0.5 ms of CPU a row
        # (bench/import_bench.py)
        self._template: requests.PreparedRequest | None = None
        self.requests_sent = 0
        self.user_id: int | None = None  # the API user's, once account() has asked
        self.round_trip = 0.0  # seconds the last answered one-action request took
        self.last_clock_skew: float | None = None  # local minus server time, from `Date`
        # Calls this server answered with "unknown action" ("read calendar"): not asked again.
        self.unsupported: set[str] = set()
        # The account's lists (users, groups, resources, fields), asked once per client: the
        # look-ups, the rights' messages and the account report share one answer.
        self._lists: dict[tuple[str, str], list[Record]] = {}

    def __repr__(self) -> str:
        return f"OnOfficeClient(url={self.url!r})"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> OnOfficeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the protocol ---------------------------------------------------------------------------
    def envelope(self, actions: Sequence[Action]) -> dict[str, Any]:
        """The request body for ``actions``, each signed with a fresh timestamp (§1.2, §2)."""
        timestamp = int(self._clock())
        token, secret = self._credentials.token, self._credentials.secret
        return {
            "token": token,
            "request": {
                "actions": [
                    {
                        "actionid": a.actionid,
                        "resourceid": a.resourceid,
                        "resourcetype": a.resourcetype,
                        "identifier": a.identifier,
                        "timestamp": timestamp,
                        "hmac": sign(timestamp, token, a.resourcetype, a.actionid, secret),
                        "hmac_version": contract.HMAC_VERSION,
                        "parameters": _sorted_first_level(a.parameters),
                    }
                    for a in actions
                ]
            },
        }

    def send(self, actions: Sequence[Action]) -> list[Outcome]:
        """Post ``actions`` in one request; one outcome per action, in order.

        Credential and clock errors raise (they concern every action); a refused action is
        returned as an :class:`ActionRefused` in its place so the others still count.
        """
        if not actions:
            return []
        actions = _with_identifiers(actions)
        # Reads change nothing: one whose answer got lost is simply asked again (re-signed).
        retries = self.read_retries if all(a.kind in ("read", "get") for a in actions) else 0
        for attempt in range(retries + 1):
            envelope = self.envelope(actions)
            body = json.dumps(envelope, ensure_ascii=False).encode("utf-8")
            signed_at = envelope["request"]["actions"][0]["timestamp"]
            try:
                response = self._post(body, actions, signed_at)
                return _read_results(response, actions)
            except (TransportError, MalformedResponse):
                if attempt == retries:
                    raise
                time.sleep(0.2 * 2**attempt)
        raise AssertionError("unreachable")

    def call(self, action: Action) -> ActionResult:
        """Send one action; raise :class:`ActionRefused` if the server refused it."""
        (outcome,) = self.send([action])
        if isinstance(outcome, ActionRefused):
            raise outcome
        return outcome

    def _post(self, body: bytes, actions: Sequence[Action], signed_at: int) -> dict[str, Any]:
        what = ", ".join(a.describe() for a in actions[:3]) + (" ..." if len(actions) > 3 else "")
        where: dict[str, Any] = {"url": self.url, "action": what}  # context for the error
        self.requests_sent += 1
        began = time.monotonic()
        try:
            if self._template is None:
                self._template = self._session.prepare_request(
                    requests.Request(
                        "POST", self._endpoint, headers={"Content-Type": contract.CONTENT_TYPE}
                    )
                )
            prepared = self._template.copy()
            prepared.prepare_body(data=body, files=None)
            # the session's cookies as they are now (a load balancer's sticky cookie)
            prepared.headers.pop("Cookie", None)
            prepared.prepare_cookies(self._session.cookies)
            http = self._session.send(prepared, timeout=(self.timeouts.connect, self.timeouts.read))
            if len(actions) == 1:
                self.round_trip = time.monotonic() - began
        except requests.ConnectTimeout as exc:
            raise NotDelivered(
                _("{action}: connect timeout to {url} {route}").format(
                    action=what, url=self.url, route=self.route()
                ),
                **where,
            ) from exc
        except requests.ConnectionError as exc:
            if _untrusted(exc):  # at the handshake: before anything was sent
                raise NotDelivered(
                    _(
                        "{action}: the certificate of {url} is not trusted {route}; a proxy "
                        "that inspects TLS needs its certificate in this computer's trust "
                        "store ({why})"
                    ).format(
                        action=what, url=self.url, route=self.route(), why=self._clean(_reason(exc))
                    ),
                    **where,
                ) from exc
            if _never_connected(exc):
                raise NotDelivered(
                    _("{action}: cannot connect to {url} {route} ({why})").format(
                        action=what, url=self.url, route=self.route(), why=self._clean(_reason(exc))
                    ),
                    **where,
                ) from exc
            reason = self._clean(_reason(exc))
            raise OutcomeUnknown(
                _("{action}: connection to {url} lost after sending ({why})").format(
                    action=what, url=self.url, why=reason
                ),
                **where,
            ) from exc
        except requests.Timeout as exc:
            raise OutcomeUnknown(
                _("{action}: no answer from {url} within {seconds} s").format(
                    action=what, url=self.url, seconds=f"{self.timeouts.read:g}"
                ),
                timed_out=True,
                **where,
            ) from exc
        except requests.RequestException as exc:
            raise OutcomeUnknown(
                _("{action}: {why} talking to {url}").format(
                    action=what, why=type(exc).__name__, url=self.url
                ),
                **where,
            ) from exc
        self._note_server_time(http.headers.get("Date"), signed_at)
        status = http.status_code
        decoded = _json_object(http.content)
        if status >= 400 and _is_protocol_error(decoded):
            return decoded  # UNDOCUMENTED HTTP status: the JSON says what went wrong (§1.1)
        if status == 429:
            raise NotDelivered(
                _("{action}: HTTP 429 (rate limited) from {url}").format(action=what, url=self.url),
                status=status,
                **where,
            )
        if status >= 500:  # it may have acted; 503 says it declined, which a read-back confirms
            raise OutcomeUnknown(
                _("{action}: HTTP {status} from {url}").format(
                    action=what, status=status, url=self.url
                ),
                status=status,
                **where,
            )
        if status >= 400:
            raise MalformedResponse(
                _("{action}: HTTP {status} from {url} - is the API URL right?").format(
                    action=what, status=status, url=self.url
                ),
                status=status,
                **where,
            )
        if decoded is None:
            raise MalformedResponse(
                _("{action}: the answer from {url} is not a JSON object").format(
                    action=what, url=self.url
                ),
                status=status,
                **where,
            )
        return decoded

    def route(self) -> str:
        """How requests reach the API, for a message: which proxy, or that none was used."""
        if self.proxy:
            return _("through the proxy {proxy}").format(proxy=display_url(self.proxy))
        return _(
            "directly, without a proxy (none is set: HTTPS_PROXY, or proxy in the config file)"
        )

    def _clean(self, text: str) -> str:
        """Text from the network stack, with anything from the URL's credentials masked."""
        return redact(text, *sorted(self._hidden, key=len, reverse=True))[:160]

    def _note_server_time(self, header: str | None, signed_at: int) -> None:
        """How far our signed timestamp is from the server's `Date` (1 s resolution)."""
        try:
            server = parsedate_to_datetime(header).timestamp() if header else None
        except (TypeError, ValueError):
            server = None
        self.last_clock_skew = None if server is None else signed_at - server

    def server_now(self) -> float:
        """The server's time now (epoch seconds), as far as its last `Date` header tells; this
        computer's clock before any answer."""
        return self._clock() - (self.last_clock_skew or 0.0)

    def account(self) -> str:
        """Which onOffice account this client speaks for, as text that holds no secret.

        The API user's id from `get users` with `userfilter: onlyOwn` (§6.5) at this URL; where
        that is not answered, a keyed hash of the token (the token itself never leaves here).
        """
        try:
            records = self.call(Action("get", "users", {"userfilter": "onlyOwn"})).records
        except (ActionRefused, PermissionRefused):  # answered, so the credentials hold
            records = []
        own = [contract.record_id(r.id) for r in records[:1]]
        if own and own[0] is not None:
            self.user_id = own[0] if isinstance(own[0], int) else None
            return f"{self.url} user {own[0]}"
        digest = hashlib.sha256(f"onoffice-import account:{self._credentials.token}".encode())
        return f"{self.url} token {digest.hexdigest()[:16]}"

    # --- convenience calls ----------------------------------------------------------------------
    def create_appointment(self, parameters: Mapping[str, Any], *, identifier: str = "") -> int:
        result = self.call(Action("create", "calendar", parameters, identifier=identifier))
        new_id = contract.record_id(result.records[0].id) if result.records else None
        if not isinstance(new_id, int):  # an int or a digit string, by server (§7)
            raise MalformedResponse(_("calendar create: the answer holds no appointment id"))
        return new_id

    def read_appointment(self, appointment_id: int) -> dict[str, Any] | None:
        """One appointment by id, or None when the server does not know it."""
        try:
            result = self.call(Action("read", "calendar", [], resourceid=str(appointment_id)))
        except ActionRefused:
            return None
        return dict(result.records[0].elements) if result.records else None

    def read_appointments(
        self,
        datestart: str,
        dateend: str,
        *,
        filter: Mapping[str, Any] | None = None,
        allusers: bool = True,
        users: Sequence[int] = (),
        groups: Sequence[int] = (),
        showcancelled: bool = False,
    ) -> list[Record]:
        """Appointments overlapping the period (whole days, §5.2); at most 500 per call.

        ``datestart``/``dateend`` as ``YYYY-MM-DD HH:MM:SS`` (a bare day is UNDOCUMENTED).
        """
        parameters: dict[str, Any] = {
            "datestart": datestart,
            "dateend": dateend,
            "allusers": allusers,
            "showcancelled": showcancelled,
        }
        if filter:
            parameters["filter"] = dict(filter)
        if users:
            parameters["users"] = list(users)
        if groups:
            parameters["groups"] = list(groups)
        return self.call(Action("read", "calendar", parameters)).records

    def modify_appointment(self, appointment_id: int, parameters: Mapping[str, Any]) -> None:
        self.call(Action("modify", "calendar", parameters, resourceid=str(appointment_id)))

    def delete_appointment(self, appointment_id: int) -> None:
        """§5.5 names the resource type `appointments`, its example sends `calendar`: the one
        this server does not know is not asked again."""
        kinds = ["calendar", "appointments"]
        if "delete calendar" in self.unsupported:
            kinds.reverse()
        for n, resourcetype in enumerate(kinds):
            try:
                self.call(Action("delete", resourcetype, {}, resourceid=str(appointment_id)))
                return
            except ActionRefused as exc:
                if n or exc.errorcode not in contract.UNKNOWN_ACTION_CODES:
                    raise
                self.unsupported.add(f"delete {resourcetype}")

    def read_estates(self, *, filter: Mapping[str, Any], data: Sequence[str]) -> list[Record]:
        return list(self.read_pages("estate", {"filter": dict(filter), "data": list(data)}))

    def read_addresses(self, *, filter: Mapping[str, Any], data: Sequence[str]) -> list[Record]:
        return list(self.read_pages("address", {"filter": dict(filter), "data": list(data)}))

    def get_users(self) -> list[Record]:
        # UNDOCUMENTED (§6.5): paging of users/groups; one page is assumed to hold all.
        return self._listed(Action("get", "users", {}))

    def get_groups(self) -> list[Record]:
        return self._listed(Action("get", "groups", {}))

    def get_calendar_resources(self) -> list[Record]:
        return self._listed(Action("get", "calendarResources", {}))

    def get_fields(self, module: str) -> list[Record]:
        """The fields of one module, their types, labels and permitted values (§6.6; the
        documentation says the call can take seconds, and to cache it)."""
        parameters = {"modules": [module], "labels": True, "language": contract.FIELDS_LANGUAGE}
        return self._listed(Action("get", "fields", parameters), module)

    def _listed(self, action: Action, part: str = "") -> list[Record]:
        """An account-wide list, asked once per client (a refusal is asked again)."""
        key = (action.resourcetype, part)
        if key not in self._lists:
            self._lists[key] = self.call(action).records
        return list(self._lists[key])

    def rights(self, action: str, module: str, user_id: int, ids: Sequence[int]) -> set[int]:
        """Of ``ids``, the records ``user_id`` has the right to ``action`` on (§6.7)."""
        parameters = {
            "action": action,
            "module": module,
            "userid": user_id,
            "recordIds": [str(i) for i in ids],  # strings, as in the example
        }
        records = self.call(Action("get", "checkuserrecordsright", parameters)).records
        elements = records[0].elements if records else []
        allowed = contract.id_set(elements if isinstance(elements, list) else [])
        return {i for i in allowed if isinstance(i, int)}

    def read_pages(self, resourcetype: str, parameters: Mapping[str, Any]) -> Iterator[Record]:
        """Every record of a list read, paging with ``listoffset`` by the 500 cap (§6).

        UNDOCUMENTED whether ``cntabsolute`` is the total or the page size (§3.1): paging goes on
        until a page comes back short, whatever it says.
        """
        offset = 0
        while True:
            page = {**parameters, "listlimit": contract.LISTLIMIT_MAX, "listoffset": offset}
            result = self.call(Action("read", resourcetype, page))
            yield from result.records
            offset += len(result.records)
            if len(result.records) < contract.LISTLIMIT_MAX:
                return


# --- helpers -----------------------------------------------------------------------------------
def proxy_for(url: str, configured: str | None = None) -> str | None:
    """The proxy requests to ``url`` go through, or None for none.

    Loopback (a sandbox on this computer) always goes direct. Else the config file's ``proxy``
    when it is set (``none``: no proxy, whatever the environment says); else the environment's,
    as every HTTP program reads it: ``HTTPS_PROXY``, else ``ALL_PROXY``, else ``HTTP_PROXY``
    (either case; an office that set only ``HTTP_PROXY`` has no other way out, and requests
    alone would go direct) unless ``NO_PROXY`` names the host (on Windows, without those
    variables, the proxy of the Internet Options, which the standard library reads from the
    registry).
    """
    parts = urlsplit(url)
    if _loopback(parts.hostname or ""):
        return None
    if configured is not None and configured.strip():
        chosen = configured.strip()
        return None if chosen.lower() in ("none", "direct", "off") else chosen
    found = requests.utils.get_environ_proxies(url)
    return found.get(parts.scheme) or found.get("all") or found.get("http") or None


def _loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _TrustStoreAdapter(HTTPAdapter):
    """Certificates verified by the operating system (Windows' and macOS' certificate stores,
    Linux's CA bundle) via ``truststore``: an office proxy that inspects TLS presents a
    certificate of its own, which its IT installed there, not in certifi's bundle."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = _system_context()
        super().init_poolmanager(*args, **kwargs)

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        kwargs["ssl_context"] = _system_context()
        return super().proxy_manager_for(proxy, **kwargs)


def _system_context() -> ssl.SSLContext:
    """The trust store's context, with the CA file of ``REQUESTS_CA_BUNDLE`` (or
    ``CURL_CA_BUNDLE``) too, where someone exported the proxy's certificate for Python before."""
    context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle and os.path.isfile(bundle):
        context.load_verify_locations(cafile=bundle)
    return context


def _with_identifiers(actions: Sequence[Action]) -> list[Action]:
    """Give every action a unique identifier so the echo can be checked (§1.4)."""
    out: list[Action] = []
    seen: set[str] = set()
    for i, a in enumerate(actions):
        ident = a.identifier or f"action-{i}"
        if ident in seen:
            raise ValueError(f"two actions share the identifier {ident!r}")
        seen.add(ident)
        out.append(
            a if a.identifier else Action(a.kind, a.resourcetype, a.parameters, a.resourceid, ident)
        )
    return out


def display_url(url: str) -> str:
    """The URL without user info, query or fragment: where credentials could hide."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{host}:{port}" if port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _sorted_first_level(parameters: Mapping[str, Any] | Sequence[Any]) -> Any:
    """§1.2: the first level of `parameters` sorted by key (UNDOCUMENTED whether v2 needs it)."""
    if isinstance(parameters, Mapping):
        return dict(sorted(parameters.items()))
    return parameters


def _never_connected(exc: requests.ConnectionError) -> bool:
    """True when urllib3 failed while connecting (refused, DNS, connect timeout)."""
    reason = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)  # MaxRetryError wraps the cause
    # NewConnectionError and DNS subclass ConnectTimeoutError; a ProxyError is raised only
    # before the proxy was reached or while it refused the tunnel: nothing was sent either way
    return isinstance(reason, (ConnectTimeoutError, ProxyError))


def _untrusted(exc: requests.ConnectionError) -> bool:
    """True when the server's certificate failed verification (only ever at the handshake)."""
    reason = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)
    cause = reason.args[0] if isinstance(reason, BaseException) and reason.args else None
    return isinstance(cause, ssl.SSLCertVerificationError)


def _reason(exc: Exception) -> str:
    reason = exc.args[0] if exc.args else exc
    reason = getattr(reason, "reason", reason)
    text = type(reason).__name__
    if isinstance(reason, BaseException) and reason.args:
        text += f": {reason.args[-1]}"  # cut by the caller, after masking (a cut hides nothing)
    return text


def _read_results(response: dict[str, Any], actions: Sequence[Action]) -> list[Outcome]:
    """Apply the recommended client rule (§3.5) to a decoded answer."""
    status = response.get("status")
    if not isinstance(status, dict):
        raise MalformedResponse(_("the answer has no status object"))
    code, errorcode = status.get("code"), _code(status.get("errorcode"))
    message = str(status.get("message", ""))
    if errorcode in contract.CLOCK_ERROR_CODES:
        raise ClockError(
            _("onOffice refused the timestamp ({message})").format(message=message),
            errorcode=errorcode,
        )
    # 400 is "not authenticated" (§3.2), unless it only pairs with 97 (UNDOCUMENTED `code`).
    if (
        (code in (400, "400") and errorcode != contract.ERROR_IN_ACTION)
        or errorcode in (contract.CODE_TOKEN_MISSING, contract.CODE_NOT_AUTHENTICATED)
        or errorcode in contract.CREDENTIAL_ERROR_CODES
    ):
        raise _credentials_refused(errorcode, message or "not authenticated")
    body = response.get("response")
    results = body.get("results") if isinstance(body, dict) else None
    if errorcode not in (0, contract.ERROR_IN_ACTION) or not isinstance(results, list):
        if isinstance(errorcode, int) and errorcode:
            raise ActionRefused(errorcode, _("request refused: {message}").format(message=message))
        raise MalformedResponse(_("the answer has no response.results list"))
    if len(results) != len(actions):
        raise MalformedResponse(
            _("{sent} actions sent but {received} results received").format(
                sent=len(actions), received=len(results)
            )
        )
    results = _in_request_order(results, actions)
    return [_read_result(result, action) for result, action in zip(results, actions, strict=True)]


def _in_request_order(results: list[Any], actions: Sequence[Action]) -> list[Any]:
    """Results matched to actions by their identifier echo when every one carries it.

    UNDOCUMENTED: result order (§1.4). The SDK pairs by position; the identifiers we send are
    unique, so a server that reorders is still read right. Without complete echoes: position.
    """
    echoed = [r.get("identifier") if isinstance(r, dict) else None for r in results]
    wanted = [a.identifier for a in actions]
    if echoed == wanted or sorted(map(str, echoed)) != sorted(wanted):
        return results
    by_identifier = dict(zip(echoed, results, strict=True))
    return [by_identifier[i] for i in wanted]


def _json_object(content: bytes) -> dict[str, Any] | None:
    """The body as a JSON object; None for anything else (empty, HTML, an array, too deep)."""
    try:
        decoded = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return decoded if isinstance(decoded, dict) else None


def _is_protocol_error(decoded: dict[str, Any] | None) -> TypeGuard[dict[str, Any]]:
    """An error answer that came with an HTTP error status: a JSON status with a non-zero
    errorcode (not an empty, HTML or zero-errorcode body)."""
    status = decoded.get("status") if decoded is not None else None
    return isinstance(status, dict) and _code(status.get("errorcode")) not in (0, None, "")


def _credentials_refused(errorcode: Any, message: str) -> AuthenticationError:
    """One wording wherever the server reports it (top level or per action, §3.2)."""
    code = (
        _("error {code}: ").format(code=errorcode)
        if isinstance(errorcode, int) and errorcode
        else ""
    )
    return AuthenticationError(
        _(
            "onOffice refused the credentials ({code}{message}); check ONOFFICE_TOKEN and "
            "ONOFFICE_SECRET"
        ).format(code=code, message=message),
        errorcode=errorcode if isinstance(errorcode, int) else None,
    )


def _code(value: Any) -> Any:
    """An errorcode as an int when it is a number sent as text (§7); else as it came."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value


def _read_result(result: Any, action: Action) -> Outcome:
    if not isinstance(result, dict) or not isinstance(result.get("status"), dict):
        raise MalformedResponse(
            _("{action}: result without status").format(action=action.describe())
        )
    echoed = result.get("identifier")
    if echoed not in (None, action.identifier):
        raise MalformedResponse(
            _("{action}: result for {echoed} came back where {expected} was expected").format(
                action=action.describe(), echoed=repr(echoed), expected=repr(action.identifier)
            )
        )
    errorcode = result["status"].get("errorcode", result["status"].get("code"))
    message = str(result["status"].get("message", ""))
    if errorcode in (0, "0"):
        data = result.get("data")
        if not isinstance(data, dict) or not isinstance(data.get("records", []), list):
            raise MalformedResponse(
                _("{action}: result without data.records").format(action=action.describe())
            )
        records = [
            Record(r.get("id"), r.get("type"), r.get("elements"))
            for r in data.get("records", [])
            if isinstance(r, dict)
        ]
        meta = data.get("meta")
        total = meta.get("cntabsolute") if isinstance(meta, dict) else None
        return ActionResult(action, records, total if isinstance(total, int) else None, result)
    try:
        errorcode = int(errorcode)
    except (TypeError, ValueError):
        raise MalformedResponse(
            _("{action}: errorcode {code}").format(action=action.describe(), code=repr(errorcode))
        ) from None
    if errorcode in contract.CREDENTIAL_ERROR_CODES:
        raise _credentials_refused(errorcode, message or "not authenticated")
    if errorcode in contract.CLOCK_ERROR_CODES:
        raise ClockError(
            _("onOffice refused the timestamp (error {code}: {message})").format(
                code=errorcode, message=message
            ),
            errorcode=errorcode,
        )
    # A refused write concerns its row (156: this agent's appointments); a refused read
    # concerns every row alike.
    if contract.is_permission_refusal(errorcode, message) and action.kind in ("read", "get"):
        raise PermissionRefused(errorcode, message, action=action.describe())
    return ActionRefused(
        errorcode, message, action=action.describe(), identifier=action.identifier or None
    )
