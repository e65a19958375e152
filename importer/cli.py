"""The command line: parse options, call the library, render, map outcomes to exit codes.

Every known error becomes one line on stderr and a documented exit code (``errors.ExitCode``);
a traceback only with ``--debug``.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import logging
import os
import signal
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import click

from .core import contract, i18n, stopping
from .core.errors import ConfigurationError, ExitCode, HideUrlSecrets, ImporterError
from .core.i18n import _, ngettext

if TYPE_CHECKING:  # the library is imported by the commands that use it: --help stays fast
    from .onoffice.client import OnOfficeClient
    from .source.load import LoadOptions

log = logging.getLogger("importer")


def _options(argv: list[str] | None) -> list[str]:
    """The arguments before a ``--``: read before click parses them, so that an error of
    parsing is said in the user's language too, and no state outlives a command."""
    args = sys.argv[1:] if argv is None else argv
    return args[: args.index("--") if "--" in args else len(args)]


def _more(count: int, singular: str, plural: str) -> None:
    """ "… and 3 more …": the rest of a list the output names only the first of."""
    if count > 0:
        click.echo("  " + ngettext(singular, plural, count).format(n=count))


def _debug(argv: list[str] | None) -> bool:
    return "--debug" in _options(argv)


def _language(argv: list[str] | None) -> str:
    """--lang, else the config file's ``lang``, else the locale (German where it is German)."""
    from .onoffice.config import configured_language

    args = _options(argv)
    config = None
    for i, arg in enumerate(args):
        if arg == "--lang" and i + 1 < len(args):
            return _known_language(args[i + 1])
        if arg.startswith("--lang="):
            return _known_language(arg.partition("=")[2])
        if arg == "--config" and i + 1 < len(args):
            config = Path(args[i + 1])
        elif arg.startswith("--config="):
            config = Path(arg.partition("=")[2])
    return _known_language(configured_language(os.environ, config))


def _known_language(requested: str | None) -> str:
    try:
        return i18n.choose(requested)
    except ValueError:
        return i18n.language()  # click names the accepted choices when it parses --lang


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logging.")
@click.option(
    "--lang",
    type=click.Choice(i18n.LANGUAGES),
    help="Language of reports and messages (default: the config file's lang, else the "
    "system's: German where it is German).",
)
@click.version_option(package_name="onoffice-import")
@click.pass_context
def cli(ctx: click.Context, debug: bool, lang: str | None) -> None:
    """Import appointment spreadsheets into onOffice enterprise."""
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(HideUrlSecrets())
    if lang:
        ctx.with_resource(i18n.use(lang))


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8765, show_default=True, type=int, help="0 picks a free port.")
@click.option(
    "--fixtures",
    type=click.Path(exists=True, dir_okay=False),
    help="Users, groups, estates, addresses, resources, types (JSON/YAML). "
    "Default: the sample agency.",
)
@click.option(
    "--db", type=click.Path(dir_okay=False), help="Keep appointments in this SQLite file."
)
@click.option("--latency", type=float, default=0.0, help="Seconds added to every answer.")
@click.option("--fail-before-rate", type=float, default=0.0, help="Share refused unprocessed.")
@click.option(
    "--fail-before",
    type=click.Choice(["503", "429", "reset"]),
    default="503",
    show_default=True,
    help="How a refused request fails: HTTP 503 or connection reset.",
)
@click.option(
    "--drop-after-rate",
    type=float,
    default=0.0,
    help="Share processed, then dropped without answer.",
)
@click.option(
    "--drop-after",
    type=click.Choice(["reset", "500"]),
    default="reset",
    show_default=True,
    help="How a processed request loses its answer: connection reset or HTTP 500.",
)
@click.option("--clock-skew", type=float, default=0.0, help="Seconds added to the server clock.")
@click.option("--writes-only", is_flag=True, help="Faults hit only requests that write.")
@click.option("--seed", type=int, default=None, help="Seed for reproducible faults.")
@click.option(
    "--dialect",
    default=None,
    metavar="POINT=VALUE,...|random:SEED",
    help="How to answer where the onOffice documentation is silent "
    "(see importer/sandbox/README.md, 'Dialects'). Default: the documented reading.",
)
def sandbox(
    host: str,
    port: int,
    fixtures: str | None,
    db: str | None,
    latency: float,
    fail_before_rate: float,
    fail_before: str,
    drop_after_rate: float,
    drop_after: str,
    clock_skew: float,
    writes_only: bool,
    seed: int | None,
    dialect: str | None,
) -> None:
    """Run a local onOffice API sandbox until Ctrl-C."""
    from .sandbox import Dialect, DialectError, Faults, FixtureError, Sandbox, load_fixtures

    faults = Faults(
        latency=latency,
        fail_before_rate=fail_before_rate,
        fail_before=fail_before,
        drop_after_rate=drop_after_rate,
        drop_after=drop_after,
        clock_skew=clock_skew,
        writes_only=writes_only,
        seed=seed,
    )
    try:
        loaded = load_fixtures(fixtures)
        chosen = Dialect.parse(dialect) if dialect is not None else loaded.dialect
    except (FixtureError, DialectError) as exc:
        raise ConfigurationError(str(exc)) from None
    server = Sandbox(
        loaded, host=host, port=port, db=db or ":memory:", faults=faults, dialect=chosen
    )
    try:
        server.bind()  # bind first, so the printed URL holds the real port
    except OSError as exc:
        raise click.ClickException(
            _("cannot listen on {host}:{port}: {why}").format(
                host=host, port=port, why=exc.strerror
            )
        ) from None
    click.echo(
        _("onOffice sandbox listening on {url} (dialect: {dialect})").format(
            url=server.url, dialect=chosen
        )
    )
    click.echo(_("Use it with:"))
    for line in use_it_with(server.url, server.credentials, sys.platform == "win32"):
        click.echo(f"  {line}")
    click.echo(_("Press Ctrl-C to stop."))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("\n" + _("Sandbox stopped."))


