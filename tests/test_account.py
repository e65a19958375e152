"""The account report (issue 30, point 8): `onoffice-import account`, the web app's connection
step and the Summary sheets of a check and a run say in words what the account answered and
what follows: the API user, the rights, how the calendar is read, the types, the resources."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest

from importer.core import contract
from importer.onoffice.account import account_lines, survey
from importer.onoffice.client import OnOfficeClient
from importer.output.report import write_report
from importer.output.results import write_results
from importer.rules.check import prepare
from importer.run.submit import RunOptions, planned_check, run_import
from importer.sandbox import Sandbox, load_fixtures

from .files import write_csv
from .helpers import cli

pytestmark = pytest.mark.documented  # the lines name the documented answers

# skaya's appointments may not be created; lbecker's may be created but not changed.
RIGHTS = {"create": [17, 18, 19, 21, 22], "modify": [17, 18, 19, 21]}
TYPES = (
    "Besichtigung, Notartermin, Übergabe (Uebergabe), Beratungsgespräch (Beratung), Telefonat, "
    "Bewertung, Interner Termin (Intern), Sonstiges"
)
RESOURCES = (
    "Firmenfahrzeug (ind_Schl_3151), Beamer (ind_Schl_3152), Konferenzraum (ind_Schl_3153), "
    "Schlüsselbund Objekt (ind_Schl_3154)"
)
CREATE = (
    "allowed for api (API Schnittstelle), mmueller (Maria Müller), jschmidt (Jonas Schmidt), "
    "aweber (Anna Weber), tkoch (Thomas Koch), lbecker (Lena Becker); not for skaya (Selin "
    "Kaya): rows for them are invalid in the check and are not sent"
)
MODIFY = (
    "allowed for mmueller (Maria Müller); not for lbecker (Lena Becker); not known for api "
    "(API Schnittstelle), jschmidt (Jonas Schmidt), aweber (Anna Weber), tkoch (Thomas Koch), "
    "skaya (Selin Kaya) (none of their appointments was read); a run checks each appointment "
    "before it changes it (tried on one appointment per user)"
)
THROUGH_READ = "through read calendar (2 appointments read): a run sees every appointment of a day"
THROUGH_LIST = (
    "read calendar is not available, only appointmentList (2 appointments read): a run asks it "
    "user by user and group by group; an appointment nobody of the account takes part in is not "
    "seen, as a double booking or as an import's own appointment"
)


def agency(dialect: str | None = None) -> Sandbox:
    """The sample agency with restricted rights, and two appointments of this week: Maria
    Müller's and Lena Becker's."""
    fixtures = load_fixtures()
    fixtures.rights = RIGHTS
    sb = Sandbox(fixtures=fixtures, dialect=dialect)
    sb.start()
    day = contract.local_now().date() + timedelta(days=2)
    with OnOfficeClient(sb.url, sb.credentials) as client:
        for user, hour in ((17, 10), (22, 11)):
            data = {
                "start_dt": f"{day} {hour}:00:00",
                "end_dt": f"{day} {hour}:30:00",
                "description": "Besichtigung",
                "art": "Besichtigung",
            }
            client.create_appointment({"data": data, "subscribers": {"users": [user]}})
    return sb


@pytest.fixture
def office() -> Iterator[Sandbox]:
    sb = agency()
    try:
        yield sb
    finally:
        sb.stop()


def report(sb: Sandbox, home: Path, cwd: Path, *extra: str) -> tuple[int, dict[str, str], str]:
    """`onoffice-import account` in a process of its own: exit code, lines by label, output."""
    done = cli([*extra, "account"], sb, home, cwd)
    out = done.stdout + done.stderr
    lines = dict(line.split(": ", 1) for line in done.stdout.splitlines() if ": " in line)
    return done.returncode, lines, out


UNKNOWN_SUBSCRIBERS = (
    "Whether a change of participants replaces or adds to them is not known yet: the first run"
    " that takes a participant off reads it back once."
)
SHAPE = f"Every field the import compares is shown. {UNKNOWN_SUBSCRIBERS}"


def test_the_report_of_the_sample_agency_names_user_rights_reads_types_and_resources(
    office: Sandbox, tmp_path: Path
) -> None:
    code, lines, out = report(office, tmp_path / "pc", tmp_path)
    assert code == 0, out
    assert list(lines) == [
        "onOffice",
        "API user",
        "Creating appointments",
        "Changing appointments",
        "Reading the calendar",
        "Appointment types",
        "Resources",
        "Read shape",
    ], out
    assert lines["onOffice"] == office.url
    assert lines["API user"] == "api (API Schnittstelle), user id 1"
    assert lines["Creating appointments"] == CREATE
    assert lines["Changing appointments"] == MODIFY
    assert lines["Reading the calendar"] == THROUGH_READ
    assert lines["Appointment types"] == f"8 listed by onOffice: {TYPES}"
    assert lines["Resources"] == f"4 listed: {RESOURCES}"
    assert lines["Read shape"] == SHAPE
    assert office.credentials.secret not in out and office.credentials.token not in out


@pytest.mark.parametrize(
    ("dialect", "changed"),
    [
        ("calendar_read=removed", {"Reading the calendar": THROUGH_LIST}),
        (
            "read_art=label,read_users=omitted,calendar_read=removed",
            {
                "Reading the calendar": THROUGH_LIST,
                # whose an appointment is cannot be read: nothing to try a change on
                "Changing appointments": "not known: no appointment of a user was read; a run"
                " checks each appointment before it changes it",
                "Read shape": "The type is shown as a plain text; it is matched through the"
                " account's type list. This onOffice account's reads do not show an"
                " appointment's participants: a change made there by a person cannot be seen,"
                f" and is not reported as a conflict. {UNKNOWN_SUBSCRIBERS}",
            },
        ),
        (
            "fields=bare",
            {
                "Appointment types": "not listed (onOffice lists no appointment types); seen in "
                "the appointments read: Besichtigung. Types are not checked against a list of "
                "the account: onOffice may refuse one as it is sent"
            },
        ),
        (
            # the type shown as a plain text, no list: the texts the reads show are reported
            "read_art=label,fields=bare",
            {
                "Appointment types": "not listed (onOffice lists no appointment types); seen in "
                "the appointments read: Besichtigung. Types are not checked against a list of "
                "the account: onOffice may refuse one as it is sent",
                "Read shape": "The type is shown as a plain text; it is matched through the"
                " import's own appointments. Every field the import compares is shown."
                f" {UNKNOWN_SUBSCRIBERS}",
            },
        ),
        (
            "rights_check=unconfigured",
            {
                "Creating appointments": "not checked (onOffice refused the action (error 25): "
                'Missing configuration for resourceType "checkuserrecordsright" with action '
                '"get"): a missing right shows only when onOffice refuses a row as it is sent',
                "Changing appointments": "not checked (onOffice refused the action (error 25): "
                'Missing configuration for resourceType "checkuserrecordsright" with action '
                '"get"): a missing right shows only when onOffice refuses an update',
            },
        ),
    ],
)
def test_an_account_that_answers_otherwise_is_reported_as_it_answers(
    tmp_path: Path, dialect: str, changed: dict[str, str]
) -> None:
    """One point of the dialect changes its line, and only that line."""
    sb = agency(dialect)
    try:
        code, lines, out = report(sb, tmp_path / "pc", tmp_path)
    finally:
        sb.stop()
    assert code == 0, out
    expected = {
        "onOffice": sb.url,
        "API user": "api (API Schnittstelle), user id 1",
        "Creating appointments": CREATE,
        "Changing appointments": MODIFY,
        "Reading the calendar": THROUGH_READ,
        "Appointment types": f"8 listed by onOffice: {TYPES}",
        "Resources": f"4 listed: {RESOURCES}",
        "Read shape": SHAPE,
    }
    assert lines == {**expected, **changed}, out


def test_the_report_speaks_german(office: Sandbox, tmp_path: Path) -> None:
    code, lines, out = report(office, tmp_path / "pc", tmp_path, "--lang", "de")
    assert code == 0, out
    assert lines["API-Benutzer"] == "api (API Schnittstelle), Benutzer-Nr. 1", out
    assert lines["Termine anlegen"].startswith("erlaubt für api (API Schnittstelle)"), out
    assert lines["Terminarten"] == f"8 von onOffice aufgeführt: {TYPES}", out


def test_credentials_that_do_not_work_end_with_the_configuration_exit_code(
    office: Sandbox, tmp_path: Path
) -> None:
    done = cli(["account"], office, tmp_path / "pc", tmp_path, {"ONOFFICE_SECRET": "wrong"})
    assert done.returncode == 3, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "API user" not in done.stdout


def summary_rows(path: Path) -> dict[str, str]:
    """The Summary's account block: label -> line."""
    sheet = openpyxl.load_workbook(path)["Summary"]
    rows = [(r[0], r[1]) for r in sheet.iter_rows(values_only=True)]
    start = rows.index(("The onOffice account", None)) + 1
    block = rows[start : rows.index((None, None), start)]
    return {str(label): str(line) for label, line in block}


