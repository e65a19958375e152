"""The command line: parse options, call the library, render, map outcomes to exit codes.

Every known error becomes one line on stderr and a documented exit code (``errors.ExitCode``);
a traceback only with ``--debug``.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from . import contract
from .client import Credentials, OnOfficeClient
from .errors import ConfigurationError, ExitCode, ImporterError
from .load import LoadOptions

log = logging.getLogger("importer")


class _State:
    debug = False


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logging.")
@click.version_option(package_name="onoffice-import")
def cli(debug: bool) -> None:
    """Import appointment spreadsheets into onOffice enterprise."""
    _State.debug = debug
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


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
    type=click.Choice(["503", "reset"]),
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
@click.option("--clock-skew", type=float, default=0.0, help="Seconds added to the server clock.")
@click.option("--seed", type=int, default=None, help="Seed for reproducible faults.")
def sandbox(
    host: str,
    port: int,
    fixtures: str | None,
    db: str | None,
    latency: float,
    fail_before_rate: float,
    fail_before: str,
    drop_after_rate: float,
    clock_skew: float,
    seed: int | None,
) -> None:
    """Run a local onOffice API sandbox until Ctrl-C."""
    from .sandbox import Faults, Sandbox, load_fixtures

    faults = Faults(
        latency=latency,
        fail_before_rate=fail_before_rate,
        fail_before=fail_before,
        drop_after_rate=drop_after_rate,
        clock_skew=clock_skew,
        seed=seed,
    )
    server = Sandbox(
        load_fixtures(fixtures), host=host, port=port, db=db or ":memory:", faults=faults
    )
    try:
        server.bind()  # bind first, so the printed URL holds the real port
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    creds = server.credentials
    click.echo(f"onOffice sandbox listening on {server.url}")
    click.echo("Use it with:")
    click.echo(f"  export ONOFFICE_API_URL={server.url}")
    click.echo(f"  export ONOFFICE_TOKEN={creds.token}")
    click.echo(f"  export ONOFFICE_SECRET={creds.secret}")
    click.echo("Press Ctrl-C to stop.")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("\nSandbox stopped.")


@contextmanager
def api_client(use_sandbox: bool) -> Iterator[OnOfficeClient]:
    """A client from ONOFFICE_* variables, or against an embedded sandbox (sample agency)."""
    if use_sandbox:
        from .sandbox import Sandbox

        with Sandbox() as sb, OnOfficeClient(sb.url, sb.credentials) as client:
            yield client
        return
    token, secret = os.environ.get("ONOFFICE_TOKEN", ""), os.environ.get("ONOFFICE_SECRET", "")
    if not token or not secret:
        raise ConfigurationError(
            "set ONOFFICE_TOKEN and ONOFFICE_SECRET (and ONOFFICE_API_URL for a sandbox or the "
            "beta endpoint), or add --sandbox to try against the built-in sandbox"
        )
    url = os.environ.get("ONOFFICE_API_URL") or contract.STABLE_URL
    with OnOfficeClient(url, Credentials(token, secret)) as client:
        yield client


def _load_options(
    sheet: str | None, header_row: int | None, encoding: str | None, delimiter: str | None
) -> LoadOptions:
    chosen: str | int | None = int(sheet) if sheet and sheet.isdigit() else sheet
    if delimiter in ("tab", "\\t"):
        delimiter = "\t"
    return LoadOptions(sheet=chosen, header_row=header_row, encoding=encoding, delimiter=delimiter)


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
@click.option(
    "--mapping",
    "-m",
    "mapping_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The mapping file (YAML).",
)
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
@source_options
def check(
    file: Path,
    mapping_path: Path,
    resolve: bool,
    use_sandbox: bool,
    report: Path | None,
    sheet: str | None,
    header_row: int | None,
    encoding: str | None,
    delimiter: str | None,
) -> None:
    """Dry run: map and validate every row, write a report, send nothing."""
    from .check import check as run_check
    from .mapping import load_mapping

    mapping = load_mapping(mapping_path)
    options = _load_options(sheet, header_row, encoding, delimiter)
    if resolve or use_sandbox:
        with api_client(use_sandbox) as api:
            result = run_check(file, mapping, api=api, report=report, load_options=options)
    else:
        result = run_check(file, mapping, report=report, load_options=options)
    render_check(result)
    raise SystemExit(ExitCode.OK if result.invalid_count == 0 else ExitCode.ROWS_FAILED)


def render_check(result: Any) -> None:
    table = result.table
    where = f"sheet {table.sheet!r}, " if table.sheet else f"{table.encoding}, "
    click.echo(
        f"Checked {result.source} ({where}header in row {table.header_row}) with "
        f"{result.mapping.path}"
    )
    click.echo(
        f"  {len(result.outcomes)} rows read: {result.valid_count} valid, "
        f"{result.invalid_count} invalid"
    )
    for code, count in result.code_counts().most_common(5):
        click.echo(f"  {count:>5} x {code}")
    for outcome in [o for o in result.outcomes if not o.valid][:5]:
        first = outcome.errors[0]
        click.echo(
            f"  row {outcome.row}: {first.message}"
            + (f" ({', '.join(first.columns)})" if first.columns else "")
        )
    for warning in result.file_warnings:
        click.echo(f"  Warning: {warning}")
    warned = sum(1 for o in result.outcomes if o.warnings)
    if warned:
        click.echo(f"  {warned} rows have warnings (see the report)")
    if result.unresolved:
        click.echo("  Look-ups not checked (add --resolve): " + ", ".join(result.unresolved))
    if result.report_path:
        click.echo(f"  Report: {result.report_path}")


def main(argv: list[str] | None = None) -> Any:
    """Entry point: run the CLI and turn known errors into one line and an exit code."""
    try:
        return cli.main(args=argv, standalone_mode=False)
    except SystemExit:
        raise
    except click.exceptions.Abort:
        click.echo("Interrupted.", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(ExitCode.INPUT_REJECTED if exc.exit_code == 2 else exc.exit_code)
    except ImporterError as exc:
        if _State.debug:
            traceback.print_exc()
        click.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(ExitCode.INTERRUPTED)