def use_it_with(url: str, credentials: Any, windows: bool) -> list[str]:
    """The lines that point another shell at the sandbox: PowerShell's on Windows (the README's
    shell there, where `export` is no command)."""
    values = {
        "ONOFFICE_API_URL": url,
        "ONOFFICE_TOKEN": credentials.token,
        "ONOFFICE_SECRET": credentials.secret,
    }
    if windows:
        return [f'$env:{name} = "{value}"' for name, value in values.items()]
    return [f"export {name}={value}" for name, value in values.items()]


@contextmanager
def api_client(use_sandbox: bool, config: Path | None = None) -> Iterator[OnOfficeClient]:
    """A client from ONOFFICE_* variables or the config file, or an embedded sandbox."""
    from .onoffice.client import OnOfficeClient
    from .onoffice.config import api_settings

    if use_sandbox:
        from .sandbox import Sandbox

        with Sandbox() as sb, OnOfficeClient(sb.url, sb.credentials) as client:
            yield client
        return
    settings = api_settings(os.environ, config)
    with OnOfficeClient(settings.url, settings.credentials, proxy=settings.proxy) as client:
        yield client


def lookup_client(
    resolve: bool, use_sandbox: bool, config: Path | None
) -> AbstractContextManager[OnOfficeClient | None]:
    """The client of `--resolve` (or of `--sandbox`, which implies it); None without either."""
    return api_client(use_sandbox, config) if resolve or use_sandbox else nullcontext(None)


def _load_options(
    sheet: str | None, header_row: int | None, encoding: str | None, delimiter: str | None
) -> LoadOptions:
    from .source.load import LoadOptions

    chosen: str | int | None = (
        int(sheet) if sheet and sheet.isascii() and sheet.isdigit() else sheet
    )
    if delimiter in ("tab", "\\t"):
        delimiter = "\t"
    return LoadOptions(sheet=chosen, header_row=header_row, encoding=encoding, delimiter=delimiter)


def _mapping_file(_ctx: Any, _param: Any, given: Path) -> Path:
    from .core import shipped

    return shipped.mapping(given)


mapping_option = click.option(
    "--mapping",
    "-m",
    "mapping_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    callback=_mapping_file,
    help="The mapping file (YAML), or the name of one: yours in mappings/, else one that comes "
    "with the tool (onoffice-import mapping list).",
)
config_option = click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Config file with url/token/secret (owner-only; default "
    "~/.config/onoffice-import/config.ini). ONOFFICE_TOKEN/ONOFFICE_SECRET take precedence.",
)


def _pairs(_ctx: Any, _param: Any, values: tuple[str, ...]) -> dict[int, int | None]:
    """``--pair 7=2712`` / ``--pair 8=new``: the user's answer to the plan's question."""
    out: dict[int, int | None] = {}
    for value in values:
        row, sep, target = value.partition("=")
        target = target.strip().casefold()
        number, appointment = contract.record_id(row), contract.record_id(target)
        if (
            not sep
            or not isinstance(number, int)
            or not (isinstance(appointment, int) or target in _NEW)
        ):
            raise click.BadParameter(
                _("write ROW=APPOINTMENT_ID or ROW=new (for example 7=2712), not {value}").format(
                    value=repr(value)
                )
            )
        out[number] = appointment if isinstance(appointment, int) else None
    return out


_NEW = ("new", "neu")


pair_option = click.option(
    "--pair",
    "pairs",
    multiple=True,
    callback=_pairs,
    metavar="ROW=ID",
    help="Say which appointment a row is where the plan asks (two look-alike rows changed at "
    "once): ROW=APPOINTMENT_ID, or ROW=new for a new appointment; may be repeated.",
)


