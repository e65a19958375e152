"""The CLI in a process of its own, forked from one that has already imported the importer.

A CLI process started with ``python -c`` spends 1.3-1.8 s of CPU importing pandas and pandera
before it does anything; the suite starts about a hundred. Here one server process per test
process imports them once and forks a child for each run (the zygote pattern, as Android and
Chromium start apps and renderers). The child is a real process like any other: its own pid,
environment (os.environ and the C library's), HOME, working folder, TZ, standard streams and
signals, killable with -9; when its command ends, its interpreter ends as a fresh one does
(threads joined, atexit, streams flushed, exit code from SystemExit or 1 and a traceback).

What a child takes from the server instead of its own environment, because an interpreter
settles it at start: the C locale, the standard streams' encoding, UTF-8 mode, the PYTHON*
variables (PYTHONHASHSEED: the children of one server share a hash seed) and numpy's global
random state (``random`` is reseeded at fork). No test varies these; the importer reads its
language from the variables at run time. Tests of start-up itself (``--help`` times,
``python -m importer``, every command once in test_project.py) start a fresh interpreter.

Protocol: a test connects to the server's Unix socket and sends its request (the length in 8
digits, then JSON) with its three standard streams (SCM_RIGHTS). The server forks a waiter,
which forks the child and answers the child's pid with a pidfd (signals then reach that
process or none, never a later one with the same pid), then its exit code as ``subprocess``
gives it (negative: killed by a signal).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
# What the CLI's commands import when they run; the child finds them loaded. (Pandera's checks
# import hypothesis when it is installed, as in the test extras: 0.36 s of every run.)
PRELOAD = (
    "import pandas, pandera.pandas, pandera.backends.pandas.builtin_checks, openpyxl, requests;"
    "import importer.cli, importer.rules.check, importer.run.submit, importer.run.undo,"
    " importer.output.results"
)
_STREAMS = 3


# ---- the server side (runs in the forking process) -------------------------------------------


def serve(path: str) -> None:
    """Accept requests until the test process closes our stdin. Returns only in a child,
    its ``sys.argv`` set: the caller then runs the CLI as ``python -c`` would."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C in the terminal is the tests'
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # waiters are reaped by the kernel
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        ready, _, _ = select.select([listener, sys.stdin], [], [])
        if sys.stdin in ready:  # the test process has gone
            os._exit(0)
        conn, _ = listener.accept()
        if os.fork() == 0:
            listener.close()
            _wait_for_child(conn)
            return
        conn.close()


def _receive(conn: socket.socket) -> tuple[dict[str, Any], list[int]]:
    """A request: its length (8 digits), then its JSON; the streams come with the first part."""
    data, fds, _, _ = socket.recv_fds(conn, 1 << 16, _STREAMS)
    while len(data) < 8 or len(data) < 8 + int(data[:8]):
        chunk = conn.recv(1 << 16)
        if not chunk:
            raise ConnectionError("request cut off")
        data += chunk
    return json.loads(data[8:]), fds


def _wait_for_child(conn: socket.socket) -> None:
    """In the waiter: fork the child, report its pid (with a pidfd, so that a signal can never
    reach another process that later gets the same pid), then its exit code."""
    try:
        request, fds = _receive(conn)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        pid = os.fork()
        if pid == 0:
            conn.close()
            _become_child(request, fds)
            return
        for fd in fds:
            os.close(fd)
        socket.send_fds(conn, [f"{pid}\n".encode()], [os.pidfd_open(pid)])
        _, status = os.waitpid(pid, 0)
        conn.sendall(f"{os.waitstatus_to_exitcode(status)}\n".encode())
    except (OSError, ValueError):
        pass  # the test side has gone (or sent no request): nobody to tell
    os._exit(0)


def _become_child(request: dict[str, Any], fds: list[int]) -> None:
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    time.tzset()  # TZ, as a fresh interpreter reads it
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as a fresh interpreter has it
    if request.get("file_size_limit"):
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write fails (EFBIG), no kill
        limit = int(request["file_size_limit"])
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    sys.argv = ["-c", *request["args"]]


SERVER_CODE = (
    f"{PRELOAD}\n"
    "import sys\n"
    "from tests.forkserver import serve\n"
    "serve(sys.argv[1])\n"
    # only a child gets here: the CLI, as `python -c "from importer.cli import main; main()"`
    "from importer.cli import main\n"
    "main()\n"
)


# ---- the test side ----------------------------------------------------------------------------


