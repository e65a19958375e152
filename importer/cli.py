"""The command line: parse options, call the library, render, map outcomes to exit codes.

Every known error becomes one line on stderr and a documented exit code (``errors.ExitCode``);
a traceback only with ``--debug``.
"""

from __future__ import annotations

import logging
import sys
import traceback
from typing import Any

import click

from .errors import ExitCode, ImporterError

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


def main(argv: list[str] | None = None) -> Any:
    """Entry point: run the CLI and turn known errors into one line and an exit code."""
    try:
        return cli.main(args=argv, standalone_mode=False)
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