def source_options(command: Any) -> Any:
    for option in reversed(
        [
            click.option("--sheet", help="Sheet name, or position (1 = first)."),
            click.option(
                "--header-row",
                type=click.IntRange(min=1),
                help="Row number of the header (found automatically).",
            ),
            click.option("--encoding", help="CSV encoding (detected: UTF-8, cp1252)."),
            click.option("--delimiter", help="CSV delimiter (detected: ; , tab)."),
        ]
    ):
        command = option(command)
    return command


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@mapping_option
@click.option("--resolve", is_flag=True, help="Run look-ups against the API (read calls only).")
@click.option(
    "--sandbox",
    "use_sandbox",
    is_flag=True,
    help="Look up against the built-in sandbox (sample agency); implies --resolve.",
)
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the report (default: <file>.check.xlsx beside the input).",
)
@click.option("--strict", is_flag=True, help="Double bookings are errors, not warnings.")
@click.option(
    "--allow-duplicates",
    is_flag=True,
    help="Plan as `run --allow-duplicates` would (with --resolve).",
)
@pair_option
@config_option
@source_options
def check(
    file: Path,
    mapping_path: Path,
    resolve: bool,
    use_sandbox: bool,
    report: Path | None,
    strict: bool,
    allow_duplicates: bool,
    pairs: dict[int, int | None],
    config: Path | None,
    sheet: str | None,
    header_row: int | None,
    encoding: str | None,
    delimiter: str | None,
) -> None:
    """Dry run: map and validate every row, write a report, send nothing.

    With --resolve it also says what `run` would do with each row for this account: create,
    update or leave it unchanged (the report's Plan column).
    """
    from .mapping.spec import load_mapping
    from .output.report import write_report
    from .rules.check import check as run_check
    from .rules.check import prepare

    mapping = load_mapping(mapping_path)
    options = _load_options(sheet, header_row, encoding, delimiter)
    with lookup_client(resolve, use_sandbox, config) as api:
        prepared = prepare(file, mapping, options)
        if api is None:
            result = run_check(
                file, mapping, load_options=options, strict=strict, prepared=prepared
            )
        else:
            from .run.submit import planned_check

            result = planned_check(
                api,
                file,
                prepared,
                allow_duplicates=allow_duplicates,
                strict=strict,
                load_options=options,
                choices=pairs,
            )
        write_report(result, report)
    render_check(result)
    raise SystemExit(result.exit_code)


def render_check(result: Any) -> None:
    from .core.problems import problem_text
    from .output.report import lookups_not_checked

    table = result.table
    where = _("sheet {sheet}").format(sheet=repr(table.sheet)) if table.sheet else table.encoding
    if table.calendar:
        line = _("Checked {file} (a calendar: a row per event, the first in row 2) with {mapping}")
    else:
        line = _("Checked {file} ({where}, header in row {row}) with {mapping}")
    click.echo(
        line.format(
            file=result.source, where=where, row=table.header_row, mapping=result.mapping.path
        )
    )
    total, unconfirmed = len(result.outcomes), result.unconfirmed_count
    counts = ngettext(
        "{total} row read: {valid} valid, {invalid} invalid",
        "{total} rows read: {valid} valid, {invalid} invalid",
        total,
    )
    if unconfirmed:  # the check cannot vouch for those: not called valid
        counts = ngettext(
            "{total} row read: {valid} valid, {unconfirmed} unconfirmed, {invalid} invalid",
            "{total} rows read: {valid} valid, {unconfirmed} unconfirmed, {invalid} invalid",
            total,
        )
    click.echo(
        "  "
        + counts.format(
            total=total,
            valid=result.valid_count - unconfirmed,
            unconfirmed=unconfirmed,
            invalid=result.invalid_count,
        )
    )
    codes = result.code_counts().most_common()
    for code, count in codes[:5]:
        click.echo(f"  {count:>5} x {code}")
    _more(
        len(codes) - 5,
        "… and {n} more code (see the report)",
        "… and {n} more codes (see the report)",
    )
    invalid = [o for o in result.outcomes if not o.valid]
    for outcome in invalid[:5]:
        click.echo(
            "  "
            + _("row {row}: {problem}").format(
                row=outcome.row, problem=problem_text(outcome.errors[0])
            )
        )
    _more(
        len(invalid) - 5,
        "… and {n} more invalid row (see the report)",
        "… and {n} more invalid rows (see the report)",
    )
    for warning in result.file_warnings:
        click.echo("  " + _("Warning: {text}").format(text=warning))
    for notice in result.notices:
        click.echo("  " + _("Note: {text}").format(text=notice))
    warned = sum(1 for o in result.outcomes if o.warnings)
    if warned:
        click.echo(
            "  "
            + ngettext(
                "{n} row has warnings (see the report)",
                "{n} rows have warnings (see the report)",
                warned,
            ).format(n=warned)
        )
    _render_plan(result)
    if result.unresolved:
        click.echo("  " + lookups_not_checked(result.unresolved))
    if result.report_path:
        click.echo("  " + _("Report: {path}").format(path=result.report_path))