def test_the_check_and_the_run_summary_carry_the_same_lines(
    office: Sandbox, tmp_path: Path
) -> None:
    day = (contract.local_now().date() + timedelta(days=2)).strftime("%d.%m.%Y")
    source = write_csv(
        tmp_path / "rows.csv",
        f"Start;Betreff;Makler\n{day} 15:00;Besichtigung A;mmueller\n"
        f"{day} 16:00;Besichtigung B;skaya\n",
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "start: Start\nend: {minutes: 30}\n"
        "fields: {description: Betreff, subscribers.users: {column: Makler, lookup: user}}\n",
        encoding="utf-8",
    )
    journal = tmp_path / "ledger.sqlite"
    with OnOfficeClient(office.url, office.credentials) as client:
        asked = dict(account_lines(survey(client)))
        checked = planned_check(client, source, prepare(source, mapping), journal_path=journal)
        write_report(checked, tmp_path / "check.xlsx")
        fast = RunOptions(backoff_base=0.01, backoff_cap=0.05, settle_delay=0.05)
        ran = run_import(source, mapping, client=client, journal_path=journal, options=fast)
        write_results(ran, tmp_path / "results.xlsx")
    assert ran.counts()["created"] == 1  # skaya's row: no right, not sent
    for workbook in ("check.xlsx", "results.xlsx"):
        lines = summary_rows(tmp_path / workbook)
        assert lines == asked, workbook


