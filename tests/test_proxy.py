"""An office network: onOffice reachable only through a proxy that inspects TLS.

The proxy is real (a thread of this test on 127.0.0.1): it answers ``CONNECT`` for a made-up
host name of the API, which only it resolves (to the sandbox), presents a certificate of its
own for that name, signed by the office's CA (as a TLS-inspecting proxy does), and relays the
decrypted requests to the sandbox. The office's CA is in the "operating system's trust store"
(on Linux: the OpenSSL CA file, ``SSL_CERT_FILE``), not in certifi's bundle. Nothing but the
proxy can resolve the host: a client that ignores the proxy fails on DNS.
"""

from __future__ import annotations

import os
import select
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from importer.core.errors import NotDelivered
from importer.onoffice.client import OnOfficeClient, Timeouts, proxy_for
from importer.run.submit import run_import
from importer.sandbox import Sandbox
from importer.web.workspace import Connection, Workspace

from . import forkserver
from .helpers import FAST, generated

API_HOST = "api.onoffice-office.invalid"  # .invalid never resolves (RFC 6761)
API_URL = f"https://{API_HOST}/api/stable/api.php"


class InspectingProxy:
    """A CONNECT proxy on 127.0.0.1 that knows one host name: the sandbox's."""

    def __init__(self, target: tuple[str, int], ca: trustme.CA) -> None:
        self.target = target
        self.tunnels: list[str] = []  # the CONNECT lines it served
        self.refused: list[str] = []
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(API_HOST).configure_cert(self._context)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)  # a close does not wake a blocked accept: it looks again
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> InspectingProxy:
        self._spawn(self._accept)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._listener.close()
        for thread in self._threads:
            thread.join(5)

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        thread.start()
        self._threads.append(thread)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _address = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)  # accepted sockets inherit the listener's timeout
            self._spawn(self._serve, client)

    def _serve(self, client: socket.socket) -> None:
        with client:
            client.settimeout(10)
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = client.recv(4096)
                if not chunk:
                    return
                head += chunk
            line = head.split(b"\r\n")[0].decode("latin-1")
            method, authority, _version = line.split(" ", 2)
            if method != "CONNECT" or authority != f"{API_HOST}:443":
                self.refused.append(line)
                client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                return
            self.tunnels.append(line)
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            try:
                inner = self._context.wrap_socket(client, server_side=True)
            except (ssl.SSLError, OSError):  # the client did not trust the office's CA
                self.refused.append(f"{line} (TLS refused by the client)")
                return
            with inner, socket.create_connection(self.target, timeout=10) as upstream:
                self._relay(inner, upstream)

    def _relay(self, inner: ssl.SSLSocket, upstream: socket.socket) -> None:
        """Bytes both ways until either side closes (the requests, decrypted, to the sandbox)."""
        while not self._stop.is_set():
            pending = inner.pending() > 0
            ready = [inner] if pending else select.select([inner, upstream], [], [], 0.2)[0]
            for side in ready:
                other = upstream if side is inner else inner
                try:
                    data = side.recv(65536)
                except (ssl.SSLWantReadError, BlockingIOError):
                    continue
                except OSError:
                    return
                if not data:
                    return
                other.sendall(data)


@pytest.fixture
def office(tmp_path: Path) -> Iterator[tuple[Sandbox, InspectingProxy, Path]]:
    """The sandbox, the proxy in front of it, and the office CA's file (the trust store)."""
    ca = trustme.CA()
    ca_file = tmp_path / "office-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    with Sandbox() as sb:
        port = int(sb.url.split(":")[2].split("/")[0])
        with InspectingProxy(("127.0.0.1", port), ca) as proxy:
            yield sb, proxy, ca_file


def _office_env(monkeypatch: pytest.MonkeyPatch, ca_file: Path, **variables: str) -> None:
    for name in (
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))  # the office CA, installed by its IT
    for name, value in variables.items():
        monkeypatch.setenv(name, value)