def _render_plan(result: Any) -> None:
    """What a run would do with the checked rows (check --resolve)."""
    if result.plan:
        planned = Counter(result.plan.values())
        line = _(
            "A run would create {create}, update {update} and leave {unchanged} appointments "
            "unchanged"
        )
        line = line.format(**{k: planned[k] for k in ("create", "update", "unchanged")})
        if planned["settle"]:
            line += _(", settle {n} sent earlier").format(n=planned["settle"])
        if planned["duplicate"]:
            line += _(", hold {n} duplicates").format(n=planned["duplicate"])
        if planned["conflict"]:
            line += _(", not overwrite {n} changed in onOffice").format(n=planned["conflict"])
        click.echo(f"  {line} " + _("(see the Plan column)"))
        for row, note in sorted(result.plan_notes.items()):
            if result.plan.get(row) == "ambiguous":
                click.echo("  " + _("row {row}: {problem}").format(row=row, problem=note))
    if result.plan_removed:
        click.echo(
            "  "
            + ngettext(
                "{n} appointment imported earlier from this file has no row in it any more "
                "(run --cancel-removed cancels it)",
                "{n} appointments imported earlier from this file have no row in it any more "
                "(run --cancel-removed cancels them)",
                result.plan_removed,
            ).format(n=result.plan_removed)
        )


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@mapping_option
@click.option(
    "--results",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The results workbook (default: <file>.results.xlsx beside the input; a "
    "results workbook given as FILE is updated in place).",
)
@click.option(
    "--journal",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The journal (default: this account's own, in the user's data folder).",
)
@click.option(
    "--only-failed",
    is_flag=True,
    help="With a results workbook as FILE: send only rows not marked created there.",
)
@click.option(
    "--allow-duplicates",
    is_flag=True,
    help="Also send rows identical to an earlier row of the file.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 16),
    default=1,
    show_default=True,
    help="Requests sent concurrently.",
)
@click.option(
    "--sandbox",
    "use_sandbox",
    is_flag=True,
    help="Import into a built-in sandbox (sample agency) instead of onOffice.",
)
@click.option("--strict", is_flag=True, help="Double bookings are errors: those rows are not sent.")
@click.option(
    "--resend-after",
    type=click.FloatRange(min=0),
    default=120.0,
    show_default=True,
    metavar="SECONDS",
    help="A row whose answer was lost is sent again only when onOffice still does not show it "
    "this long after the attempt.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Update (or cancel) appointments even where someone changed them in onOffice since "
    "the import; create again a row's appointment that was deleted there.",
)
@click.option(
    "--cancel-removed",
    is_flag=True,
    help="Cancel the appointments of rows an earlier run imported from this file that are no "
    "longer in it (undo removes them with the rest).",
)
@click.option(
    "--retry-refused",
    is_flag=True,
    help="Send again rows whose appointment type onOffice refused before (where it lists no "
    "types): for a type added in onOffice since.",
)
@pair_option
@config_option
@source_options
def run(
    file: Path,
    mapping_path: Path,
    results: Path | None,
    journal: Path | None,
    only_failed: bool,
    allow_duplicates: bool,
    workers: int,
    use_sandbox: bool,
    strict: bool,
    resend_after: float,
    force: bool,
    cancel_removed: bool,
    retry_refused: bool,
    pairs: dict[int, int | None],
    config: Path | None,
    sheet: str | None,
    header_row: int | None,
    encoding: str | None,
    delimiter: str | None,
) -> None:
    """Create the valid rows as appointments, one by one (update those that changed since an
    earlier run); write the results workbook."""
    from .mapping.spec import load_mapping
    from .output.results import default_results_path
    from .run.submit import RunOptions, run_import

    mapping = load_mapping(mapping_path)
    results = results or default_results_path(file)
    journal = journal or _legacy_journal(results)
    options = RunOptions(
        workers=workers,
        only_failed=only_failed,
        allow_duplicates=allow_duplicates,
        strict=strict,
        resend_after=resend_after,
        force=force,
        cancel_removed=cancel_removed,
        retry_refused=retry_refused,
        choices=pairs,
        results=str(results),  # History finds the import by the ledger
    )
    report, stopped = None, threading.Event()
    try:
        with api_client(use_sandbox, config) as client:
            report = run_import(
                file,
                mapping,
                client=client,
                journal_path=journal,
                options=options,
                load_options=_load_options(sheet, header_row, encoding, delimiter),
                progress=_progress(),
            )
    except KeyboardInterrupt:
        if report is None:
            raise
        stopped.set()  # came as the run returned: its results are written all the same
    with stopping.held(stopped):  # a stop while they are written: the results all the same
        written = _write_results(report, results)
    render_run(report, written)
    _stopped_after_writing(stopped, report.exit_code)
    raise SystemExit(report.exit_code)


def _stopped_after_writing(stopped: threading.Event, code: ExitCode) -> None:
    """A stop that came while the workbook was written ends the command now, like Ctrl-C
    (unless it ends so anyway, having said so)."""
    if stopped.is_set() and code != ExitCode.INTERRUPTED:
        raise KeyboardInterrupt


def _legacy_journal(results: Path) -> Path | None:
    """A journal an earlier version kept beside the results workbook: still used for that
    file (its appointments carry no import reference, so only it knows them)."""
    from .run.journal import default_journal_path

    legacy = default_journal_path(results)
    if not legacy.exists():
        return None
    click.echo(
        _("Using the journal of an earlier version beside the results: {path}").format(path=legacy)
    )
    return legacy


def _progress() -> Any:
    """A bar with count, the recent rate and the time left in words on a terminal; a line
    every 10 s otherwise (the estimate: :mod:`importer.core.progress`)."""
    from .core.progress import Pace

    pace = Pace()
    state: dict[str, Any] = {"bar": None, "last": 0.0, "start": time.monotonic()}
    interactive = sys.stderr.isatty()

    def update(done: int, total: int, counts: Any) -> None:
        pace.record(done, total)
        rate = pace.rate()
        said = pace.words(total - done)  # the rate only once there is one (never "0.0/s")
        if rate:
            said = _("{rate}/s").format(rate=i18n.decimal(rate)) + ", " + said
        if done == total:  # the last line: how long it took, not "finishing"
            said = i18n.took(time.monotonic() - state["start"])
        if interactive:
            bar = state["bar"]
            if bar is None:
                bar = state["bar"] = click.progressbar(
                    length=total,
                    label=_("Importing"),
                    file=sys.stderr,
                    show_pos=True,
                    show_eta=False,  # click's is the average since the start: ours is in words
                    item_show_func=lambda words: words,
                )
                bar.__enter__()
            bar.update(1, said)
            if done == total:
                bar.__exit__(None, None, None)
        elif time.monotonic() - state["last"] >= 10 or done == total:
            state["last"] = time.monotonic()
            click.echo(
                _("{done} of {total} rows handled ({said}): {statuses}").format(
                    done=done, total=total, said=said, statuses=_statuses(counts, counts)
                ),
                err=True,
            )

    return update


def _write_results(report: Any, target: Path) -> Path | None:
    """The results workbook (:func:`importer.output.results.save_results`), saying where it
    failed."""
    from .output.results import save_results

    written, failures = save_results(report, target)
    for failure in failures:
        click.echo(_("Warning: {text}").format(text=failure), err=True)
    return written


def _statuses(counts: Any, order: Any) -> str:
    """ "3 angelegt, 1 ungültig": counts in the user's words, in the reports' order."""
    from .core.excel import status_word

    return ", ".join(f"{counts[s]} {status_word(s)}" for s in order if counts.get(s))


def render_run(report: Any, written: Path | None) -> None:
    from .output.results import STATUS_ORDER

    counts = report.counts()
    total = len(report.results)
    click.echo(_("Imported {file} into {url}").format(file=report.check.source, url=report.api_url))
    click.echo(
        "  "
        + ngettext("{n} row: {statuses}", "{n} rows: {statuses}", total).format(
            n=total, statuses=_statuses(counts, STATUS_ORDER) or _("none")
        )
    )
    if report.existence_reads:
        click.echo(
            "  "
            + ngettext(
                "onOffice was searched once for rows imported earlier (from any computer)",
                "onOffice was searched {n} times for rows imported earlier (from any computer)",
                report.existence_reads,
            ).format(n=report.existence_reads)
        )
    warned = sum(1 for o in report.check.outcomes if o.warnings)
    if warned:
        click.echo(
            "  "
            + ngettext(
                "{n} row has warnings (double bookings, past dates …): see the Warnings column",
                "{n} rows have warnings (double bookings, past dates …): see the Warnings column",
                warned,
            ).format(n=warned)
        )
    for warning in report.check.file_warnings:  # a day/month order assumed, the encoding
        click.echo("  " + _("Warning: {text}").format(text=warning))
    for notice in [*report.check.notices, *report.notices]:
        click.echo("  " + _("Note: {text}").format(text=notice))
    shown = ("invalid", "failed", "conflict", "ambiguous", "unknown")
    failed = [r for r in report.results.values() if r.status in shown]
    for result in sorted(failed, key=lambda r: r.row)[:5]:
        first = (result.error or "").split("\n")[0].removeprefix("• ")
        click.echo("  " + _("row {row}: {problem}").format(row=result.row, problem=first))
    _more(
        len(failed) - 5,
        "… and {n} more row not imported (see the results)",
        "… and {n} more rows not imported (see the results)",
    )
    if report.removed:
        _render_removed(report.removed)
    _render_what_next(report, counts)
    if written is not None:
        click.echo("  " + _("Results: {path}").format(path=written))
    elif report.stopped and "journal" in report.stopped:  # journal errors speak of it
        click.echo(
            "  "
            + _(
                "Results could not be written anywhere either; the next run finds the rows "
                "created so far in onOffice by their import reference"
            )
        )
    else:
        click.echo(
            "  "
            + _(
                "Results could not be written anywhere; the journal {path} keeps every outcome"
            ).format(path=report.journal_path)
        )


def _render_what_next(report: Any, counts: Counter[str]) -> None:
    """What the rows that are not in onOffice ask of the user, and why a run stopped."""
    if counts.get("conflict"):
        click.echo(
            "  "
            + _(
                "Some appointments were changed in onOffice since the import and were not "
                "overwritten (see the Error column); --force writes the rows over them"
            )
        )
    if report.stopped:
        click.echo("  " + _("Stopped early: {why}").format(why=report.stopped))
    if report.interrupted:
        click.echo(
            "  "
            + _("Interrupted: requests in flight were finished and recorded; run again to continue")
        )
    if counts.get("ambiguous"):
        click.echo(
            "  "
            + _(
                "Some rows could each be one of several appointments: say which with --pair "
                "ROW=ID (or ROW=new) and run again, or in the web app"
            )
        )
    if counts.get("unknown"):
        click.echo(
            "  "
            + _(
                "Some rows have an unknown outcome, so they are not counted as sent: run again "
                "when their Error says to settle them (they are read back first, never sent "
                "blindly)"
            )
        )


def _render_removed(removed: list[Any]) -> None:
    """Appointments whose rows left the file: a few named, the rest counted."""
    from .core.excel import REMOVED_WORDS

    counts = Counter(r.status for r in removed)
    what = ", ".join(
        f"{n} {_(REMOVED_WORDS[s]) if s in REMOVED_WORDS else s}" for s, n in sorted(counts.items())
    )
    click.echo(
        "  "
        + ngettext(
            "{n} appointment imported earlier from this file has no row in it any more: {what}",
            "{n} appointments imported earlier from this file have no row in it any more: {what}",
            len(removed),
        ).format(n=len(removed), what=what)
    )
    for r in removed[:5]:
        click.echo(
            "    "
            + _("appointment {id} (row {row}, {start} {subject}): {message}").format(
                id=r.appointment_id,
                row=r.source_row,
                start=r.start,
                subject=repr(r.subject),
                message=r.message,
            )
        )
    if len(removed) > 5:
        click.echo(
            "    "
            + _("… and {n} more (see the Removed sheet of the results)").format(n=len(removed) - 5)
        )


@cli.command()
@click.option(
    "--sandbox",
    "use_sandbox",
    is_flag=True,
    help="Ask the built-in sandbox (sample agency) instead of onOffice.",
)
@config_option
def account(use_sandbox: bool, config: Path | None) -> None:
    """What the onOffice account answers (read calls only): the API user, the rights, how its
    calendar is read, its types and resources, and what a check and a run will not check or not
    see because of it."""
    from .onoffice.account import account_lines, survey
    from .run.journal import recall_account

    with api_client(use_sandbox, config) as client:
        recall_account(client)  # what runs on this computer learned of the account
        found = survey(client)
    for label, text in account_lines(found):
        click.echo(f"{label}: {text}")


@cli.group()
def mapping() -> None:
    """Work with mapping files."""


@mapping.command("list")
def mapping_list() -> None:
    """The mappings that come with the tool, usable by name (--mapping NAME)."""
    import yaml

    from .core import shipped

    for name, path in shipped.mappings().items():
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            loaded = None
        about = loaded.get("description", "") if isinstance(loaded, dict) else ""
        click.echo(f"{name:<14} {about}".rstrip())
    click.echo(_("Folder: {path}").format(path=shipped.folder("mappings")))
    click.echo(_("Use one by name: --mapping NAME; copy it to mappings/ to change it."))


@mapping.command("init")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the draft (default: mappings/<file name>.yaml).",
)
@click.option("--force", is_flag=True, help="Overwrite an existing mapping file.")
@click.option(
    "--resolve",
    is_flag=True,
    help="Try the look-ups against the account (read calls only): unknown agents get a "
    "proposed value map.",
)
@click.option(
    "--sandbox",
    "use_sandbox",
    is_flag=True,
    help="Try the look-ups against the built-in sandbox (sample agency); implies --resolve.",
)
@config_option
@source_options
def mapping_init(
    file: Path,
    out: Path | None,
    force: bool,
    resolve: bool,
    use_sandbox: bool,
    config: Path | None,
    sheet: str | None,
    header_row: int | None,
    encoding: str | None,
    delimiter: str | None,
) -> None:
    """Draft a commented mapping from FILE, then check FILE with it."""
    from .core.errors import MappingError
    from .mapping.draft import draft_mapping
    from .rules.check import check as run_check

    out = out or Path("mappings") / f"{file.stem}.yaml"
    if out.exists() and not force:
        raise click.ClickException(
            _("{path} exists; choose another --out or add --force").format(path=out)
        )
    options = _load_options(sheet, header_row, encoding, delimiter)
    with lookup_client(resolve, use_sandbox, config) as api:
        draft = draft_mapping(file, options, api=api)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(draft.yaml, encoding="utf-8")
        line = _("Drafted {out} from {file}: {n} entries").format(
            out=out, file=file, n=len(draft.entries)
        )
        if draft.unmapped:
            line += _("; unmapped columns: {columns}").format(columns=", ".join(draft.unmapped))
        click.echo(line)
        for todo in draft.todo:
            click.echo("  " + _("To check: {item}").format(item=todo))
        try:  # with --resolve against the account, as `check --resolve` checks
            result = run_check(file, out, api=api, load_options=options)
        except MappingError as exc:
            click.echo(_("The draft needs edits before a check can run:") + f"\n{exc}")
            raise SystemExit(ExitCode.INPUT_REJECTED) from None
    render_check(result)
    raise SystemExit(ExitCode.OK if result.invalid_count == 0 else ExitCode.ROWS_FAILED)


