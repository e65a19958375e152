"""The dry run: load, map and validate every row; nothing is created, nothing written.

    report = check("viewings.xlsx", "mappings/viewings.yaml")
    report.valid_count, report.invalid_count, report.report_path

With ``api`` (an :class:`~importer.onoffice.client.OnOfficeClient`) the look-ups run through read
calls; without it no network is touched and look-up fields are listed as not checked. The
report workbook is the output stage's (:func:`importer.output.report.write_report`);
:func:`importer.check` does both.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..core import contract
from ..core.bulk import collector_paused
from ..core.errors import ExitCode, MappingError, SourceFileError
from ..core.i18n import _
from ..core.problems import UNCONFIRMED, Level, RowProblem
from ..core.stopping import phase
from ..mapping.convert import Converted, convert
from ..mapping.lookup import Choices, ReadApi, Resolver
from ..mapping.spec import Mapping, load_mapping
from ..onoffice.learned import Learned
from ..onoffice.readback import Appointment
from ..source.load import LoadOptions, Table, TypedCells, layout_cause, load_table
from . import conflicts, schema
from .keys import key_identities
from .payload import fingerprint, parameters

Progress = Callable[[int, int], None]  # rows done, rows
EVERY = 200  # rows between two progress calls (a call per row would cost the check time)

if TYPE_CHECKING:
    from ..onoffice.account import AccountSurvey


@dataclass
class RowOutcome:
    row: int
    problems: list[RowProblem]
    parameters: dict[str, Any] | None  # what would be sent; None when invalid
    fingerprint: str | None = None
    identity: str | None = None  # from the mapping's key columns (importer/run/identity.py)
    partial: dict[str, Any] | None = None  # an invalid row: the fields that converted

    @property
    def valid(self) -> bool:
        return not any(p.is_error for p in self.problems)

    @property
    def unconfirmed(self) -> bool:
        """Valid, but a value in it the account has not confirmed (:data:`UNCONFIRMED`)."""
        return self.valid and any(p.code == UNCONFIRMED for p in self.problems)

    @property
    def errors(self) -> list[RowProblem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[RowProblem]:
        return [p for p in self.problems if not p.is_error]


class Api(ReadApi, Protocol):
    """What a check asks of a client: the read calls of the look-ups."""


@dataclass
class CheckReport:
    source: Path
    mapping: Mapping
    table: Table
    outcomes: list[RowOutcome]
    unresolved: list[str]
    source_sha256: str
    started: datetime
    report_path: Path | None = None
    file_warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    # Checks that did not run (e.g. onOffice refused the double-booking check), said once.
    notices: list[str] = field(default_factory=list)
    # What a run would do per valid row (create, update, unchanged, settle …) in words, when
    # known (:func:`importer.run.submit.planned_check`), and how many appointments of this file
    # lost their row.
    plan: dict[int, str] = field(default_factory=dict)
    plan_removed: int = 0
    plan_notes: dict[int, str] = field(default_factory=dict)  # row -> what the plan says of it
    list_name: str | None = None  # the list the plan was made for (its report names it)
    # The plan's questions (rows that could each be one of these appointments), and what each
    # appointment asked about holds, in words: for the web app's confirmation.
    questions: list[tuple[tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)
    asked_about: dict[int, str] = field(default_factory=dict)
    sources: dict[str, tuple[str, ...]] = field(default_factory=dict)  # field -> its columns
    # the values the account offers per field, in words (named where onOffice refuses a row)
    allowed: dict[str, str] = field(default_factory=dict)
    # what the account answered (the account report), when the check asked it
    account: AccountSurvey | None = None
    # what the account has shown of its types (where it lists none); None: not asked
    learned: Learned | None = None

    @property
    def valid_count(self) -> int:
        """Rows that go ahead (the unconfirmed among them: :attr:`unconfirmed_count`)."""
        return sum(o.valid for o in self.outcomes)

    @property
    def unconfirmed_count(self) -> int:
        return sum(o.unconfirmed for o in self.outcomes)

    @property
    def exit_code(self) -> ExitCode:
        """1 with invalid rows; else 6 with unconfirmed ones; else 0 (README, Exit codes)."""
        if self.invalid_count:
            return ExitCode.ROWS_FAILED
        return ExitCode.UNCONFIRMED if self.unconfirmed_count else ExitCode.OK

    @property
    def invalid_count(self) -> int:
        return len(self.outcomes) - self.valid_count

    @property
    def problems(self) -> list[RowProblem]:
        return [p for o in self.outcomes for p in o.problems]

    def code_counts(self, level: Level = Level.ERROR) -> Counter[str]:
        """Rows per problem code (a row with two problems of one code counts once), most
        frequent first, then by code: the same order in every run and language."""
        counts = Counter(
            code for _, code in {(p.row, p.code) for p in self.problems if p.level is level}
        )
        return Counter(dict(sorted(counts.items(), key=lambda item: (-item[1], item[0]))))

    def code_table(self, level: Level) -> list[list[Any]]:
        """A Summary block: the codes of ``level`` with their row counts, most frequent first."""
        title = "Error code" if level is Level.ERROR else "Warning code"
        counts = self.code_counts(level)
        return [["", ""], [title, "Rows"], *([c, n] for c, n in counts.most_common())]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _merge_options(mapping: Mapping, overrides: LoadOptions | None) -> LoadOptions:
    base = mapping.source
    if overrides is None:
        return base
    return replace(
        base,
        **{k: v for k, v in vars(overrides).items() if v is not None and k != "limits"},
        limits=overrides.limits,
    )


def evaluate(
    table: Table,
    mapping: Mapping,
    resolver: Resolver | None,
    now: datetime,
    timings: dict[str, float] | None = None,
    strict: bool = False,
    progress: Progress | None = None,
) -> tuple[list[RowOutcome], Converted]:
    """Map and validate every row; the shared core of `check` and `run` (``progress``: told
    rows done of rows, every EVERY rows and at the last).

    Double bookings within the file are looked for here (warnings, errors with ``strict``);
    those against onOffice's calendar where a run plans (:mod:`importer.run.submit`).
    """
    timings = timings if timings is not None else {}
    clock = time.perf_counter()
    converted = convert(mapping, table, resolver, now=now)
    timings["map"] = time.perf_counter() - clock
    clock = time.perf_counter()
    problems = list(converted.problems)
    # Where the mapping stage already failed a field, the schema's view of it adds only noise.
    failed = {(p.row, p.field) for p in problems if p.is_error}
    failed_rows = {p.row for p in problems if p.is_error}
    typed = TypedCells(table)
    for p in schema.validate(converted.fields, converted.sources, typed):
        if (p.row, p.field) in failed or (
            p.code in ("start-missing", "end-missing") and p.row in failed_rows
        ):
            continue
        problems.append(p)
    problems += schema.status_warnings(converted.fields, converted.sources)
    identities, key_problems = key_identities(table, mapping)
    problems += key_problems
    by_row: dict[int, list[RowProblem]] = {row: [] for row in table.row_numbers}
    seen: set[tuple[Any, ...]] = set()
    for p in problems:
        key = (p.row, p.code, p.columns, p.message)
        if key not in seen:  # one column can feed two fields (estate link and location)
            seen.add(key)
            by_row[p.row].append(p)
    fields = converted.fields
    columns = [(name, fields[name].to_numpy()) for name in fields.columns]
    outcomes = []
    first_seen: dict[str, int] = {}
    for i, (row, found) in enumerate(by_row.items()):
        if progress is not None and i % EVERY == 0:
            progress(i, len(by_row))
        outcome = RowOutcome(row, sorted(found, key=lambda p: (not p.is_error, p.code)), None)
        outcome.identity = identities.get(row)
        if not outcome.valid:
            outcome.partial = parameters(
                {name: values[i] for name, values in columns if values[i] is not None}
            )
        else:
            params = parameters({name: values[i] for name, values in columns})
            outcome.parameters, outcome.fingerprint = params, fingerprint(params)
            if outcome.fingerprint in first_seen and outcome.identity is None:
                outcome.problems.append(
                    RowProblem(
                        row,
                        (),
                        "duplicate-row",
                        _("the same appointment as row {row} of the file; sent only once").format(
                            row=first_seen[outcome.fingerprint]
                        ),
                        None,
                        Level.WARNING,
                    )
                )
            else:
                first_seen[outcome.fingerprint] = row
        outcomes.append(outcome)
    if progress is not None:
        progress(len(by_row), len(by_row))
    valid = [(o.row, o.parameters) for o in outcomes if o.valid and o.parameters]
    level = Level.ERROR if strict else Level.WARNING
    add_problems(outcomes, conflicts.within_file(valid, converted.sources, level))
    timings["validate"] = time.perf_counter() - clock
    return outcomes, converted


def prepare(
    source: str | Path, mapping: str | Path | Mapping, load_options: LoadOptions | None = None
) -> tuple[Mapping, Table]:
    """Load the mapping and the file and match their columns: every file-level refusal
    (exit 2) happens here, before any network call."""
    mapping = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
    table = load_source(source, mapping, load_options)
    match_columns(mapping, table, source)
    return mapping, table


def load_source(
    source: str | Path, mapping: Mapping, load_options: LoadOptions | None = None
) -> Table:
    """The file as ``mapping`` reads it: its ``source:`` settings, overridden by
    ``load_options``, and its columns helping to find sheet and header."""
    options = _merge_options(mapping, load_options)
    return load_table(Path(source), options, expected_columns=mapping.required_columns())


def match_columns(mapping: Mapping, table: Table, source: str | Path) -> None:
    """Every column the mapping names must be in the file (all problems at once)."""
    try:
        mapping.check_columns(table.columns, str(source))
    except MappingError:
        cause = layout_cause(table)
        if cause is None:
            raise
        # the columns are missing because the file was read the wrong way: say that, once
        raise SourceFileError(cause, file=str(source), code="file-layout") from None


def add_problems(outcomes: list[RowOutcome], found: list[RowProblem]) -> None:
    """Problems found after the rows were validated (double bookings): an error (``--strict``)
    makes its row invalid, so it is not sent."""
    by_row = {o.row: o for o in outcomes}
    for problem in found:
        outcome = by_row[problem.row]
        outcome.problems.append(problem)
        if problem.is_error and outcome.parameters is not None:
            outcome.partial = outcome.parameters
            outcome.parameters = outcome.fingerprint = None


def check(
    source: str | Path,
    mapping: str | Path | Mapping,
    *,
    api: Api | None = None,
    load_options: LoadOptions | None = None,
    now: datetime | None = None,
    prepared: tuple[Mapping, Table] | None = None,
    strict: bool = False,
    learned: Learned | None = None,
    progress: Progress | None = None,
) -> CheckReport:
    """Dry-run ``source`` through ``mapping`` (``progress``: told rows checked of rows).

    With ``api``, look-ups run against onOffice (read calls only; what a run would do, and
    double bookings against onOffice's calendar, are :func:`importer.run.submit.planned_check`'s).
    ``prepared`` is what :func:`prepare` returned for the same source, if it already ran.
    ``learned``: what the account has shown of its types before (the ledger keeps it).
    """
    phase("check")
    with collector_paused():
        return _check(source, mapping, api, load_options, now, prepared, strict, learned, progress)


def first_rows(
    source: str | Path,
    mapping: str | Path | Mapping,
    rows: int = 20,
    *,
    api: ReadApi | None = None,
    load_options: LoadOptions | None = None,
    table: Table | None = None,
) -> CheckReport:
    """Check only the first ``rows`` rows (look-ups with ``api``, no double-booking check, no
    report): the preview of a mapping being written. ``table``: the file loaded already (for
    this mapping's columns), so that a preview of a large file does not read it again."""
    if table is None:
        mapping, table = prepare(source, mapping, load_options)
    else:
        mapping = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
        match_columns(mapping, table, source)
    head = replace(table, frame=table.frame.iloc[:rows])
    return _check(source, mapping, api, load_options, None, (mapping, head), False, None)


def _check(
    source: str | Path,
    mapping: str | Path | Mapping,
    api: ReadApi | None,
    load_options: LoadOptions | None,
    now: datetime | None,
    prepared: tuple[Mapping, Table] | None,
    strict: bool,
    learned: Learned | None,
    progress: Progress | None = None,
) -> CheckReport:
    started = now or contract.local_now()
    source = Path(source)
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    mapping, table = prepared or prepare(source, mapping, load_options)
    timings["load"] = time.perf_counter() - clock
    resolver = Resolver(api, learned) if api is not None else None
    outcomes, converted = evaluate(table, mapping, resolver, started, timings, strict, progress)
    return CheckReport(
        source,
        mapping,
        table,
        outcomes,
        converted.unresolved,
        table.sha256 or file_sha256(source),  # the bytes parsed (a table of a test: the file)
        started,
        file_warnings=[*table.warnings, *converted.warnings],
        timings=timings,
        notices=list(converted.notices),
        sources=converted.sources,
        allowed=converted.allowed,
        learned=resolver.learned if resolver is not None and resolver.learning else None,
    )


def confirm_types(checked: CheckReport, seen: Iterable[Appointment | None]) -> None:
    """The types of the appointments a check or run read (``seen``) are the account's: rows
    left unconfirmed for a type among them are confirmed, and sent as its key."""
    learned = checked.learned
    if learned is None:
        return
    learned.saw(seen)
    known = Choices(learned.choices())
    found: list[RowProblem] = []
    for outcome in checked.outcomes:
        if not outcome.unconfirmed or outcome.parameters is None:
            continue
        data = outcome.parameters.get("data") or {}
        value = str(data.get(contract.TYPE_FIELD))
        key, twins = (value, []) if value in learned.taken else known.find(value)
        doubt = next(p for p in outcome.problems if p.code == UNCONFIRMED)
        if key is None and not twins:
            continue
        outcome.problems = [p for p in outcome.problems if p is not doubt]
        if twins:  # a word two of the types shown answer to: an error in its cell
            message = known.ambiguous(value, twins)
            found.append(replace(doubt, code="type-ambiguous", message=message, level=Level.ERROR))
            continue
        outcome.parameters = {**outcome.parameters, "data": {**data, contract.TYPE_FIELD: key}}
        outcome.fingerprint = fingerprint(outcome.parameters)
    add_problems(checked.outcomes, found)  # those rows are invalid now
    if known.values:
        checked.allowed[contract.TYPE_FIELD] = known.shown()