def test_the_connection_step_of_the_web_app_shows_the_report(tmp_path: Path) -> None:
    import html
    import re

    from importer.web.app import create_app
    from importer.web.guard import Guard
    from importer.web.workspace import Workspace

    workspace = Workspace(
        folder=tmp_path / "work",
        mappings=tmp_path / "mappings",
        results=tmp_path / "results",
        sandbox=True,
        config=tmp_path / "config.ini",
    )
    guard = Guard()
    client = create_app(workspace, guard).test_client()
    try:
        assert client.get(f"/?token={guard.token}").status_code == 303
        page = client.get("/").get_data(as_text=True)
    finally:
        workspace.close()
    words = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))
    assert "What the account answered, and what follows" in words
    assert "API user api (API Schnittstelle), user id 1" in words
    assert "Creating appointments allowed for all 7 users of the account" in words
    assert f"Appointment types 8 listed by onOffice: {TYPES}" in words
    assert f"Resources 4 listed: {RESOURCES}" in words


def test_the_report_says_what_a_run_on_this_computer_learned_of_the_account(
    tmp_path: Path,
) -> None:
    """An account that adds participants on a modify (§5.4 leaves it open): a run that takes an
    agent off reads it back once and keeps what it learned in the ledger. The report on that
    computer says it, as the run's Summary does, instead of "not known yet"."""
    sb = agency("modify_subscribers=merge")
    home = tmp_path / "pc"
    day = (contract.local_now().date() + timedelta(days=2)).strftime("%d.%m.%Y")
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "start: Start\nend: {minutes: 30}\n"
        "fields: {description: Betreff, subscribers.users: {column: Makler, lookup: user}}\n",
        encoding="utf-8",
    )
    try:
        for agent in ("mmueller", "jschmidt"):  # the agent changes: Maria Müller taken off
            source = write_csv(
                tmp_path / "rows.csv", f"Start;Betreff;Makler\n{day} 15:00;A;{agent}\n"
            )
            done = cli(["run", str(source), "-m", str(mapping)], sb, home, tmp_path)
            assert done.returncode == 0, done.stdout + done.stderr
        lines = summary_rows(tmp_path / "rows.results.xlsx")
        code, reported, out = report(sb, home, tmp_path)
    finally:
        sb.stop()
    assert code == 0, out
    learned = (
        "A change of participants adds to them (learned by reading back): a row whose agent"
        " changes gets a new appointment, the old one is cancelled."
    )
    assert reported["Read shape"].endswith(learned), out
    assert lines["Read shape"].endswith(learned), lines