@cli.command()
@click.argument("results", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--cancel", is_flag=True, help="Set the appointments to canceled instead.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--force", is_flag=True, help="Also undo appointments changed after the import.")
@click.option(
    "--journal",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The import's journal (default: this account's own).",
)
@config_option
def undo(
    results: Path, cancel: bool, yes: bool, force: bool, journal: Path | None, config: Path | None
) -> None:
    """Remove exactly the appointments an import created (RESULTS = its results workbook)."""
    from .run.undo import undo_import, undo_word

    if journal is not None and not journal.exists():
        raise click.ClickException(_("no journal {path}").format(path=journal))
    journal = journal or _legacy_journal(results)

    def confirm(plan: list[Any]) -> bool:
        remove = plan  # also what later runs cancelled: never made active again
        if remove:
            click.echo(
                (
                    ngettext(
                        "{n} appointment would be cancelled (every one this results workbook's "
                        "import holds, from all its runs):",
                        "{n} appointments would be cancelled (every one this results workbook's "
                        "import holds, from all its runs):",
                        len(remove),
                    )
                    if cancel
                    else ngettext(
                        "{n} appointment would be removed (every one this results workbook's "
                        "import holds, from all its runs):",
                        "{n} appointments would be removed (every one this results workbook's "
                        "import holds, from all its runs):",
                        len(remove),
                    )
                ).format(n=len(remove))
            )
            _list_appointments(remove)
        if yes:
            return True
        if not sys.stdin.isatty():
            click.echo(_("Nothing changed: add --yes to confirm when not on a terminal."))
            return False
        return click.confirm(_("Go ahead?"), default=False)

    report, stopped = None, threading.Event()
    try:
        with api_client(False, config) as client:
            report = undo_import(
                results,
                client=client,
                journal_path=journal,
                cancel=cancel,
                force=force,
                confirm=confirm,
            )
    except KeyboardInterrupt:
        if report is None:
            raise
        stopped.set()  # came as the undo returned: its workbook is written all the same
    with stopping.held(stopped):  # a stop while it is written: the workbook all the same
        written = _write_undo(report)
    click.echo(_("Undo of {file}: {what}").format(file=results, what=_undo_counts(report)))
    if report.stopped:
        click.echo("  " + _("Stopped: {why}").format(why=report.stopped))
    for item in [
        i for i in report.items if i.status in ("skipped-modified", "disagreement", "failed")
    ][:10]:
        click.echo(
            "  "
            + _("appointment {id}: {status} - {message}").format(
                id=item.appointment_id, status=undo_word(item.status), message=item.message
            )
        )
    if written:
        click.echo("  " + _("Undo results: {path}").format(path=written))
    _stopped_after_writing(stopped, report.exit_code)
    raise SystemExit(ExitCode.ROWS_FAILED if not report.confirmed else report.exit_code)