def test_an_import_goes_through_the_environment_proxy(
    office: tuple[Sandbox, InspectingProxy, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sb, proxy, ca_file = office
    _office_env(monkeypatch, ca_file, HTTPS_PROXY=proxy.url)
    source, mapping = generated(tmp_path, 5)
    with OnOfficeClient(API_URL, sb.credentials, timeouts=Timeouts(5, 10)) as client:
        assert client.proxy == proxy.url
        report = run_import(
            source, mapping, client=client, journal_path=tmp_path / "j.sqlite", options=FAST
        )
    assert report.counts()["created"] == 5
    assert sb.store.count_appointments() == 5
    assert len(proxy.tunnels) >= 1 and proxy.refused == []


def test_the_config_files_proxy_is_used_and_loopback_goes_direct(
    office: tuple[Sandbox, InspectingProxy, Path],
    tmp_path: Path,
) -> None:
    """The CLI's whole path: `proxy =` of the config file, no proxy variable at all; then a
    sandbox on loopback with a dead proxy in the environment: loopback never uses one."""
    sb, proxy, ca_file = office
    source, mapping = generated(tmp_path, 3)
    config = tmp_path / "config.ini"
    config.write_text(
        f"[onoffice]\nurl = {API_URL}\ntoken = {sb.credentials.token}\n"
        f"secret = {sb.credentials.secret}\nproxy = {proxy.url}\n",
        encoding="utf-8",
    )
    config.chmod(0o600)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ONOFFICE") and "proxy" not in k.lower()
    }
    env |= {"HOME": str(tmp_path), "SSL_CERT_FILE": str(ca_file), "LANG": "C"}
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    args = ["run", str(source), "--mapping", str(mapping), "--config", str(config)]
    done = forkserver.run(args, env=env, cwd=tmp_path, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "3 created" in done.stdout
    assert sb.store.count_appointments() == 3 and len(proxy.tunnels) >= 1

    dead = socket.create_server(("127.0.0.1", 0))
    dead_url = f"http://127.0.0.1:{dead.getsockname()[1]}"
    dead.close()
    local = env | {
        "HTTPS_PROXY": dead_url,
        "HTTP_PROXY": dead_url,
        "ONOFFICE_API_URL": sb.url,
        "ONOFFICE_TOKEN": sb.credentials.token,
        "ONOFFICE_SECRET": sb.credentials.secret,
    }
    again = forkserver.run(
        ["check", str(source), "--mapping", str(mapping), "--resolve"],
        env=local,
        cwd=tmp_path,
        timeout=60,
    )
    assert again.returncode == 0, again.stderr


def test_an_office_that_sets_only_http_proxy_goes_through_it(
    office: tuple[Sandbox, InspectingProxy, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`setx HTTP_PROXY …` and nothing else (the variable most office guides name): requests
    alone would take it for http:// URLs only and go to the https API directly, failing on
    DNS."""
    sb, proxy, ca_file = office
    _office_env(monkeypatch, ca_file, HTTP_PROXY=proxy.url)
    with OnOfficeClient(API_URL, sb.credentials, timeouts=Timeouts(5, 5), read_retries=0) as c:
        assert c.proxy == proxy.url
        assert c.account().startswith(API_URL)
    assert len(proxy.tunnels) == 1 and proxy.refused == []


def test_no_proxy_names_the_host_and_the_message_says_no_proxy_was_used(
    office: tuple[Sandbox, InspectingProxy, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sb, proxy, ca_file = office
    _office_env(monkeypatch, ca_file, HTTPS_PROXY=proxy.url, NO_PROXY=".onoffice-office.invalid")
    with OnOfficeClient(API_URL, sb.credentials, timeouts=Timeouts(2, 2), read_retries=0) as c:
        assert c.proxy is None
        with pytest.raises(NotDelivered) as caught:
            c.account()
    assert "directly, without a proxy" in str(caught.value)
    assert "NameResolutionError" in str(caught.value)
    assert proxy.tunnels == []


def test_an_unreachable_proxy_is_named_and_nothing_was_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = socket.create_server(("127.0.0.1", 0))
    dead_url = f"http://user:hunter22@127.0.0.1:{dead.getsockname()[1]}"
    dead.close()
    _office_env(monkeypatch, tmp_path / "none.pem", HTTPS_PROXY=dead_url)
    client = OnOfficeClient(API_URL, _Keys(), timeouts=Timeouts(2, 2), read_retries=0)
    with client, pytest.raises(NotDelivered) as caught:  # never reached: safe to send again
        client.create_appointment({"data": {}})
    text = str(caught.value)
    assert f"through the proxy http://127.0.0.1:{dead_url.rsplit(':', 1)[1]}" in text
    assert "hunter22" not in text and "user" not in text.split("proxy", 1)[1]


def test_the_office_ca_comes_from_the_system_trust_store_not_certifi(
    office: tuple[Sandbox, InspectingProxy, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without the office CA installed, the inspecting proxy's certificate is refused: said as
    such, and nothing was sent (never 'lost after sending')."""
    sb, proxy, _ca_file = office
    empty = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(empty))  # a trust store without the office CA
    _office_env(monkeypatch, empty, HTTPS_PROXY=proxy.url)
    client = OnOfficeClient(API_URL, sb.credentials, timeouts=Timeouts(5, 5), read_retries=0)
    with client, pytest.raises(NotDelivered) as caught:
        client.create_appointment({"data": {}})
    assert "certificate" in str(caught.value)
    assert f"through the proxy {proxy.url}" in str(caught.value)
    assert sb.store.count_appointments() == 0


class _Keys:
    token = "t0ken-of-the-office"
    secret = "s3cret-of-the-office"


def test_proxy_for_reads_the_environment_as_every_http_program(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _office_env(monkeypatch, tmp_path / "none.pem", HTTPS_PROXY="http://proxy.office:3128")
    assert proxy_for("https://api.onoffice.de/api/stable/api.php") == "http://proxy.office:3128"
    assert proxy_for("http://127.0.0.1:8765/api.php") is None
    assert proxy_for("http://localhost:8765/api.php") is None
    assert proxy_for("http://[::1]:8765/api.php") is None
    assert proxy_for("https://api.onoffice.de/", "http://other:8080") == "http://other:8080"
    assert proxy_for("https://api.onoffice.de/", "none") is None
    monkeypatch.setenv("NO_PROXY", "onoffice.de")
    assert proxy_for("https://api.onoffice.de/api/stable/api.php") is None
    assert proxy_for("https://api.other.de/") == "http://proxy.office:3128"
    monkeypatch.setenv("HTTP_PROXY", "http://plain.office:8080")
    monkeypatch.setenv("ALL_PROXY", "http://all.office:8080")
    assert proxy_for("https://api.other.de/") == "http://proxy.office:3128"  # HTTPS_PROXY first
    monkeypatch.delenv("HTTPS_PROXY")
    assert proxy_for("https://api.other.de/") == "http://all.office:8080"  # then ALL_PROXY
    monkeypatch.delenv("ALL_PROXY")
    assert proxy_for("https://api.other.de/") == "http://plain.office:8080"  # then HTTP_PROXY
    assert proxy_for("https://api.onoffice.de/") is None  # NO_PROXY still counts


def test_a_ca_file_exported_for_python_is_honoured_too(
    office: tuple[Sandbox, InspectingProxy, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An office whose IT exported the proxy's certificate into REQUESTS_CA_BUNDLE (as for
    every Python tool before truststore): the system store lacks it, the file has it."""
    sb, proxy, ca_file = office
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    _office_env(monkeypatch, other, HTTPS_PROXY=proxy.url, REQUESTS_CA_BUNDLE=str(ca_file))
    with OnOfficeClient(API_URL, sb.credentials, timeouts=Timeouts(5, 5)) as client:
        assert client.account().startswith(API_URL)
    assert len(proxy.tunnels) == 1


def test_the_web_app_connects_through_the_proxy(
    office: tuple[Sandbox, InspectingProxy, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The office's way in: the web app's connection (its read-only preflight) goes through
    the config file's proxy; with the environment's proxy instead, the same; and where that
    proxy is down, the page's problem names it."""
    sb, proxy, ca_file = office
    _office_env(monkeypatch, ca_file)  # no proxy variable: the config file's alone
    config = tmp_path / "config.ini"
    keys = f"url = {API_URL}\ntoken = {sb.credentials.token}\nsecret = {sb.credentials.secret}\n"
    config.write_text(f"[onoffice]\n{keys}proxy = {proxy.url}\n", encoding="utf-8")
    config.chmod(0o600)

    def connection() -> Connection:
        app = Workspace(
            folder=tmp_path / "private",
            mappings=tmp_path / "mappings",
            results=tmp_path / "results",
            config=config,
            env={},
        )
        try:
            return app.connection(fresh=True)
        finally:
            app.close()

    through_config = connection()
    assert through_config.ok and through_config.account is not None, through_config.problem
    assert len(proxy.tunnels) == 1
    config.write_text(f"[onoffice]\n{keys}", encoding="utf-8")
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    assert connection().ok and len(proxy.tunnels) == 2
    dead = socket.create_server(("127.0.0.1", 0))
    dead_url = f"http://127.0.0.1:{dead.getsockname()[1]}"
    dead.close()
    monkeypatch.setenv("HTTPS_PROXY", dead_url)
    down = connection()
    assert not down.ok and f"through the proxy {dead_url}" in str(down.problem)