class _Server:
    def __init__(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="cli-forks-")  # short: a socket path is <108
        self.path = os.path.join(self.folder, "socket")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SERVER_CODE, self.path],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={k: v for k, v in os.environ.items() if not k.startswith("ONOFFICE")},
        )
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], 60)
        if not ready or self.proc.stdout.readline() != b"ready\n":
            self.close()
            raise RuntimeError("the CLI's fork server did not start")
        atexit.register(self.close)

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()  # the server ends when its stdin does
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        shutil.rmtree(self.folder, ignore_errors=True)


_server: _Server | None = None


def _connect() -> socket.socket:
    global _server
    if _server is None or _server.proc.poll() is not None:
        _server = _Server()
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(_server.path)
    return conn


class Process:
    """A started CLI process, with the part of ``subprocess.Popen`` the tests use."""

    def __init__(self, conn: socket.socket, args: list[str]) -> None:
        self._conn = conn
        self.args = args
        self.returncode: int | None = None
        ready, _, _ = select.select([conn], [], [], 60)
        if not ready:
            raise RuntimeError(f"the fork server did not start {args}")
        self._buffer, pidfds, _, _ = socket.recv_fds(conn, 4096, 1)
        if not pidfds:
            raise RuntimeError(f"the fork server did not start {args}")
        self._pidfd = pidfds[0]  # signals go to this process, never to a later one of its pid
        self.pid = int(self._line(60))

    def _line(self, timeout: float | None) -> str:
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self._conn], [], [], left)
            if not ready:
                raise subprocess.TimeoutExpired(self.args, timeout or 0)
            chunk = self._conn.recv(4096)
            if not chunk:
                raise RuntimeError(f"the fork server lost the process for {self.args}")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode()

    def _ended(self, code: str) -> int:
        self.returncode = int(code)
        self._conn.close()
        os.close(self._pidfd)
        return self.returncode

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                return self._ended(self._line(0))
            except subprocess.TimeoutExpired:
                return None
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            return self._ended(self._line(timeout))
        return self.returncode

    def send_signal(self, sig: int) -> None:
        """As Popen's: nothing when the process has already ended."""
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(self._pidfd, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def end(self) -> None:
        """Killed if still running, and waited for: for ``finally`` blocks."""
        if self.poll() is None:
            self.kill()
            self.wait(10)


def _fd(stream: int | IO[Any] | None, mode: int) -> int:
    if stream is None or stream == subprocess.DEVNULL:
        return os.open(os.devnull, mode)
    return os.dup(stream if isinstance(stream, int) else stream.fileno())


def start(
    args: list[str],
    *,
    env: Mapping[str, str],
    cwd: str | Path | None = None,
    stdin: int | IO[Any] | None = None,
    stdout: int | IO[Any] | None = None,
    stderr: int | IO[Any] | None = None,
    file_size_limit: int | None = None,
) -> Process:
    """``onoffice-import ARGS`` in a process of its own (streams: a file, a descriptor, or
    ``None``/``DEVNULL``; ``stderr=subprocess.STDOUT`` shares stdout's)."""
    fds = [_fd(stdin, os.O_RDONLY), _fd(stdout, os.O_WRONLY)]
    fds.append(os.dup(fds[1]) if stderr == subprocess.STDOUT else _fd(stderr, os.O_WRONLY))
    arguments = [str(a) for a in args]
    request: dict[str, Any] = {
        "args": arguments,
        "env": dict(env),
        "cwd": str(cwd or os.getcwd()),
        "file_size_limit": file_size_limit,
    }
    conn = _connect()
    try:
        body = json.dumps(request).encode()
        socket.send_fds(conn, [b"%08d" % len(body) + body], fds)
        return Process(conn, arguments)
    except BaseException:
        conn.close()
        raise
    finally:
        for fd in fds:
            os.close(fd)


def run(
    args: list[str],
    *,
    env: Mapping[str, str],
    cwd: str | Path | None = None,
    input: str | None = None,
    timeout: float = 120,
    file_size_limit: int | None = None,
) -> subprocess.CompletedProcess[str]:
    """As ``subprocess.run(..., capture_output=True, text=True)``; stdin is empty unless
    ``input`` is given. A run past ``timeout`` is killed and raises ``TimeoutExpired``."""
    with (
        tempfile.TemporaryFile() as given,
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
    ):
        given.write((input or "").encode())
        given.seek(0)
        proc = start(
            args,
            env=env,
            cwd=cwd,
            stdin=given,
            stdout=out,
            stderr=err,
            file_size_limit=file_size_limit,
        )
        try:
            code = proc.wait(timeout)
        finally:
            proc.end()
        texts = []
        for stream in (out, err):  # as text=True reads them: strict, universal newlines
            stream.seek(0)
            texts.append(stream.read().decode("utf-8").replace("\r\n", "\n").replace("\r", "\n"))
    return subprocess.CompletedProcess(["onoffice-import", *args], code, *texts)
