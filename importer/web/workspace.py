"""What the web app holds for its one user: the connection, the file, the mapping, the jobs.

Every step calls the library as the CLI does (:func:`importer.rules.check.check`,
:func:`importer.run.submit.run_import`, :func:`importer.run.undo.undo_import`, ...); nothing here
decides anything about rows. Uploads, check reports and the practice sandbox live in a
private folder (mode 700) that is removed at shutdown; results workbooks go to a folder that
stays (``results``), so the history can offer them later.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ..core.contract import local_now
from ..core.errors import ConfigurationError, ExitCode, ImporterError, MappingError
from ..core.i18n import N_, _, ngettext, number, when
from ..onoffice.reference import list_name
from .editor import pairs_of as editor_pairs
from .jobs import Job

if TYPE_CHECKING:
    from ..mapping.spec import Mapping as ImportMapping
    from ..onoffice.client import OnOfficeClient
    from ..output.report import ForWeb
    from ..rules.check import CheckReport
    from ..run.journal import ImportRecord
    from ..run.runner import RunReport
    from ..run.undo import UndoReport
    from ..sandbox import Sandbox
    from ..source.load import LoadOptions, Table

# What the file step accepts (the loader reads .xlsx by content whatever the name says).
FILE_SUFFIXES = (".xlsx", ".xlsm", ".csv", ".txt", ".ics")
# A mapping's name as it may be saved in the mappings folder: no path, no dot files.
MAPPING_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
PREVIEW_ROWS = 20
PLAN_KEPT = 300.0  # seconds an undo's list is kept for its next pages
# An import's results workbook in the results folder: STAMP_list.results.xlsx (list_of reads it)
RESULTS_STAMP = "%Y-%m-%d_%H%M%S"
# Beside it, what the workbook does not say and sending its failed rows again on a later day
# needs: the account, the file's name and the mapping as the import used it (no secret).
ABOUT_SUFFIX = ".import.json"


# An import of History whose results workbook is gone: what still holds, and what to do.
MOVED = N_(
    "the results workbook of this import is no longer at {path} (moved or deleted): put it "
    "back there to open or undo the import here. Its appointments are still in onOffice and "
    "in the ledger: importing the file again creates none of them twice"
)
NOT_ITS_WORKBOOK = N_(
    "this is not the results workbook of {name}: choose the one the import wrote (its Summary "
    "names the list {name})"
)
PRACTICE_ONLY = N_(
    "this is an import into the practice calendar: switch to practice (step 1) to open or undo it"
)


class Refused(ImporterError):
    """A request the workspace refuses (a bad name, a step taken too early): said on the page."""

    exit_code = ExitCode.INPUT_REJECTED


@dataclass
class Upload:
    path: Path  # in the private folder; never a name the browser chose
    name: str  # the name the browser sent, for display only
    sheet: str | None = None
    header_row: int | None = None

    def options(self) -> LoadOptions:
        from ..source.load import LoadOptions

        return LoadOptions(sheet=self.sheet, header_row=self.header_row)


@dataclass
class Connection:
    """Which onOffice the app talks to, and whether the credentials work."""

    kind: str  # "sandbox", "account" or "none"
    url: str = ""  # without credentials
    account: str | None = None  # from the read-only preflight
    problem: str | None = None  # why it does not work (never a secret)
    checked_at: float = field(default_factory=time.monotonic)
    survey: Any = None  # what the account answered (the start page's account report)

    @property
    def ok(self) -> bool:
        return self.account is not None


@dataclass
class Imported:
    """One import started from the app (this session's history; the ledger has the rest)."""

    job: Job
    source: Path
    source_name: str
    results: Path
    mapping_text: str  # as it was when the import started: a later edit is another import's
    options: LoadOptions
    account: str  # whose calendar: sending again and undo go nowhere else
    only_failed: bool = False


@dataclass
class Matching:
    """A mapped column's values against what onOffice takes, for the form to match one by one."""

    values: list[tuple[str, str, bool]]  # in the file, matched to ("" as written), taken as is
    choices: list[tuple[str, str]]  # what onOffice takes, in words
    more: int = 0  # distinct values beyond those offered


@dataclass
class PastImport:
    """One import of the results folder, as History shows it."""

    results: Path
    name: str  # the file the office imported
    written: str  # "05.12.2026 15:31"
    counts: Counter[str]  # rows per status, from the workbook
    undone: int  # of its appointments, removed by an undo since (the ledger)
    can_send: bool  # the mapping it used is known: its failed rows can be sent again
    account: str | None
    undo_book: Path | None  # the workbook of its undo, if one was made
    key: str = ""  # its name in History's addresses (never a path)
    order: float = 0.0  # when it was written (seconds): History's order
    missing: bool = False  # the ledger records it, its workbook is no longer where it was
    practice: bool = False  # into the practice sandbox, not onOffice


def recorded_key(results: str) -> str:
    """History's name of an import the ledger records outside the results folder."""
    return "run-" + hashlib.sha256(results.encode()).hexdigest()[:16]


def about_path(results: Path) -> Path:
    return results.with_name(results.name.removesuffix(".results.xlsx") + ABOUT_SUFFIX)


def read_about(results: Path) -> dict[str, Any]:
    """What the app noted beside a results workbook when it imported ({} when nothing)."""
    try:
        found = json.loads(about_path(results).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def named(label: str, key: Any) -> str:
    """A look-up's label as the office reads it: "5431 (Sabine Krüger)" -> "Sabine Krüger",
    "ind_Schl_3151 (Schlüsselbund Objekt)" -> "Schlüsselbund Objekt"; a user's stays
    "mmueller (Maria Müller)" (the user name is what the office types)."""
    head = f"{key} ("
    return label[len(head) : -1] if label.startswith(head) and label.endswith(")") else label


def _berlin(timestamp: float) -> datetime:
    from zoneinfo import ZoneInfo

    from ..core.contract import LOCAL_TIMEZONE

    return datetime.fromtimestamp(timestamp, ZoneInfo(LOCAL_TIMEZONE)).replace(tzinfo=None)


def _undo_book(results: Path) -> Path | None:
    book = results.with_name(results.name.removesuffix(".results.xlsx") + ".undo.xlsx")
    return book if book.is_file() else None


class Office:
    """What every browser of this computer shares: the connection (the practice sandbox or the
    account's credentials), the folders, and the browsers' workspaces (to end their jobs)."""

    def __init__(
        self,
        *,
        folder: Path,
        mappings: Path,
        results: Path,
        sandbox: bool = False,
        config: Path | None = None,
        env: Mapping[str, str] | None = None,
        practice: Path | None = None,
    ) -> None:
        self.folder = folder
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        self.mappings = mappings
        self.account_results = results
        # The practice sandbox's calendar, ledger and results: kept there across restarts
        # (History's practice imports stay, and can be undone), else gone with the app.
        self.practice = practice
        self.config = config
        self.env: Mapping[str, str] = os.environ if env is None else env
        self.sandbox_wanted = sandbox
        self._sandbox: Sandbox | None = None
        self._connection: Connection | None = None
        self._names: tuple[str, dict[str, dict[Any, str]]] | None = None  # account, names
        self._read: dict[tuple[str, int, int], tuple[Counter[str], set[int]]] = {}
        self._resolver: tuple[str, Any] | None = None  # (account, Resolver): its look-ups kept
        self.workspaces: list[Workspace] = []
        self.lock = threading.RLock()

    def set_sandbox(self, wanted: bool) -> None:
        with self.lock:
            self.sandbox_wanted = wanted
            self._connection = None
            self._forget_checks()

    def _forget_checks(self) -> None:
        for workspace in self.workspaces:  # their look-ups and plans were another account's
            workspace.check_job = None

    @property
    def results(self) -> Path:
        """Where imports' results go: practice ones apart, when practice is kept."""
        if self.sandbox_wanted and self.practice is not None:
            return self.practice / "results"
        return self.account_results

    def _sandbox_server(self) -> Sandbox:
        if self._sandbox is None:
            from ..sandbox import Sandbox

            if self.practice is None:
                self._sandbox = Sandbox(db=str(self.folder / "sandbox.sqlite")).start()
                return self._sandbox
            self.practice.mkdir(mode=0o700, parents=True, exist_ok=True)
            port_file = self.practice / "port"
            try:  # the port of the last run: the practice account's name holds it
                port = int(port_file.read_text(encoding="ascii"))
            except (OSError, ValueError):
                port = 0
            db = str(self.practice / "sandbox.sqlite")
            sandbox = Sandbox(db=db, port=port)
            try:
                self._sandbox = sandbox.start()
            except OSError:  # taken meanwhile: another port (its ledger is given to it)
                sandbox.port = 0
                self._sandbox = sandbox.start()
            port_file.write_text(str(self._sandbox.port), encoding="ascii")
        return self._sandbox

    def _settings(self) -> tuple[str, Any]:
        from ..onoffice.config import api_settings

        if self.sandbox_wanted:
            server = self._sandbox_server()
            return server.url, server.credentials
        settings = api_settings(self.env, self.config)
        return settings.url, settings.credentials

    @contextmanager
    def client(self, settings: tuple[str, Any] | None = None) -> Iterator[OnOfficeClient]:
        """A client of the connection; ``settings`` (from :meth:`pinned`): of the connection as
        it was then, whatever another browser switched since."""
        from ..onoffice.client import OnOfficeClient
        from ..onoffice.config import configured_proxy

        url, credentials = settings or self._settings()
        proxy = configured_proxy(self.env, self.config)  # the config file's, else the environment's
        with OnOfficeClient(url, credentials, proxy=proxy) as client:
            yield client

    def pinned(self) -> tuple[str, Any]:
        """The connection's URL and credentials now, for a job to keep to."""
        return self._settings()

    @contextmanager
    def lookups(self) -> Iterator[OnOfficeClient | None]:
        """A client for look-ups when the connection works, else None (checked offline)."""
        if not self.connection().ok:
            yield None
            return
        with self.client() as client:
            yield client

    def connection(self, fresh: bool = False) -> Connection:
        """The connection, proven by the read-only preflight (asked again after a minute)."""
        from ..core.errors import ApiError
        from ..onoffice.client import display_url
        from ..run.submit import preflight

        with self.lock:
            known = self._connection
            if known is not None and not fresh and time.monotonic() - known.checked_at < 60:
                return known
            kind = "sandbox" if self.sandbox_wanted else "account"
            try:
                url, _credentials = self._settings()
            except ConfigurationError as exc:
                self._connection = Connection("none", problem=str(exc))
                return self._connection
        found = Connection(kind, display_url(url))
        try:  # outside the lock: a slow onOffice must not hold up every page
            with self.client() as client:
                found.account = preflight(client)
        except ApiError as exc:
            found.problem = str(exc)
        if kind == "sandbox" and found.account is not None:
            self._practice_ledger(found.account)
        with self.lock:
            self._connection = found
        return found

    def _practice_ledger(self, account: str) -> None:
        """The kept practice ledger belongs to the practice sandbox, on whatever port it
        listens this time (the account's name holds the URL)."""
        from ..run.journal import reclaim, snapshot

        path = self.journal_path()
        if self.practice is None or path is None or not path.exists():
            return
        try:
            snapshot(path, account)
        except ConfigurationError:
            with contextlib.suppress(ImporterError):  # unreadable: History says so itself
                reclaim(path, account)

    def save_credentials(self, url: str, token: str, secret: str) -> Path:
        """Store the credentials in the owner-only config file; they are never shown again."""
        from ..onoffice.config import config_path, save_credentials

        if not token.strip() or not secret.strip():
            raise Refused(_("enter both the token and the secret"))
        path = config_path(self.env, self.config)
        save_credentials(path, url.strip(), token.strip(), secret.strip())
        with self.lock:
            self.sandbox_wanted = False
            self._connection = None
            self._forget_checks()
        return path

    def journal_path(self) -> Path | None:
        """The sandbox's ledger lives and dies with it; an account's is its own (default)."""
        if not self.sandbox_wanted:
            return None
        return (self.practice or self.folder) / "sandbox-ledger.sqlite"

    def mapping_files(self) -> list[str]:
        if not self.mappings.is_dir():
            return []
        return sorted(
            p.stem for p in self.mappings.glob("*.yaml") if MAPPING_NAME.fullmatch(p.stem)
        )

    def names(self) -> dict[str, dict[Any, str]]:
        """The account's users and groups by id ({"users": {17: "mmueller (Maria Müller)"}}),
        for showing who a row names; {} when not connected. Asked once per account, not at
        every key the preview follows."""
        from ..core.errors import ApiError
        from ..mapping.lookup import Resolver

        account = self.connection().account
        if account is None:
            return {}
        with self.lock:
            if self._names is not None and self._names[0] == account:
                return self._names[1]
        try:
            with self.client() as client:
                resolver = Resolver(client)
                names: dict[str, dict[Any, str]] = {
                    plural: {c.id: named(c.label, c.id) for c in resolver.candidates(kind)}
                    for kind, plural in (
                        ("user", "users"),
                        ("group", "groups"),
                        ("resource", "resources"),
                    )
                }
                names["types"] = dict(resolver.types().values)
        except ApiError:
            return {}
        with self.lock:
            self._names = (account, names)
        return names

    def records(self, wanted: dict[tuple[str, str], list[str]]) -> dict[str, dict[Any, str]]:
        """The estates and contacts the preview's cells name, by id, as the office knows them
        ({"estate": {608: "AC-1042"}, "address": {5431: "Sabine Krüger"}}); ``wanted``: the
        cells per (kind, key). Each value is asked once per account."""
        from ..core.errors import ApiError
        from ..mapping.lookup import Resolver

        account = self.connection().account
        out: dict[str, dict[Any, str]] = {}
        if account is None or not wanted:
            return out
        try:
            with self.lock, self.client() as client:
                if self._resolver is None or self._resolver[0] != account:
                    self._resolver = (account, Resolver(client))
                resolver = self._resolver[1]
                resolver.api = client  # the cache is the account's; the connection is new
                for (kind, by), keys in wanted.items():
                    for found in resolver.resolve(kind, by, keys).values():
                        if found.candidate is not None:
                            cand = found.candidate
                            out.setdefault(kind, {})[cand.id] = named(cand.label, cand.id)
        except ApiError:
            return out
        return out

    def history(self) -> list[Any]:
        """The files imported into this account, from its ledger (newest first)."""
        from ..run.journal import history, ledger_path

        connection = self.connection()
        if connection.account is None:
            return []
        path = self.journal_path() or ledger_path(connection.account)
        return history(path, connection.account)

    def results_files(self) -> list[Path]:
        if not self.results.is_dir():
            return []
        found = [p for p in self.results.glob("*.xlsx") if p.is_file()]
        return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)

    def past_imports(self) -> list[PastImport]:
        """Every import whose results workbook is in the results folder, and every other the
        account's ledger records (the CLI's, beside their files), newest first, with its
        counts from the workbook and what the ledger says was undone since: what History
        shows on any later day, after any restart, in any browser."""
        undone = self._undone_ids()
        out = []
        for path in self.results_files():
            if not path.name.endswith(".results.xlsx"):
                continue
            name = list_of(path)[0]
            try:
                written = when(datetime.strptime(path.name[:17], RESULTS_STAMP))
            except ValueError:  # a workbook put there by hand: when it was last written
                written = when(_berlin(path.stat().st_mtime))
            counts, ids = self._outcomes(path)
            about = read_about(path)
            out.append(
                PastImport(
                    path,
                    about.get("source_name") or name,
                    written,
                    counts,
                    len(ids & undone),
                    bool(about.get("mapping_text")),
                    about.get("account"),
                    _undo_book(path),
                    key=path.name,
                    order=path.stat().st_mtime,
                    practice=bool(about.get("practice")),
                )
            )
        shown = {p.results.resolve() for p in out}
        out += [p for p in self._recorded(undone) if p.results not in shown]
        return sorted(out, key=lambda p: p.order, reverse=True)

    def _recorded(self, undone: set[int]) -> list[PastImport]:
        """The imports the ledger records outside the results folder (made with the CLI): the
        workbook where the run wrote it, or said to be gone (moved or deleted)."""
        out = []
        for record in self.recorded().values():
            path = Path(record.results)
            at = datetime.strptime(record.at, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
            name = Path(record.input).name if record.input else record.list
            there = path.is_file()
            counts, ids = self._outcomes(path) if there else (Counter[str](), set[int]())
            out.append(
                PastImport(
                    path,
                    name,
                    when(_berlin(at.timestamp())),
                    counts,
                    len(ids & undone),
                    there and bool(record.mapping),
                    None,
                    None,
                    key=recorded_key(record.results),
                    order=at.timestamp(),
                    missing=not there,
                    practice=self.sandbox_wanted,
                )
            )
        return out

    def recorded(self) -> dict[str, ImportRecord]:
        """The imports the ledger records, by their History key (none when offline)."""
        from ..run.journal import imports, ledger_path

        account = self.connection().account
        if account is None:
            return {}
        try:
            found = imports(self.journal_path() or ledger_path(account), account)
        except ImporterError:
            return {}
        return {recorded_key(r.results): r for r in found}

    def _undone_ids(self) -> set[int]:
        """The appointments the account's ledger records as undone (empty when offline)."""
        from ..run.journal import UNDONE, ledger_path, snapshot

        account = self.connection().account
        if account is None:
            return set()
        try:
            entries, _meta = snapshot(self.journal_path() or ledger_path(account), account)
        except ImporterError:
            return set()
        return {
            e.appointment_id
            for e in entries.values()
            if e.state == UNDONE and e.appointment_id is not None
        }

    def _outcomes(self, path: Path) -> tuple[Counter[str], set[int]]:
        """A results workbook's rows per status and its appointment ids (read once per
        version of the file: History is opened often, the workbooks change seldom)."""
        from ..run.submit import earlier_outcomes
        from ..source.load import LoadOptions, load_table

        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        with self.lock:
            if key in self._read:
                return self._read[key]
        try:
            earlier = earlier_outcomes(load_table(path, LoadOptions(header_row=1)))
        except ImporterError:
            earlier = {}
        found = (
            Counter(status for status, _id, _row in earlier.values() if status),
            {i for _s, i, _row in earlier.values() if i is not None},
        )
        with self.lock:
            self._read[key] = found
        return found

    def close(self) -> Path | None:
        """Every job ended, the sandbox closed, the private folder removed; returns the
        folder where it could not be removed entirely."""
        jobs = [job for w in self.workspaces for job in list(w.jobs.values())]
        for job in jobs:
            job.cancel()
        for job in jobs:
            job.wait(30)
        if self._sandbox is not None:
            self._sandbox.close()  # a kept practice calendar stays in its folder
        shutil.rmtree(self.folder, ignore_errors=True)
        # Windows removes no file another program holds open (an upload opened in Excel)
        return self.folder if self.folder.exists() else None


class Workspace:
    """One browser's work: its file, its mapping, its check and its imports, and its language.
    The connection and the folders are the computer's (:class:`Office`), shared by every
    browser; :meth:`session` gives another browser a workspace of its own."""

    def __init__(
        self,
        *,
        folder: Path | None = None,
        mappings: Path | None = None,
        results: Path | None = None,
        sandbox: bool = False,
        config: Path | None = None,
        env: Mapping[str, str] | None = None,
        office: Office | None = None,
        practice: Path | None = None,
    ) -> None:
        if office is None:
            assert folder is not None and mappings is not None and results is not None
            office = Office(
                folder=folder,
                mappings=mappings,
                results=results,
                sandbox=sandbox,
                config=config,
                env=env,
                practice=practice,
            )
        self.office = office
        self.language: str | None = None  # this browser's choice; None: the program's
        self.upload: Upload | None = None
        self._table: tuple[tuple[Any, ...], Table] | None = None
        self.mapping_name = ""  # what the mapping is called (file name without .yaml)
        self.mapping_text = ""  # the mapping being worked on, as YAML
        self.jobs: dict[str, Job] = {}
        self.check_job: Job | None = None
        self.checked_basis: tuple[Any, ...] = ()
        self.imports: list[Imported] = []
        self._plans: dict[tuple[str, int, str | None], tuple[float, UndoReport]] = {}
        self.lock = threading.RLock()
        with office.lock:
            office.workspaces.append(self)

    def session(self) -> Workspace:
        """A workspace of its own for another browser, on the same connection."""
        return Workspace(office=self.office)

    def busy(self) -> bool:
        with self.lock:
            return any(job.running for job in self.jobs.values())

    def forget(self) -> None:
        """This browser is gone (evicted): the computer keeps nothing of its work."""
        with self.office.lock:
            if self in self.office.workspaces:
                self.office.workspaces.remove(self)

    # --- the computer's (shared by every browser) ------------------------------------------------
    @property
    def folder(self) -> Path:
        return self.office.folder

    @property
    def mappings(self) -> Path:
        return self.office.mappings

    @property
    def results(self) -> Path:
        return self.office.results

    @property
    def env(self) -> Mapping[str, str]:
        return self.office.env

    @property
    def config(self) -> Path | None:
        return self.office.config

    @property
    def sandbox_wanted(self) -> bool:
        return self.office.sandbox_wanted

    def set_sandbox(self, wanted: bool) -> None:
        self.office.set_sandbox(wanted)

    def _sandbox_server(self) -> Sandbox:
        return self.office._sandbox_server()

    def client(self) -> Any:
        return self.office.client()

    def lookups(self) -> Any:
        return self.office.lookups()

    def connection(self, fresh: bool = False) -> Connection:
        return self.office.connection(fresh)

    def save_credentials(self, url: str, token: str, secret: str) -> Path:
        return self.office.save_credentials(url, token, secret)

    def journal_path(self) -> Path | None:
        return self.office.journal_path()

    def mapping_files(self) -> list[str]:
        return self.office.mapping_files()

    def names(self) -> dict[str, dict[Any, str]]:
        return self.office.names()

    def preview_names(self, mapping: ImportMapping, table: Table) -> dict[str, dict[Any, str]]:
        """Everything the preview's rows name by id (users, groups, resources, types,
        estates, contacts), as the office knows it."""
        from ..source.load import header_key

        wanted: dict[tuple[str, str], list[str]] = {}
        head = table.frame.iloc[:PREVIEW_ROWS]
        specs = [*mapping.specs()]
        for spec in specs:
            lookup = spec.lookup
            if lookup is None or lookup.kind not in ("estate", "address"):
                continue
            headers = {header_key(c): c for c in head.columns}
            column = next((headers[k] for k in map(header_key, spec.columns) if k in headers), None)
            if column is None:
                continue
            keys = wanted.setdefault((lookup.kind, lookup.by), [])
            for cell in _distinct(head[column].tolist(), spec.split[0] if spec.split else ""):
                keys.append(cell)
        return {**self.names(), **self.office.records(wanted)}

    def history(self) -> list[Any]:
        return self.office.history()

    def results_files(self) -> list[Path]:
        return self.office.results_files()

    def past_imports(self) -> list[PastImport]:
        return self.office.past_imports()

    def recorded(self) -> dict[str, ImportRecord]:
        return self.office.recorded()

    def close(self) -> Path | None:
        """The app ends: every browser's jobs, the sandbox and the private folder (returned
        where it could not be removed entirely)."""
        return self.office.close()

    # --- file ---------------------------------------------------------------------------------
    def add_upload(self, name: str, stream: IO[bytes]) -> Upload:
        from werkzeug.utils import secure_filename

        suffix = Path(name).suffix.lower()
        if suffix not in FILE_SUFFIXES:
            raise Refused(
                _(
                    "{name}: not a file this tool reads; choose an .xlsx, .xlsm, .csv, .txt or "
                    ".ics file"
                ).format(name=name or "?")
            )
        folder = self.folder / "uploads" / os.urandom(8).hex()
        folder.mkdir(mode=0o700, parents=True)
        path = folder / (secure_filename(name) or f"upload{suffix}")
        with path.open("wb") as f:
            shutil.copyfileobj(stream, f)
        with self.lock:
            self.upload = Upload(path, name)
            self.check_job = None
        return self.upload

    def uploaded(self) -> Upload:
        if self.upload is None:
            raise Refused(_("choose a file first"))
        return self.upload

    def table(self) -> Table:
        """The file as the loader reads it with the chosen sheet and header row (kept while
        neither changes: the mapping's preview must not read a large file at every key)."""
        from ..mapping.draft import load_largest_sheet
        from ..rules.check import load_source

        upload = self.uploaded()
        options = upload.options()
        mapping = self._usable_mapping()
        if mapping is not None:  # as the check will read it: the mapping's `source:` too
            key: tuple[Any, ...] = (upload.path, repr(options), repr(mapping.source))
            key += tuple(mapping.required_columns())
        else:
            key = (upload.path, repr(options))
        with self.lock:
            if self._table is not None and self._table[0] == key:
                return self._table[1]
        if mapping is not None:
            table = load_source(upload.path, mapping, options)
        else:
            table = load_largest_sheet(upload.path, options)  # as a draft would
        with self.lock:
            self._table = (key, table)
        return table

    def _usable_mapping(self) -> ImportMapping | None:
        try:
            return self.mapping() if self.mapping_text else None
        except MappingError:
            return None

    def sheets(self) -> list[str]:
        from ..source.load import sheet_names

        return sheet_names(self.uploaded().path)

    def say(self, exc: BaseException) -> str:
        """An error as the page shows it: the names the user knows, not our folders: the
        upload by the name it had, any other file (the ledger, a workbook) by its name only."""
        from ..run.journal import data_dir

        text = str(exc)
        if self.upload is not None:
            text = text.replace(str(self.upload.path), self.upload.name)
        return only_names(text, [self.folder, self.results, self.mappings, data_dir()])

    def support(self, job: Job, file_name: str | None = None) -> list[tuple[str, str]]:
        """What a helpdesk asks about a step that failed, with no path in it (the files by
        their names: the office never had our folders), no command and no secret."""
        from ..output.results import tool_version
        from ..run.journal import ledger_path

        steps = {"check": _("Check"), "import": _("Import"), "undo": _("Undo")}
        rows = [(_("Step"), steps.get(job.kind, job.kind))]
        if file_name:
            rows.append((_("File"), file_name))
        ledger = self.journal_path()
        account = self.connection().account
        if ledger is None and account:
            ledger = ledger_path(account)
        if ledger is not None:
            rows.append((_("Ledger"), ledger.name))
        if job.stopped_at is not None:
            rows.append((_("Stopped at"), when(job.stopped_at)))
        if job.error_kind:
            rows.append((_("Kind of error"), job.error_kind))
        rows.append((_("Message"), job.error or ""))
        rows.append((_("Tool version"), f"onoffice-import {tool_version()}"))
        return [(label, only_names(value, [self.folder])) for label, value in rows]

    # --- mapping ------------------------------------------------------------------------------
    def open_mapping(self, name: str) -> None:
        path = self._mapping_file(name)
        if not path.is_file():
            raise Refused(_("no mapping {name}").format(name=name))
        self.set_mapping(name, path.read_text(encoding="utf-8"))

    def draft(self) -> str:
        """A first mapping drafted from the file (`mapping init`), with its evidence."""
        from ..mapping.draft import draft_mapping

        upload = self.uploaded()
        with self.lookups() as api:  # tried against the account: agents by last name
            made = draft_mapping(upload.path, upload.options(), api=api)
        name = _safe_name(Path(upload.name).stem) + "-draft"
        self.set_mapping(name, made.yaml)
        return made.yaml

    def set_mapping(self, name: str, text: str) -> None:
        _mapping_name(name)
        with self.lock:
            self.mapping_name, self.mapping_text = name, text
            self.check_job = None

    def fitting_mapping(self) -> str | None:
        """The saved mapping that fits the file: every column it names is in the file, and of
        those, the one that reads the most of the file's columns."""
        from ..mapping.spec import load_mapping
        from ..source.load import header_key

        try:
            columns = {header_key(c) for c in self.table().columns}
        except ImporterError:
            return None
        best: tuple[int, str] | None = None
        for name in self.mapping_files():
            try:
                mapping = load_mapping(self._mapping_file(name))
                mapping.check_columns(list(self.table().columns), name)
            except ImporterError:
                continue
            used = len({header_key(c) for c in mapping.required_columns()} & columns)
            if best is None or used > best[0]:
                best = (used, name)
        return best[1] if best else None

    def matchings(self, raw: dict[str, Any]) -> dict[str, Matching]:
        """For each slot of :data:`editor.MATCHED` fed by a column of the file: its distinct
        values, what each is matched to, and what onOffice offers (the account's types,
        users and resources when connected; reminders, statuses, channels and repeats always)."""
        from ..core.errors import ApiError
        from ..source.load import header_key
        from .editor import MATCHED, MAX_MATCHED, form_values

        try:
            frame = self.table().frame
        except ImporterError:
            return {}
        headers = {header_key(c): c for c in frame.columns}
        out: dict[str, Matching] = {}
        values = form_values(raw)
        for path, kind in MATCHED.items():
            v = values[path]
            column = headers.get(header_key(v["column"])) if v["kind"] == "column" else None
            if column is None:
                continue
            seen = _distinct(frame[column].tolist(), v["split"])
            try:
                known, choices = self._choices(kind, v["lookup"], seen[:MAX_MATCHED])
            except ApiError:
                continue
            if not choices:
                continue
            mapped = editor_pairs(v["map"])
            offered = [
                (value, "" if mapped.get(value, value) == value else str(mapped[value]), ok)
                for value, ok in zip(seen[:MAX_MATCHED], known, strict=True)
            ]
            out[path] = Matching(offered, choices, max(0, len(seen) - MAX_MATCHED))
        return out

    def _choices(
        self, kind: str, lookup: str, seen: list[str]
    ) -> tuple[list[bool], list[tuple[str, str]]]:
        """Whether each value is taken as written, and what onOffice takes instead."""
        from ..core import contract, i18n
        from ..mapping.convert import normalised
        from ..mapping.lookup import Resolver
        from ..mapping.spec import LOOKUP_KINDS, REPEAT_WORDS

        if kind in ("types", "users", "resources"):
            wanted = {"users": "user", "resources": "resource"}.get(kind)
            if (wanted is not None and lookup != wanted) or not self.connection().ok:
                return [], []
            with self.client() as client:
                resolver = Resolver(client)
                if kind == "types":
                    types = resolver.types()
                    pairs = [
                        (k, f"{label} ({k})" if label != k else k)
                        for k, label in types.values.items()
                    ]
                    return [types.match(v) is not None for v in seen], pairs
                assert wanted is not None
                found = resolver.resolve(wanted, LOOKUP_KINDS[wanted][0], seen)
                people = resolver.candidates(wanted)
                pairs = [(str(c.name or c.id), c.label) for c in people]
                return [found[v].candidate is not None for v in seen], pairs
        if kind == "reminders":
            pairs = [(r, i18n.reminder(r)) for r in contract.ERINNERUNG_VALUES]
            return [normalised("erinnerung", v) in contract.ERINNERUNG_VALUES for v in seen], pairs
        if kind == "statuses":
            pairs = [(st, _(STATUS_WORDS[st])) for st in contract.STATUS_VALUES]
            return [normalised("status", v) in contract.STATUS_VALUES for v in seen], pairs
        if kind == "channels":
            pairs = [(c, c) for c in contract.REMINDER_TYPES]
            return [normalised("reminderTypes", v) in contract.REMINDER_TYPES for v in seen], pairs
        pairs = [(r, _(REPEAT_NAMES[r])) for r in contract.RP_TYPES]
        return [v.strip().casefold() in REPEAT_WORDS for v in seen], pairs

    def mapping(self, text: str | None = None) -> ImportMapping:
        """The mapping being worked on (or ``text``), read from memory: no file is shared
        between the page's requests and the jobs."""
        from ..mapping.spec import mapping_from_text

        text = self.mapping_text if text is None else text
        if not text:
            raise Refused(_("choose or draft a mapping first"))
        return mapping_from_text(text, f"{self.mapping_name or 'mapping'}.yaml")

    def save_mapping(self, name: str) -> Path:
        """Write the mapping into the mappings folder, where the CLI finds it too."""
        self.mapping()  # only a mapping the library reads is saved
        path = self._mapping_file(name)
        self.mappings.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(self.mapping_text, encoding="utf-8")
        os.replace(temporary, path)
        self.mapping_name = name
        return path

    def _mapping_file(self, name: str) -> Path:
        return self.mappings / f"{_mapping_name(name)}.yaml"

    def preview(self) -> CheckReport:
        """The first rows through the mapping, with look-ups when the connection works."""
        from ..rules.check import first_rows

        upload, mapping = self.uploaded(), self.mapping()
        table = self.table()
        with self.lookups() as api:
            return first_rows(upload.path, mapping, PREVIEW_ROWS, api=api, table=table)

    # --- check, import, undo ------------------------------------------------------------------
    def _job(self, kind: str, work: Any) -> Job:
        job = Job(kind)
        with self.lock:
            self.jobs[job.id] = job
        return job.start(work, self.say)

    def _basis(self) -> tuple[Any, ...]:
        """What a check's result depends on: an import needs one of exactly these."""
        upload = self.uploaded()
        return (self.mapping_text, upload.path, repr(upload.options()), self.connection().account)

    def start_check(self) -> Job:
        """The whole file checked with look-ups, the plan of a run, and the check report."""
        upload, mapping = self.uploaded(), self.mapping()
        online = self.connection().ok
        basis, options = self._basis(), upload.options()  # not the page's later changes
        settings = self.office.pinned() if online else None
        journal = self.journal_path()
        web = self._for_web(upload.name, self.mapping_name, self.mapping_text)

        def work(job: Job) -> CheckReport:
            from ..output.report import write_report
            from ..rules.check import check, prepare
            from ..run.submit import planned_check

            job.at(_("reading the file"))
            prepared = prepare(upload.path, mapping, options)
            n = len(prepared[1].row_numbers)
            job.at(
                ngettext(
                    "checking {n} row and asking onOffice",
                    "checking {n} rows and asking onOffice",
                    n,
                ).format(n=number(n))
                if online
                else ngettext("checking {n} row", "checking {n} rows", n).format(n=number(n))
            )
            checking = _("checking the rows")
            after = _("reading what onOffice holds of the list") if online else checking

            def counted(done: int, total: int) -> None:
                job.counted(checking, done, total)
                if done == total:  # then the plan: onOffice's side, uncounted
                    job.at(after)

            target = self.folder / "reports" / f"{job.id}.check.xlsx"
            target.parent.mkdir(mode=0o700, exist_ok=True)
            if not online:
                result = check(upload.path, mapping, prepared=prepared, progress=counted)
            else:
                with self.office.client(settings) as client:
                    result = planned_check(
                        client,
                        upload.path,
                        prepared,
                        journal_path=journal,
                        list_name=list_name(upload.name),  # the user's file, not our copy
                        progress=counted,
                    )
            writing = _("writing the check report")
            job.at(writing)
            write_report(result, target, web, lambda done, n: job.counted(writing, done, n))
            return result

        with self.lock:
            self.check_job = self._job("check", work)
            self.checked_basis = basis
        return self.check_job

    def start_import(
        self, choices: dict[int, int | None] | None = None, shown: str | None = None
    ) -> Imported:
        """Import the file the last check was made of, as it was checked (``choices``: the
        answers to the plan's questions, row -> appointment id or None for a new one;
        ``shown``: the check the page showed, which must still be the last one)."""
        upload = self.uploaded()
        job = self.check_job
        if job is None or job.running or job.error or self.checked_basis != self._basis():
            raise Refused(
                _("the file, the mapping or the connection changed since the check; check again")
            )
        if shown is not None and shown != job.id:
            raise Refused(
                _(
                    "another page of this browser checked a file since this page was shown; "
                    "look at its check first (step 4)"
                )
            )
        account = self.connection().account
        assert account is not None  # the basis holds it
        return self._import(
            upload.path,
            upload.name,
            self._results_path(upload.name),
            self.mapping_text,
            upload.options(),
            account,
            False,
            choices or {},
        )

    def send_again(
        self, imported: Imported, results: Path, cells: dict[tuple[int, str], str]
    ) -> Imported:
        """Type the corrections into the import's results workbook, then send its failed rows
        (``run results.xlsx --only-failed``) with the mapping and account of that import."""
        from ..output.corrections import correct_cells

        self._same_account(imported.account)
        if cells:
            correct_cells(results, cells)
        return self._import(
            results,
            imported.source_name,
            results,
            imported.mapping_text,
            imported.options,
            imported.account,
            True,
            {},
        )

    def _same_account(self, account: str | None) -> None:
        if account and self.connection().account != account:
            raise Refused(
                _(
                    "this import went into another onOffice ({account}); connect to it again "
                    "first (step 1)"
                ).format(account=account)
            )

    def _import(
        self,
        source: Path,
        name: str,
        results: Path,
        mapping_text: str,
        options: LoadOptions,
        account: str,
        only_failed: bool,
        choices: dict[int, int | None],
    ) -> Imported:
        mapping = self.mapping(mapping_text)
        settings = self.office.pinned()  # the account the page showed, not one switched since
        journal = self.journal_path()
        mapping_name = (
            str(read_about(results).get("mapping_name") or "") if only_failed else self.mapping_name
        )
        web = self._for_web(name, mapping_name, mapping_text)

        def work(job: Job) -> RunReport:
            from ..output.results import save_results
            from ..run.submit import RunOptions, run_import

            job.at(_("checking the file and reading what onOffice holds"))
            with self.office.client(settings) as client:
                report = run_import(
                    source,
                    mapping,
                    client=client,
                    journal_path=journal,
                    options=RunOptions(
                        only_failed=only_failed, choices=choices, results=str(results)
                    ),
                    load_options=None if only_failed else options,
                    progress=job.progress,
                    stop=job.stop,
                    list_name=list_name(name),  # the user's file, not our copy of it
                    stage=job.counted,
                )
            report.interrupted = report.interrupted or job.stop.is_set()
            job.at(_("writing the results workbook"))
            written, _failures = save_results(report, results, web)
            report.results_path = written
            return report

        if not only_failed:
            _note_about(results, name, self.mapping_name, mapping_text, options, account)
            if self.sandbox_wanted:  # History marks it, and finds its sandbox after a restart
                _note_practice(results)
        job = self._job("import", work)
        imported = Imported(job, source, name, results, mapping_text, options, account, only_failed)
        with self.lock:
            self.imports.append(imported)
        return imported

    def past(self, name: str) -> Path:
        """A results workbook by its History name (never a path): one of the results folder,
        or one the ledger records where the CLI wrote it."""
        found = {p.name: p for p in self.results_files()}.get(name)
        if found is not None:
            return found
        record = self.recorded().get(name)
        if record is None:
            raise Refused(_("no results workbook {name} in History").format(name=name))
        path = Path(record.results)
        if not path.is_file():
            raise Refused(_(MOVED).format(path=path))
        return path

    def past_about(self, name: str) -> dict[str, Any]:
        """What opening an import of History needs (:func:`read_about`'s keys): noted beside
        the workbook by the app, else recorded in the ledger by the run."""
        path = self.past(name)
        record = self.recorded().get(name)
        if record is None:
            about = read_about(path)
            if about.get("practice"):  # its sandbox listens on another port this time
                if not self.sandbox_wanted:
                    raise Refused(_(PRACTICE_ONLY))
                about["account"] = self.connection().account
            return about
        return {
            "source_name": Path(record.input).name if record.input else record.list,
            "mapping_name": record.mapping_name,
            "mapping_text": record.mapping,
            "sheet": record.sheet,
            "header_row": record.header_row,
        }

    def reopen(self, results: Path, about: dict[str, Any] | None = None) -> Imported:
        """An import of an earlier day as its page shows it, read from its results workbook
        (offline: no request to onOffice), so that its failed rows can be corrected and sent
        again and it can be undone; the import still open in this browser when there is one."""
        with self.lock:
            for imported in reversed(self.imports):
                if imported.results == results and not imported.job.error:
                    return imported
        about = read_about(results) if about is None else about
        text = about.get("mapping_text")
        if not isinstance(text, str) or not text:
            raise Refused(
                _(
                    "the app did not make this import, so it does not know its mapping: undo "
                    "it here, or open its mapping and import the results workbook as a file"
                )
            )
        mapping = self.mapping(text)
        account = about.get("account") or self.connection().account or ""

        def work(job: Job) -> RunReport:
            job.at(_("reading the results workbook"))
            return restored_report(results, mapping)

        job = self._job("import", work)
        options = self._options(about)
        name = str(about.get("source_name") or list_of(results)[0])
        imported = Imported(job, results, name, results, text, options, account, True)
        with self.lock:
            self.imports.append(imported)
        return imported

    def found_again(self, name: str, stream: IO[bytes]) -> Path:
        """The results workbook of an import whose workbook moved, given back by the user: it
        goes into the results folder (the ledger records it there from now on), to open, send
        again and undo as before. Refused unless it is that import's list's results workbook."""
        from ..run.journal import Journal, ledger_path
        from ..source.load import LoadOptions, load_table

        record = self.recorded().get(name)
        if record is None or Path(record.results).is_file():
            raise Refused(_("no results workbook {name} in History").format(name=name))
        folder = self.folder / "uploads" / os.urandom(8).hex()
        folder.mkdir(mode=0o700, parents=True)
        given = folder / "given.xlsx"
        with given.open("wb") as f:
            shutil.copyfileobj(stream, f)
        try:
            table = load_table(given, LoadOptions(header_row=1))
        except ImporterError:
            table = None
        if table is None or table.own != "results" or table.results_list != record.list:
            raise Refused(_(NOT_ITS_WORKBOOK).format(name=record.list))
        source = Path(record.input).name if record.input else record.list
        target = self._results_path(source)
        account = self.connection().account or ""
        about = {"mapping_text": record.mapping, "sheet": record.sheet}
        options = self._options({**about, "header_row": record.header_row})
        # the ledger first: one busy with an import refuses before anything is copied, and a
        # copy whose move was not recorded is taken back (else each retry left one in History)
        with Journal(self.journal_path() or ledger_path(account), account) as journal:
            try:
                _note_about(target, source, record.mapping_name, record.mapping, options, account)
                if self.sandbox_wanted:  # a practice import stays one (its sandbox may move)
                    _note_practice(target)
                shutil.copyfile(given, target)
                journal.moved(record.results, str(target.resolve()))
            except BaseException:
                for made in (target, about_path(target)):
                    made.unlink(missing_ok=True)
                raise
        return target

    @staticmethod
    def _options(about: dict[str, Any]) -> LoadOptions:
        from ..source.load import LoadOptions

        sheet, header = about.get("sheet"), about.get("header_row")
        return LoadOptions(
            sheet=sheet if isinstance(sheet, str) else None,
            header_row=header if isinstance(header, int) else None,
        )

    def _for_web(self, file_name: str, mapping_name: str, text: str) -> ForWeb:
        """How the workbooks name the file and the mapping: the mapping by its name when it
        is saved as it was used, else as one never saved."""
        from ..output.report import ForWeb

        saved = None
        if mapping_name and MAPPING_NAME.fullmatch(mapping_name):
            try:
                if self._mapping_file(mapping_name).read_text(encoding="utf-8") == text:
                    saved = mapping_name
            except OSError:
                saved = None
        return ForWeb(file_name, saved)

    def _results_path(self, name: str) -> Path:
        self.results.mkdir(mode=0o700, parents=True, exist_ok=True)
        stamp = local_now().strftime(RESULTS_STAMP)  # the office's clock: History shows it
        return self.results / f"{stamp}_{_safe_name(Path(name).stem)}.results.xlsx"

    def undo_plan(self, results: Path, account: str | None) -> UndoReport:
        """What an undo would remove, asking nothing of onOffice but the preflight
        (``account``: where the import went, when known; another connection is refused)."""
        from ..run.undo import undo_import

        self._same_account(account)
        stat = results.stat()
        key = (str(results), stat.st_mtime_ns, self.connection().account)
        with self.lock:  # the next page of a long list asks nothing again (for a few minutes)
            kept = self._plans.get(key)
            if kept is not None and time.monotonic() - kept[0] < PLAN_KEPT:
                return kept[1]
        with self.client() as client:
            plan = undo_import(
                results,
                client=client,
                journal_path=self.journal_path(),
                confirm=lambda _p: False,
            )
        with self.lock:
            self._plans = {key: (time.monotonic(), plan)}
        return plan

    def start_undo(self, results: Path, account: str | None) -> Job:
        self._same_account(account)
        settings, journal = self.office.pinned(), self.journal_path()

        def work(job: Job) -> UndoReport:
            from ..output.undo_book import write_undo_results
            from ..run.undo import undo_import

            job.at(_("reading the results workbook and the ledger"))
            with self.office.client(settings) as client:
                report = undo_import(
                    results,
                    client=client,
                    journal_path=journal,
                    progress=job.progress,
                    stop=job.stop,
                )
            job.at(_("writing the undo workbook"))
            write_undo_results(report)
            return report

        job = self._job("undo", work)
        job.results = results
        with self.lock:
            self._plans = {}  # what is left to undo changes now
        return job


# An absolute path (POSIX, or Windows with a drive) not inside a URL: its folders are dropped.
ANY_PATH = re.compile(
    r"(?<![\w/:.~-])(?:[A-Za-z]:[\\/]|/)(?:[^\s\\/:*?\"<>|()]+[\\/])+(?=[^\s\\/]+)"
)


# The folders below a known one, each may hold spaces (never one right before a separator: that
# is the space between a file's name and the next path of a message).
FOLDERS_BELOW = r"(?:[\\/](?:[^\\/:*?\"<>|()\n ]| (?![\\/]))*)*[\\/]"


def only_names(text: str, folders: list[Path]) -> str:
    """``text`` with every path in it named by its last part (a file by its name): the known
    ``folders`` and the user's home first (their folder names, and those below them, may hold
    spaces: "C:\\Users\\Max Mustermann\\My Documents"), then anything that looks like an
    absolute path. The office never had those folders; a helpdesk asks for the file's name."""
    known = {str(f) for f in [*folders, Path.home()] if str(f) not in ("", "/", ".")}
    for folder in sorted(known, key=len, reverse=True):
        text = re.sub(re.escape(folder) + FOLDERS_BELOW, "", text)
        text = text.replace(folder, Path(folder).name)
    return ANY_PATH.sub("", text)


def _note_about(
    results: Path, name: str, mapping_name: str, text: str, options: LoadOptions, account: str
) -> None:
    """Note beside the results workbook what sending its failed rows again needs on a later
    day (written before the import starts: a results workbook never lacks it)."""
    about = {
        "source_name": name,
        "mapping_name": mapping_name,
        "mapping_text": text,
        "sheet": options.sheet,
        "header_row": options.header_row,
        "account": account,
    }
    target = about_path(results)
    temporary = target.with_name(f".{target.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as f:
        json.dump(about, f, ensure_ascii=False, indent=1)
    os.replace(temporary, target)


def _note_practice(results: Path) -> None:
    about = read_about(results)
    about["practice"] = True
    about_path(results).write_text(json.dumps(about, ensure_ascii=False, indent=1), "utf-8")


def restored_report(results: Path, mapping: ImportMapping) -> RunReport:
    """An import as its results workbook records it: each row's status, appointment id and
    error, beside the rows checked offline (the page's red cells), as the run reported them."""
    from ..core.excel import ERROR
    from ..rules.check import check
    from ..run.runner import RowResult, RunReport
    from ..run.submit import split_outcomes

    checked = check(results, mapping)
    own = checked.table.outcomes  # the workbook's own columns, set aside by the loader
    errors = own[ERROR] if own is not None and ERROR in own.columns else None
    earlier = split_outcomes(checked.table)
    outcomes: dict[int, RowResult] = {}
    for row, (status, appointment_id, _source) in earlier.items():
        error = errors.loc[row] if errors is not None else None
        text = str(error) if isinstance(error, str) and error.strip() else None
        outcomes[row] = RowResult(row, status, appointment_id, text)  # type: ignore[arg-type]
    report = RunReport(checked, outcomes, "", local_now(), earlier=earlier)
    report.finished, report.results_path = report.started, results
    return report


STATUS_WORDS = {
    "active": N_("active"),
    "completed": N_("completed"),
    "canceled": N_("cancelled"),
    "participantsAvailable": N_("participants available"),
}
REPEAT_NAMES = {"t": N_("daily"), "w": N_("weekly"), "m": N_("monthly"), "j": N_("yearly")}


def list_of(path: Path) -> tuple[str, str]:
    """A results (or undo) workbook of the app (``2026-12-05_153155_viewings.results.xlsx``):
    its list and what it is, as a person reads it ("results of 05.12.2026 15:31")."""
    stamp, name = path.name[:17], path.name[18:]
    kind = next((k for k in ("results", "undo") if name.endswith(f".{k}.xlsx")), None)
    try:
        written = datetime.strptime(stamp, RESULTS_STAMP)
    except ValueError:
        written = None
    if written is None or kind is None or path.name[17:18] != "_":
        return path.name.split(".", 1)[0], ""
    word = _("results of {when}") if kind == "results" else _("undo of {when}")
    return name.removesuffix(f".{kind}.xlsx"), word.format(when=when(written))


def _distinct(cells: list[Any], split: str) -> list[str]:
    """A column's distinct values as text, in the order they first appear (split into items
    where the slot splits them)."""
    out: dict[str, None] = {}
    for cell in cells:
        if cell is None or cell != cell or not str(cell).strip():
            continue
        items = str(cell).split(split) if split else [str(cell)]
        for item in items:
            if item.strip():
                out.setdefault(item.strip(), None)
    return list(out)


def _mapping_name(name: str) -> str:
    """``name`` when a mapping may be called so (no path, no dot file), else refused."""
    if not MAPPING_NAME.fullmatch(name):
        raise Refused(_("a mapping name has letters, digits, - and _ only"))
    return name


def _safe_name(stem: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-")[:40]
    return cleaned or "file"