def _list_appointments(items: list[Any]) -> None:
    for item in items[:20]:
        click.echo(
            "  "
            + _("appointment {id} (source row {row})").format(
                id=item.appointment_id, row=item.source_row
            )
        )
    if len(items) > 20:
        click.echo("  " + _("… and {n} more").format(n=len(items) - 20))


def _undo_counts(report: Any) -> str:
    from .run.undo import UNDONE_EARLIER, undo_word

    earlier = sum(1 for i in report.items if i.message == _(UNDONE_EARLIER))
    counts = report.counts() - Counter({"deleted": earlier, "canceled": earlier})
    parts = [f"{n} {undo_word(s)}" for s, n in sorted(counts.items()) if n]
    if earlier:
        parts.append(_("{n} undone earlier (nothing sent for them)").format(n=earlier))
    return ", ".join(parts) or _("nothing to do")


def _write_undo(report: Any) -> Path | None:
    from .output.undo_book import write_undo_results

    try:
        return write_undo_results(report)
    except OSError as exc:
        click.echo(
            _("Warning: cannot write the undo results ({why})").format(why=exc.strerror or exc),
            err=True,
        )
        return None


@cli.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("onoffice-demo"),
    show_default=True,
    help="Folder for the demo's copy of the sample, its results and journal.",
)
def demo(out: Path) -> None:
    """Import samples/viewings.xlsx into a built-in sandbox, twice: nothing is created twice."""
    import shutil

    from .core import shipped
    from .onoffice.client import OnOfficeClient
    from .output.results import default_results_path
    from .run.journal import default_journal_path
    from .run.submit import run_import
    from .sandbox import Sandbox

    samples = shipped.folder("samples")
    mapping = shipped.folder("mappings") / "viewings.yaml"
    if not (samples / "viewings.xlsx").exists() or not mapping.exists():
        raise click.ClickException(
            _("the demo's files are missing: {files}; reinstall onoffice-import").format(
                files=f"{samples / 'viewings.xlsx'}, {mapping}"
            )
        )
    out.mkdir(parents=True, exist_ok=True)
    source = out / "viewings.xlsx"
    shutil.copy(samples / "viewings.xlsx", source)
    results = default_results_path(source)
    journal = default_journal_path(results)
    for stale in (results, journal, Path(f"{journal}-wal"), Path(f"{journal}-shm")):
        stale.unlink(missing_ok=True)  # a fresh sandbox: an old journal would not match it
    with Sandbox() as sandbox, OnOfficeClient(sandbox.url, sandbox.credentials) as client:
        click.echo(
            _(
                "Started an onOffice sandbox at {url} (sample agency, no credentials needed)."
            ).format(url=sandbox.url)
        )
        report = run_import(source, mapping, client=client, journal_path=journal)
        written = _write_results(report, results)
        render_run(report, written)
        again = run_import(source, mapping, client=client, journal_path=journal)
        counts = again.counts()
        click.echo(
            _(
                "Second run of the same file: {created} created, {already} already created - "
                "nothing is created twice."
            ).format(created=counts.get("created", 0), already=counts.get("already-created", 0))
        )
        click.echo(
            _("The sandbox now holds {n} appointments.").format(
                n=sandbox.store.count_appointments()
            )
        )
    click.echo(
        _(
            "Open {path} to see every row with its status, appointment id or error. The "
            "{invalid} invalid rows are deliberate mistakes of the sample. To try fixing rows, "
            "start a sandbox of your own that keeps its appointments (onoffice-import sandbox "
            "--db sandbox.sqlite), import into it, fix rows in the results workbook and run it "
            "again with --only-failed and --mapping {name}."
        ).format(path=written, invalid=report.counts().get("invalid", 0), name=mapping.stem)
    )


@cli.command()
@click.option("--port", default=0, show_default=True, type=int, help="0 picks a free port.")
@click.option("--no-browser", is_flag=True, help="Only print the address; open no browser.")
@click.option(
    "--sandbox",
    "use_sandbox",
    is_flag=True,
    help="Start in practice mode: the built-in sandbox with the sample agency.",
)
@config_option
def ui(port: int, no_browser: bool, use_sandbox: bool, config: Path | None) -> None:
    """Open the web app: the whole import in the browser, served on 127.0.0.1 only."""
    from .web.server import serve

    def say(url: str) -> None:
        click.echo(_("onoffice-import is open at {url}").format(url=url))
        click.echo(_("Only this computer can reach it. Press Ctrl-C to stop."))

    serve(port=port, open_browser=not no_browser, sandbox=use_sandbox, config=config, say=say)
    click.echo(_("Stopped."))


def _terminate_like_ctrl_c(signum: int, frame: Any) -> None:
    stopping.noted()
    raise KeyboardInterrupt  # in-flight requests finish, results are written, exit 130


# Windows' console events (wincon.h) Python turns into no signal: the console window closed,
# the user logging off, the computer shutting down. Ctrl-C (0) and Ctrl-Break (1) are
# Python's own (SIGINT, SIGBREAK).
_CLOSE_EVENTS: Final = {2: "close", 5: "logoff", 6: "shutdown"}
_GRACE_SECONDS: Final = 4.5  # Windows ends the process 5 s after a close event at the latest
_finished = threading.Event()  # set when main() returns: the results are written


def _raise_sigint() -> None:
    """SIGINT raised in this thread: Python's own C handler flags it for the main thread and,
    on Windows, also sets the event its sleeps and waits wake up on (``_thread.interrupt_main``
    does not)."""
    signal.raise_signal(signal.SIGINT)


def _console_event(event: int, interrupt: Callable[[], None] = _raise_sigint) -> bool:
    """Windows' console handler: a close, logoff or shutdown stops like Ctrl-C (the main
    thread is interrupted, rows in flight finish, the results are written), and Windows is
    held off until that is done or the grace time is up. Other events: not ours."""
    if event not in _CLOSE_EVENTS:
        return False
    interrupt()
    _finished.wait(_GRACE_SECONDS)
    return True


def _stop_like_ctrl_c(kernel32: Any = None) -> Any:
    """Every way a stop reaches this process ends like Ctrl-C: SIGTERM (a service stop,
    `kill`), Ctrl-Break (SIGBREAK, Windows), and Windows' console close, logoff and shutdown
    (SetConsoleCtrlHandler; ``kernel32`` given by tests). Returns the console handler, which
    must stay referenced while it is installed."""
    for name in ("SIGTERM", "SIGBREAK"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _terminate_like_ctrl_c)
    if kernel32 is None:
        if sys.platform != "win32":
            return None
        kernel32 = ctypes.windll.kernel32
    prototype = getattr(ctypes, "WINFUNCTYPE", ctypes.CFUNCTYPE)  # stdcall on Windows
    handler = prototype(ctypes.c_int, ctypes.c_uint)(lambda event: int(_console_event(event)))
    kernel32.SetConsoleCtrlHandler(handler, True)
    return handler


def _never_crash_on_output() -> None:
    """A character the console or the pipe cannot show (Ł, →, an emoji in a cp1252 log file
    of a scheduled task) becomes ``?``: never a traceback after the work is done."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            with contextlib.suppress(ValueError):  # closed
                stream.reconfigure(errors="replace")


_console_handler: Any = None  # referenced while installed (ctypes would free it)


def main(argv: list[str] | None = None) -> Any:
    """Entry point: run the CLI and turn known errors into one line and an exit code."""
    global _console_handler
    _never_crash_on_output()
    if threading.current_thread() is threading.main_thread():
        _console_handler = _stop_like_ctrl_c()
    _finished.clear()
    try:
        with i18n.use(_language(argv)):
            return _main(argv)
    finally:
        _finished.set()


def _main(argv: list[str] | None) -> Any:
    try:
        return cli.main(args=argv, standalone_mode=False)
    except SystemExit:
        raise
    except click.exceptions.Abort:
        click.echo(_("Interrupted."), err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except click.ClickException as exc:  # usage and refusals before any work: exit 2
        exc.show()
        sys.exit(ExitCode.INPUT_REJECTED)
    except ImporterError as exc:
        if _debug(argv):
            traceback.print_exc()
        click.echo(_("Error: {message}").format(message=exc), err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo(_("Interrupted."), err=True)
        sys.exit(ExitCode.INTERRUPTED)
