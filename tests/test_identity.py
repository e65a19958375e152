"""Row identity (issue 11): never a duplicate, never a lost row, never someone else's appointment.

Each test is one scenario of the issue's table, with the appointment count that must come out.
A colleague's computer is a real second process with its own HOME, data folder and folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from importer.core.errors import ConfigurationError, ExitCode
from importer.onoffice.client import OnOfficeClient
from importer.onoffice.readback import Appointment
from importer.onoffice.reference import Stamp, found_in, reference, with_stamp
from importer.output.results import write_results
from importer.rules.check import prepare
from importer.rules.payload import fingerprint
from importer.run.identity import (
    _ASPECT_FIELDS,
    WEIGHTS,
    Candidate,
    Likeness,
    Loose,
    Plan,
    Question,
    _around,
    _ask,
    _free_key,
    _norm,
    _Pairing,
    _tied,
    _untied,
    decide,
    likeness,
    plan,
    same_payload,
)
from importer.run.journal import CREATED, SENDING, UNDONE, UNKNOWN, Entry, ledger_path
from importer.run.state import CHANGED, GONE, INTACT, UNSURE, Prior
from importer.run.submit import RunOptions, planned_check, run_import
from importer.run.undo import undo_import
from importer.sandbox import Dialect, Faults, Sandbox

from .files import write_csv
from .helpers import FAST, cli, client_for, generated, subjects


def test_1_a_journal_never_vouches_for_another_account(tmp_path: Path) -> None:
    source, mapping = generated(tmp_path, 200)
    with Sandbox() as a, Sandbox() as b:
        with client_for(a) as client:
            first = run_import(source, mapping, client=client, options=FAST)
        with client_for(b) as client:
            second = run_import(source, mapping, client=client, options=FAST)
            assert first.journal_path is not None
            with pytest.raises(ConfigurationError, match="does not vouch") as refused:
                run_import(source, mapping, client=client, journal_path=first.journal_path)
            assert refused.value.path == str(first.journal_path)  # the file, as data
        assert first.counts() == {"created": 200} and second.counts() == {"created": 200}
        assert a.store.count_appointments() == b.store.count_appointments() == 200
        assert first.journal_path != second.journal_path


@pytest.mark.parametrize("dialect", ["", "calendar_read=removed"])
def test_2_undo_then_only_failed_creates_the_rows_again(tmp_path: Path, dialect: str) -> None:
    """Also where onOffice has no read calendar (issue 30): an appointment the undo deleted is
    known gone from the ledger, not looked for on its day and called "cannot be told now" (by
    the check's plan either)."""
    source, mapping = generated(tmp_path, 30)
    results = tmp_path / "rows.results.xlsx"
    with Sandbox(dialect=Dialect.parse(dialect) if dialect else None) as sandbox:
        with client_for(sandbox) as client:
            write_results(run_import(source, mapping, client=client, options=FAST), results)
            undone = undo_import(results, client=client)
            assert undone.counts() == {"deleted": 30}
            assert sandbox.store.count_appointments() == 0
            checked = planned_check(client, results, prepare(results, mapping))
            assert set(checked.plan.values()) == {"create"}, checked.plan_notes
            again = run_import(
                results, mapping, client=client, options=RunOptions(only_failed=True)
            )
        assert again.counts() == {"created": 30}, list(again.results.values())[:2]
        assert sandbox.store.count_appointments() == 30


def test_3_a_colleague_on_another_computer_doubles_nothing(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    source, mapping = generated(tmp_path, 200)
    mine, theirs = tmp_path / "me", tmp_path / "colleague"
    for home in (mine, theirs):
        (home / "work").mkdir(parents=True)
        shutil.copy(source, home / "work" / source.name)
        shutil.copy(mapping, home / "work" / mapping.name)
    first = cli(["run", source.name, "-m", mapping.name], sandbox, mine, mine / "work")
    assert first.returncode == 0, first.stdout + first.stderr
    assert sandbox.store.count_appointments() == 200
    other = cli(["run", source.name, "-m", mapping.name], sandbox, theirs, theirs / "work")
    assert other.returncode == 0, other.stdout + other.stderr
    assert "200 exists" in other.stdout
    assert sandbox.store.count_appointments() == 200
    # my journal deleted: the same, from the same computer
    for ledger in (mine / ".local" / "share").rglob("*.sqlite"):
        ledger.unlink()
    third = cli(["run", source.name, "-m", mapping.name], sandbox, mine, mine / "work")
    assert third.returncode == 0 and "200 exists" in third.stdout
    assert sandbox.store.count_appointments() == 200
    assert sandbox.stats.actions["create calendar"] == 200


def test_4_results_workbook_rerun_without_its_journal(tmp_path: Path, sandbox: Sandbox) -> None:
    source, mapping = generated(tmp_path, 200)
    results = tmp_path / "rows.results.xlsx"
    with client_for(sandbox) as client:
        report = run_import(source, mapping, client=client, options=FAST)
        write_results(report, results)
        assert report.journal_path is not None
        report.journal_path.unlink()
        again = run_import(results, mapping, client=client, options=FAST)
    assert again.counts() == {"exists": 200}
    assert again.existence_reads >= 1
    assert sandbox.store.count_appointments() == 200


def test_5_a_second_run_after_the_first_doubles_nothing(tmp_path: Path, sandbox: Sandbox) -> None:
    source, mapping = generated(tmp_path, 200)
    with client_for(sandbox) as client:
        run_import(source, mapping, client=client, journal_path=tmp_path / "a.sqlite")
        second = run_import(source, mapping, client=client, journal_path=tmp_path / "b.sqlite")
    assert second.counts() == {"exists": 200}
    assert sandbox.store.count_appointments() == 200


def test_6_a_results_name_given_once_changes_nothing(tmp_path: Path, sandbox: Sandbox) -> None:
    source, mapping = generated(tmp_path, 30)
    home = tmp_path / "home"
    first = cli(
        ["run", str(source), "-m", str(mapping), "--results", "import-july.xlsx"],
        sandbox,
        home,
        tmp_path,
    )
    assert first.returncode == 0, first.stdout + first.stderr
    for _ in range(2):
        later = cli(["run", str(source), "-m", str(mapping)], sandbox, home, tmp_path)
        assert later.returncode == 0 and "30 already-created" in later.stdout
    assert sandbox.store.count_appointments() == 30


LOOKALIKE = """
start: Start
end: {minutes: 30}
fields:
  description: Betreff
  note: Notiz
  subscribers.users: {column: Makler, lookup: user}
"""


def test_7_a_hand_typed_look_alike_is_never_adopted_changed_or_deleted(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    source = write_csv(
        tmp_path / "in.csv", "Start;Betreff;Makler;Notiz\n02.03.2027 10:00;Besichtigung;mmueller;\n"
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text(LOOKALIKE, encoding="utf-8")
    with client_for(sandbox) as client:
        typed = client.create_appointment(
            {
                "data": {
                    "start_dt": "2027-03-02 10:00:00",
                    "end_dt": "2027-03-02 10:30:00",
                    "description": "Besichtigung",
                },
                "subscribers": {"users": [17]},
            }
        )
        before = sandbox.store.appointment(typed)
        sandbox.faults = Faults(plan=["503"], writes_only=True)  # the import's create: 503
        report = run_import(source, mapping, client=client, options=FAST)
        results = tmp_path / "in.results.xlsx"
        write_results(report, results)
        ours = report.results[2].appointment_id
        assert report.counts() == {"created": 1} and ours != typed
        assert undo_import(results, client=client).counts() == {"deleted": 1}
    assert sandbox.store.appointment(typed) == before  # never adopted, changed or deleted
    assert sandbox.store.appointment(ours) is None
    assert sandbox.store.count_appointments() == 1


TWINS = (
    "Start;Betreff;Makler;Notiz\n"
    "02.03.2027 10:00;Besichtigung;mmueller;Erdgeschoss\n"
    "02.03.2027 10:00;Besichtigung;mmueller;Dachgeschoss\n"
)


def test_8_two_alike_rows_keep_their_own_content(tmp_path: Path, sandbox: Sandbox) -> None:
    """Row 2's first answer is a 503, row 3's answer is lost after the work was done."""
    source = write_csv(tmp_path / "in.csv", TWINS)
    mapping = tmp_path / "m.yaml"
    mapping.write_text(LOOKALIKE, encoding="utf-8")
    sandbox.faults = Faults(plan=["503", "ok", "lost"], writes_only=True)
    with client_for(sandbox) as client:
        report = run_import(source, mapping, client=client, options=FAST)
    assert report.counts() == {"created": 2}
    for row, floor in ((2, "Erdgeschoss"), (3, "Dachgeschoss")):
        stored = sandbox.store.appointment(report.results[row].appointment_id)  # type: ignore[arg-type]
        assert stored is not None and stored["note"].startswith(floor)
    assert sandbox.store.count_appointments() == 2
    assert sandbox.stats.actions["create calendar"] == 3  # 503, then row 2 again; row 3 once


def test_9_a_server_slower_than_the_settle_gets_no_twin(tmp_path: Path, sandbox: Sandbox) -> None:
    source, mapping = generated(tmp_path, 4)
    # Each create is done 4 s after it arrived; the run reads back 0.5 s after giving up on it
    # (3.5 s of margin for a loaded machine).
    sandbox.faults = Faults(latency=4.0, writes_only=True)
    with client_for(sandbox, read=0.2) as client:
        first = run_import(
            source,
            mapping,
            client=client,
            options=RunOptions(settle_delay=0.3, unreachable_limit=100),
        )
        assert first.counts() == {"unknown": 4}
        assert first.exit_code == ExitCode.UNKNOWN_OUTCOME
        sandbox.faults = Faults()
        import time

        deadline = time.monotonic() + 30
        while sandbox.store.count_appointments() < 4:  # the slow server finishes its work
            assert time.monotonic() < deadline
            time.sleep(0.05)
        second = run_import(source, mapping, client=client)
    assert second.counts() == {"created": 4}
    assert sandbox.store.count_appointments() == 4
    assert sandbox.stats.actions["create calendar"] == 4


def test_11_rows_sent_with_allow_duplicates_stay_known(tmp_path: Path, sandbox: Sandbox) -> None:
    source = write_csv(
        tmp_path / "in.csv",
        "Start;Betreff;Makler;Notiz\n"
        "02.03.2027 10:00;Besichtigung;mmueller;x\n"
        "02.03.2027 10:00;Besichtigung;mmueller;x\n",
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text(LOOKALIKE, encoding="utf-8")
    results = tmp_path / "in.results.xlsx"
    with client_for(sandbox) as client:
        first = run_import(
            source, mapping, client=client, options=RunOptions(allow_duplicates=True)
        )
        assert first.counts() == {"created": 2}
        again = run_import(source, mapping, client=client)
        write_results(again, results)
        assert again.counts() == {"already-created": 2}
        undone = undo_import(results, client=client)
    assert undone.counts() == {"deleted": 2}
    assert sandbox.store.count_appointments() == 0


def test_the_reference_line_is_in_every_note_and_can_be_switched_off(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    source, mapping = generated(tmp_path, 3)
    with client_for(sandbox) as client:
        run_import(source, mapping, client=client)
        refs = [found_in(a.get("note", "")) for a in sandbox.store.all_appointments()]
        assert all(len(r) == 1 for r in refs) and len(set().union(*refs)) == 3
        plain = tmp_path / "plain.yaml"
        plain.write_text(
            mapping.read_text(encoding="utf-8") + "options: {reference: false}\n", encoding="utf-8"
        )
        other = write_csv(
            tmp_path / "other.csv",
            "Start;Betreff;Makler;Objekt\n05.05.2027 10:00;Ohne;mmueller;AC-1042\n",
        )
        run_import(other, plain, client=client)
    (unmarked,) = [a for a in sandbox.store.all_appointments() if a["description"] == "Ohne"]
    assert "note" not in unmarked or not found_in(unmarked["note"])


def test_a_ledger_lives_in_the_data_folder_per_account(tmp_path: Path, sandbox: Sandbox) -> None:
    source, mapping = generated(tmp_path, 2)
    with client_for(sandbox) as client:
        report = run_import(source, mapping, client=client)
        assert report.account is not None and sandbox.credentials.token not in report.account
        assert report.journal_path == ledger_path(report.account)
    assert str(report.journal_path).startswith(os.environ["ONOFFICE_IMPORT_DATA"])


def test_credentials_in_the_api_url_appear_nowhere(tmp_path: Path, sandbox: Sandbox) -> None:
    source, mapping = generated(tmp_path, 3)
    secret_url = sandbox.url.replace("http://", "http://agent:pa55word-x@") + "?token=t0kenval"
    with OnOfficeClient(secret_url, sandbox.credentials) as client:
        report = run_import(source, mapping, client=client)
        written = write_results(report, tmp_path / "rows.results.xlsx")
    assert report.counts() == {"created": 3}
    texts = [report.api_url, str(report.account), str(report.journal_path)]
    import zipfile

    with zipfile.ZipFile(written) as z:
        texts += [z.read(n).decode("utf-8", "replace") for n in z.namelist()]
    assert report.journal_path is not None
    texts.append(report.journal_path.read_bytes().decode("utf-8", "replace"))
    for text in texts:
        assert "pa55word-x" not in text and "t0kenval" not in text and "agent:" not in text


def test_a_full_disk_while_journaling_stops_with_one_line(tmp_path: Path, sandbox: Sandbox) -> None:
    """A real process whose files may not grow past 128 KB (RLIMIT_FSIZE): the journal fills."""
    source, mapping = generated(tmp_path, 400)

    def run(file_size_limit: int | None = None) -> subprocess.CompletedProcess[str]:
        return cli(
            ["run", str(source), "-m", str(mapping)],
            sandbox,
            tmp_path / "pc",
            tmp_path,
            file_size_limit=file_size_limit,
        )

    full = run(file_size_limit=128_000)  # a fresh ledger (its tables) and a row or two
    output = full.stdout + full.stderr
    assert full.returncode == ExitCode.STOPPED, output
    assert "Traceback" not in output and "cannot be written" in output
    assert 0 < sandbox.store.count_appointments() < 400
    # nothing was sent that the journal does not know: a later run (space freed) finds them all
    again = run()
    assert again.returncode == 0, again.stdout + again.stderr
    assert sandbox.store.count_appointments() == 400
    assert len(subjects(sandbox)) == 400 and set(subjects(sandbox).values()) == {1}


# 5b (two computers start the same file at once): tests/test_watch.py, where a single doubled
# row fails.


def test_a_busy_day_past_the_read_cap_still_finds_the_row(tmp_path: Path) -> None:
    """600 appointments of other agents on the row's day, under both readings of dateend: the
    lost answer is settled (never re-sent) and a colleague's run recognises the row."""
    from importer.sandbox import Dialect

    source, mapping = generated(tmp_path, 1)
    for dialect in (Dialect(), Dialect(dateend="exclusive")):
        with Sandbox(dialect=dialect) as sb, client_for(sb) as client:
            day = "2027-01-01"
            for n in range(600):
                sb.store.insert_appointment(
                    {
                        "start_dt": f"{day} 07:00:00",
                        "end_dt": f"{day} 07:30:00",
                        "description": f"busy {n}",
                        "users": [18],
                    },
                    "2026-11-01 00:00:00",
                )
            sb.faults = Faults(plan=["lost"], writes_only=True)
            first = run_import(source, mapping, client=client, journal_path=tmp_path / "a.db")
            assert first.counts() == {"created": 1}, first.results
            again = run_import(source, mapping, client=client, journal_path=tmp_path / "b.db")
            assert again.counts() == {"exists": 1}
            assert sb.stats.actions["create calendar"] == 1
        for db in ("a.db", "b.db"):
            (tmp_path / db).unlink()


def test_undo_leaves_an_edited_appointment_alone_even_when_found_by_another_run(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    source, mapping = generated(tmp_path, 3)
    results = tmp_path / "b.results.xlsx"
    with client_for(sandbox) as client:
        run_import(source, mapping, client=client, journal_path=tmp_path / "a.db")
        record = sandbox.store.all_appointments()[0]
        edited = {**record, "note": "Kunde kommt später\n" + record["note"]}  # a person's edit
        sandbox.store.update_appointment(edited, "2026-01-01 00:00:00")
        found = run_import(source, mapping, client=client, journal_path=tmp_path / "b.db")
        # edited in onOffice: this computer cannot tell who changed what, so it is a conflict
        assert found.counts() == {"exists": 2, "conflict": 1}
        write_results(found, results)
        undone = undo_import(results, client=client, journal_path=tmp_path / "b.db")
    # not this journal's, but the list's by its stamp (issue 31: undo on another computer),
    # and edited since: untouched
    assert undone.counts() == {"deleted": 2, "skipped-modified": 1}
    assert sandbox.store.appointment(record["id"]) is not None


def test_an_appointment_undo_cancelled_comes_back_once_whatever_answers_are_lost(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """Import, undo --cancel, import again, twice: the row's one appointment is made active
    again each time (undo cancels it again each time); a lost answer to that modify leaves it
    unknown, and the next run finds it active: one appointment, never a copy."""
    source, mapping = generated(tmp_path, 1)
    results = tmp_path / "r.xlsx"
    with client_for(sandbox) as client:
        for _ in range(2):
            write_results(run_import(source, mapping, client=client), results)
            assert undo_import(results, client=client, cancel=True).counts() == {"canceled": 1}
            assert [a["status"] for a in sandbox.store.all_appointments()] == ["canceled"]
        sandbox.faults = Faults(plan=["lost"], writes_only=True)
        lost = run_import(source, mapping, client=client, options=FAST)
        assert lost.counts() == {"unknown": 1}
        sandbox.faults = Faults()
        again = run_import(source, mapping, client=client, options=FAST)
        assert again.counts() == {"unchanged": 1}
        write_results(again, results)
        # written again by the import: undo takes it back again (not "undone earlier")
        assert undo_import(results, client=client, cancel=True).counts() == {"canceled": 1}
    assert sandbox.stats.actions["create calendar"] == 1
    assert [a["status"] for a in sandbox.store.all_appointments()] == ["canceled"]


def test_a_note_at_the_limit_still_has_room_for_the_reference(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    from importer.core import contract

    longest = contract.MAX_TEXT_LENGTH["note"]
    source = write_csv(
        tmp_path / "in.csv",
        "Start;Betreff;Makler;Notiz\n"
        f"02.03.2027 10:00;A;mmueller;{'x' * longest}\n"
        f"02.03.2027 11:00;B;mmueller;{'x' * (longest + 1)}\n",
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text(LOOKALIKE, encoding="utf-8")
    with client_for(sandbox) as client:
        report = run_import(source, mapping, client=client)
    assert report.results[2].status == "created"  # 32,767 characters with the reference line
    assert report.results[3].status == "invalid"  # said by check, not refused by onOffice


# --- the plan, without a server: rows and the appointments the list holds ---------------------
LIST_TAG = "1234abcd"


def viewing(
    day: int = 1,
    hour: int = 10,
    subject: str = "Besichtigung",
    estate: int | None = 5,
    contacts: tuple[int, ...] = (5432,),
    users: tuple[int, ...] = (18,),
    **data: Any,
) -> dict[str, Any]:
    """A row's create parameters."""
    start = f"2027-03-{day:02d} {hour:02d}:00:00"
    params: dict[str, Any] = {
        "data": {
            "start_dt": start,
            "end_dt": start[:11] + f"{hour:02d}:30:00",
            "description": subject,
            **data,
        },
        "subscribers": {"users": list(users)},
        "relatedAddressIds": list(contacts),
    }
    if estate is not None:
        params["relatedEstateId"] = estate
    return params


def held(n: int, params: dict[str, Any], cancelled: bool = False) -> Appointment:
    """Appointment ``n`` as read back, holding exactly ``params``."""
    data = params["data"]
    users = frozenset(params.get("subscribers", {}).get("users", []))
    return Appointment(
        id=n,
        series=n,
        starts=frozenset({data["start_dt"]}),
        ends=frozenset({data["end_dt"]}),
        subject=data.get("description", ""),
        note=data.get("note", ""),
        types=frozenset({data["art"]}) if data.get("art") else frozenset(),
        users=users,
        participants=users,
        resources=frozenset(data.get("ressources", [])),
        resource_names=frozenset(),
        addresses=frozenset(params.get("relatedAddressIds", [])),
        estates=frozenset([params["relatedEstateId"]])
        if "relatedEstateId" in params
        else frozenset(),
        modified=None,
        cancelled=cancelled,
        via="read calendar",
        readings=((data["start_dt"], data["end_dt"]),),
    )


def row(
    n: int, params: dict[str, Any], key: str | None = None, earlier: int | None = None
) -> Candidate:
    return Candidate(n, fingerprint(params), key, n, earlier, params)


def prior(
    n: int,
    params: dict[str, Any],
    at: int | None,
    *,
    key: str | None = None,
    condition: str = INTACT,
    ours: bool = True,
    found: bool = True,
    cancelled: bool = False,
    entry: Entry | None = None,
    stamped: bool = True,
) -> Prior:
    """Appointment ``n`` an import wrote from ``params`` for the row then at ``at``."""
    content = fingerprint(params)
    stamp = Stamp(
        reference(key or content), LIST_TAG, at, key is not None, content[:12], "0" * 12, "0" * 8
    )
    return Prior(
        n,
        held(n, params, cancelled) if found else None,
        stamp if stamped else None,
        entry,
        condition,
        ours,
    )


def entry(key: str, state: str = CREATED, n: int | None = None, **more: Any) -> Entry:
    return Entry(key, state, n, None, 2, 1, "2027-01-01 10:00:00", {}, **more)


def steps(p: Plan) -> dict[int, tuple[str, int | None, str]]:
    """Each row's action, appointment and how it was found."""
    return {
        r: (s.action, s.prior.appointment_id if s.prior else None, s.how)
        for r, s in p.steps.items()
    }


def test_rows_as_they_were_are_unchanged_and_keep_their_appointments() -> None:
    """Each row finds the appointment holding its content (also after the file was re-sorted);
    its key is its content, its reference the stamp's; nothing is removed."""
    a, b = viewing(1), viewing(2)
    priors = [prior(2700, a, 2), prior(2701, b, 3)]
    p = plan([row(2, b), row(3, a)], priors, {}, {})
    assert steps(p) == {2: ("unchanged", 2701, "content"), 3: ("unchanged", 2700, "content")}
    step = p.steps[3]
    assert (step.key, step.ref) == (fingerprint(a), reference(fingerprint(a)))
    assert (step.entry, step.changed, step.note, step.same_as) == (None, (), "", None)
    assert (p.removed, p.questions, p.recognised) == ([], [], 2)
    assert p.counts() == {"unchanged": 2}


def test_an_edited_row_between_two_known_ones_updates_its_appointment() -> None:
    """A row edited in place (its subject) takes the appointment at its place: an update that
    names what changed; a new row at the end is created under its content."""
    a, b, c = viewing(1), viewing(2), viewing(3)
    edited = viewing(2, subject="Besichtigung mit Käufer")
    new = viewing(9, subject="Neu", estate=7, contacts=(1,), users=(17,))
    priors = [prior(2700, a, 2), prior(2701, b, 3), prior(2702, c, 4)]
    p = plan([row(2, a), row(3, edited), row(4, c), row(5, new)], priors, {}, {})
    assert steps(p) == {
        2: ("unchanged", 2700, "content"),
        3: ("update", 2701, "place"),
        4: ("unchanged", 2702, "content"),
        5: ("create", None, ""),
    }
    assert p.steps[3].changed == ("subject",)
    assert p.steps[3].ref == reference(fingerprint(b))
    assert (p.steps[5].key, p.steps[5].ref) == (fingerprint(new), reference(fingerprint(new)))
    assert (p.removed, p.recognised) == ([], 3)


def test_a_row_that_moved_and_changed_is_found_only_when_clearly_alike() -> None:
    """A row re-sorted between other neighbours and edited (its time) takes the appointment it
    is clearly like (by likeness); a row like nothing is new; an appointment no row took is
    removed."""
    a, b, c, d = viewing(1), viewing(2), viewing(3), viewing(4)
    moved = viewing(2, hour=15)
    other = viewing(5, subject="Andere", estate=9, contacts=(7,), users=(19,))
    priors = [prior(2700, a, 2), prior(2701, b, 3), prior(2702, c, 4), prior(2703, d, 5)]
    p = plan([row(2, a), row(3, c), row(4, moved), row(5, d), row(6, other)], priors, {}, {})
    assert steps(p) == {
        2: ("unchanged", 2700, "content"),
        3: ("unchanged", 2702, "content"),
        4: ("update", 2701, "likeness"),
        5: ("unchanged", 2703, "content"),
        6: ("create", None, ""),
    }
    assert p.steps[4].changed == ("time",)
    assert (p.removed, p.recognised) == ([], 4)
    left = plan([row(2, a), row(3, c), row(5, d)], priors, {}, {})
    assert [(r.prior.appointment_id, r.held) for r in left.removed] == [(2701, "")]


def test_a_file_with_no_row_as_it_was_is_taken_for_another_list() -> None:
    """No row recognised: an edited row takes an appointment only at the same day and time and
    clearly like it; with no row recognised at all, the appointments left are kept."""
    a, b = viewing(1), viewing(2)
    priors = [prior(2700, a, 2), prior(2701, b, 3)]
    same_slot = plan([row(2, viewing(1, subject="Neuer Betreff"))], priors, {}, {})
    assert steps(same_slot) == {2: ("update", 2700, "place")}
    moved = plan([row(2, viewing(1, hour=15))], priors, {}, {})
    assert steps(moved) == {2: ("create", None, "")}
    assert moved.recognised == 0
    assert [r.prior.appointment_id for r in moved.removed] == [2700, 2701]
    assert {r.held for r in moved.removed} == {
        "no row of this file was imported before: it looks like another list saved under the "
        "same name, so nothing is cancelled"
    }


def test_two_look_alike_rows_changed_at_once_are_asked_not_guessed() -> None:
    """Two rows that could each be either of two appointments: one question, both rows
    ambiguous with a message naming rows and appointments; the appointments are not removed
    without the user's answer."""
    anchor = viewing(1, subject="Anker", estate=1)
    a, b = viewing(2, subject="A"), viewing(2, subject="B")
    x, y, z = viewing(2, subject="X"), viewing(2, subject="Y"), viewing(2, subject="Z")
    tail = viewing(3, subject="Ende", estate=2)
    priors = [prior(2700, anchor, 2), prior(2701, a, 3), prior(2702, b, 4), prior(2703, tail, 5)]
    candidates = [row(2, anchor), row(3, x), row(4, y), row(5, z), row(6, tail)]
    p = plan(candidates, priors, {}, {})
    assert {r: s[0] for r, s in steps(p).items()} == {
        2: "unchanged",
        3: "ambiguous",
        4: "ambiguous",
        5: "ambiguous",
        6: "unchanged",
    }
    assert p.questions == [Question((3, 4, 5), (2701, 2702))]
    assert p.steps[3].note == (
        "rows 3, 4, 5 could each be appointment 2701, 2702: nothing tells which; say which (web "
        "app, or run --pair ROW=ID, or --pair ROW=new), or give the mapping a key"
    )
    assert p.steps[3].key == ""
    assert [(r.prior.appointment_id, r.held) for r in p.removed] == [
        (2701, "a row of the file may be its row (see the ambiguous rows)"),
        (2702, "a row of the file may be its row (see the ambiguous rows)"),
    ]
    chosen = plan(candidates, priors, {}, {}, choices={3: 2702, 4: None})
    assert steps(chosen)[3] == ("update", 2702, "choice")
    assert steps(chosen)[4] == ("create", None, "")
    assert chosen.questions == []


def test_a_choice_of_an_appointment_not_free_is_refused_with_a_note() -> None:
    """The user's pairing names an appointment that is not the list's, or another row's: the
    row is ambiguous with a note saying so; a choice for a row not in the file is ignored."""
    a = viewing(1)
    p = plan(
        [row(2, a), row(3, viewing(2))],
        [prior(2700, a, 2)],
        {},
        {},
        choices={2: 2700, 3: 2700, 9: 2700},
    )
    assert steps(p)[2] == ("unchanged", 2700, "choice")
    assert steps(p)[3] == ("ambiguous", None, "")
    assert p.steps[3].note == (
        "appointment 2700 is not an appointment of this list that no other row has; choose another"
    )
    unknown = plan([row(3, viewing(2))], [], {}, {}, choices={3: 4711})
    assert unknown.steps[3].note.startswith("appointment 4711 is not")


def test_keyed_rows_find_their_key_whatever_else_changed() -> None:
    """A row with a key takes the appointment carrying its key's reference (the list's own and
    active first, then the lowest id), also when everything else changed."""
    before, now = viewing(1), viewing(4, subject="Anders", estate=9)
    ref = reference("key:B-1")
    mine = prior(2705, before, 2, key="key:B-1")
    cancelled = prior(2701, before, 2, key="key:B-1", cancelled=True)
    foreign = prior(2700, before, 2, key="key:B-1", ours=False)
    p = plan([row(2, now, key="key:B-1")], [mine], {ref: [foreign, cancelled, mine]}, {})
    assert steps(p) == {2: ("update", 2705, "key")}
    assert (p.steps[2].key, p.steps[2].ref) == ("key:B-1", ref)
    ledger = Prior(2709, held(2709, before), None, entry("key:B-1", n=2709), INTACT, True)
    by_ledger = plan([row(2, before, key="key:B-1")], [ledger], {}, {})
    assert steps(by_ledger) == {2: ("unchanged", 2709, "key")}


def test_a_results_workbooks_appointment_id_names_the_rows_appointment() -> None:
    """A row of a results workbook takes the appointment its Appointment ID names, if that is
    free and not another key's."""
    before, now = viewing(1), viewing(6, subject="Anders", estate=9, contacts=(1,))
    priors = [prior(2700, before, 2)]
    p = plan([row(2, now, earlier=2700)], priors, {}, {})
    assert steps(p) == {2: ("update", 2700, "appointment id")}
    keyed = [prior(2700, before, 2, key="key:A")]
    other_key = plan([row(2, now, key="key:B", earlier=2700)], keyed, {}, {})
    assert steps(other_key)[2] == ("create", None, "")


def test_a_row_repeating_another_is_a_duplicate_unless_allowed() -> None:
    """Two rows of one content: the second is a duplicate of the first; allowed, it is created
    under the content's second key (fp#2)."""
    a = viewing(1)
    p = plan([row(2, a), row(3, a)], [], {}, {})
    assert steps(p) == {2: ("create", None, ""), 3: ("duplicate", None, "")}
    assert p.steps[3].same_as == 2 and p.steps[3].key == ""
    allowed = plan([row(2, a), row(3, a)], [], {}, {}, allow_duplicates=True)
    assert [s.key for s in allowed.steps.values()] == [fingerprint(a), fingerprint(a) + "#2"]
    assert allowed.steps[3].ref == reference(fingerprint(a) + "#2")
    keyed = plan([row(2, a, key="key:1"), row(3, a, key="key:2")], [], {}, {})
    assert keyed.counts() == {"create": 2}


def test_a_create_whose_answer_was_lost_is_settled_first() -> None:
    """A new row whose key has a create in the ledger that was sent but never answered is
    settled; one the ledger knows as failed is created again under its entry."""
    a, b = viewing(1), viewing(2)
    entries = {
        fingerprint(a): entry(fingerprint(a), SENDING),
        fingerprint(b): entry(fingerprint(b), "failed"),
    }
    p = plan([row(2, a), row(3, b)], [], {}, entries)
    assert steps(p) == {2: ("settle", None, ""), 3: ("create", None, "")}
    assert p.steps[2].entry is entries[fingerprint(a)]
    assert p.steps[2].ref == reference(fingerprint(a))
    assert p.steps[3].entry is entries[fingerprint(b)]
    unknown = plan([row(2, a)], [], {}, {fingerprint(a): entry(fingerprint(a), UNKNOWN)})
    assert unknown.counts() == {"settle": 1}
    # a key the ledger holds for an appointment is not a new row's
    taken = {fingerprint(a): entry(fingerprint(a), CREATED, 2700)}
    assert plan([row(2, a)], [], {}, taken).steps[2].key == fingerprint(a) + "#2"


def test_free_keys_count_up_from_two() -> None:
    """The first row of a content is keyed by it, the next by content#2, #3 and so on."""
    assert _free_key("abc", set()) == "abc"
    assert _free_key("abc", {"abc"}) == "abc#2"
    assert _free_key("abc", {"abc", "abc#2"}) == "abc#3"


def test_what_a_row_does_with_its_appointment() -> None:
    """decide: deleted in onOffice (a conflict, created anew after an undo or with force); not
    readable (held); the import's own intact write (unchanged or update, reactivating what the
    import cancelled); another's write that holds the row (unchanged); else a conflict."""
    a, b = viewing(1), viewing(2)
    c = row(2, a)
    gone = prior(2700, a, 2, condition=GONE, found=False)
    step = decide(c, gone, "content")
    assert (step.action, step.note) == (
        "conflict",
        "appointment 2700 was deleted in onOffice; not created again (use --force to create "
        "it again)",
    )
    assert step.prior is gone and step.how == "content"
    again = decide(c, gone, "content", force=True)
    assert (again.action, again.prior, again.ref, again.how) == ("create", None, "", "content")
    undone = prior(2700, a, 2, condition=GONE, found=False, entry=entry("k", UNDONE, 2700))
    assert decide(c, undone, "key").action == "create"
    assert decide(c, undone, "key").key == "k"
    unsure = prior(2700, a, 2, condition=UNSURE, found=False)
    assert (decide(c, unsure, "content").action, decide(c, unsure, "content").note) == (
        "hold",
        "whether appointment 2700 still exists cannot be told now; run again",
    )
    assert decide(c, prior(2700, a, 2), "content").action == "unchanged"
    assert decide(row(2, b), prior(2700, a, 2), "place", changed=("day",)).changed == ("day",)
    assert decide(row(2, b), prior(2700, a, 2), "place").action == "update"
    reactivated = decide(c, prior(2700, a, 2, cancelled=True), "content")
    assert (reactivated.action, reactivated.note) == (
        "update",
        "cancelled earlier by the import: active again",
    )
    cancelled_row = row(2, viewing(1, status="canceled"))
    cancelled_prior = prior(2700, viewing(1, status="canceled"), 2, cancelled=True)
    assert decide(cancelled_row, cancelled_prior, "content").action == "unchanged"


def test_another_lists_appointment_is_a_conflict_unless_it_holds_the_row() -> None:
    """Written last from another list: unchanged when it holds the row exactly, else a conflict
    with the reason, written over only with --force or the user's choice; a key's appointment
    of an old (one-line) stamp is the key's."""
    a, b = viewing(1), viewing(2)
    foreign = prior(2700, a, 2, ours=False)
    assert decide(row(2, a), foreign, "content").action == "unchanged"
    step = decide(row(2, b), foreign, "content")
    assert (step.action, step.note) == (
        "conflict",
        "appointment 2700 was last written from another list; not overwritten (use --force to "
        "write this row over it)",
    )
    assert decide(row(2, b), foreign, "content", force=True).action == "update"
    assert decide(row(2, b), foreign, "choice").action == "update"
    keyed = decide(row(2, b, key="key:1"), prior(2700, a, 2, key="key:1", ours=False), "key")
    assert keyed.note == (
        "appointment 2700 has this row's key but was last written from another list; not "
        "overwritten: if this file is that list under a new name, run with --force; if the "
        "lists only share key values, give this list keys of its own"
    )
    old_stamp = Prior(2700, held(2700, a), Stamp(reference("key:1")), None, INTACT, False)
    assert decide(row(2, b, key="key:1"), old_stamp, "key").action == "update"
    # the same content under another key is written again (the stamp names the new key)
    rekeyed = decide(row(2, a, key="key:2"), prior(2700, a, 2, key="key:1"), "choice")
    assert (rekeyed.action, rekeyed.ref) == ("update", reference("key:2"))


def test_an_appointment_changed_in_onoffice_is_not_overwritten() -> None:
    """Changed since the import's last write: a conflict naming what changed when the ledger
    knows what was written; cancelled in onOffice: its own reason; unsure: the last one."""
    a, b = viewing(1), viewing(2)
    written = entry(fingerprint(a), CREATED, 2700)
    written = Entry(**{**written.__dict__, "payload": viewing(1, hour=11)})
    changed = prior(2700, a, 2, condition=CHANGED, entry=written)
    assert decide(row(2, b), changed, "content").note == (
        "appointment 2700 was changed in onOffice since the import's last write (start, end); "
        "not overwritten (use --force to write the row over it)"
    )
    blind = prior(2700, a, 2, condition=CHANGED)
    assert decide(row(2, b), blind, "content").note == (
        "appointment 2700 was changed in onOffice since the import's last write; not "
        "overwritten (use --force to write the row over it)"
    )
    cancelled = prior(2700, a, 2, condition=CHANGED, cancelled=True)
    assert decide(row(2, b), cancelled, "content").note == (
        "appointment 2700 was cancelled in onOffice since the import; not overwritten (use "
        "--force to write the row over it)"
    )
    unsure = prior(2700, a, 2, condition=UNSURE)
    assert decide(row(2, b), unsure, "content").note == (
        "appointment 2700 holds something else, and nothing here tells whether the row or the "
        "appointment changed; not overwritten (use --force to write the row over it)"
    )
    assert decide(row(2, b), changed, "content", force=True).action == "update"


def test_likeness_weighs_the_aspects_a_row_tells() -> None:
    """Each aspect that agrees adds its weight; an invalid row's unconverted fields say
    nothing, nor does its empty field beside an empty one."""
    a = viewing(1, art="Besichtigung", note="Schlüssel", ressources=["R1"])
    found = held(2700, a)
    assert likeness(a, found) == Likeness(16, 16, ())
    other = viewing(
        2,
        hour=11,
        subject="x",
        estate=6,
        contacts=(1,),
        users=(17,),
        art="Termin",
        note="y",
        ressources=["R2"],
    )
    assert likeness(other, found) == Likeness(0, 16, tuple(WEIGHTS))
    assert likeness(viewing(1, hour=11, estate=6), found) == Likeness(
        8, 16, ("time", "property", "type", "note", "resources")
    )
    failed = frozenset({"start_dt", "relatedEstateId"})
    plain = held(2700, viewing(1))
    assert likeness(viewing(1, estate=6), plain, failed) == Likeness(6, 6, ())
    assert likeness(viewing(1, estate=6), plain) == Likeness(13, 16, ("property",))
    bare = held(2700, viewing(1, estate=None, contacts=(), users=()))
    loose = {"data": {"description": "Besichtigung"}}
    assert likeness(loose, bare, frozenset()) == Likeness(1, 1, ())
    assert likeness(loose, bare).known == 16 - 4


def test_aspects_are_compared_as_text_in_any_order() -> None:
    """Lists in any order, text as compared after normalising; nothing is the empty text."""
    assert _norm(None) == ""
    assert _norm([10, 9, 1]) == "1,10,9" and _norm((2, 1)) == "1,2" and _norm({3}) == "3"
    assert _norm("  Übergabe \r\n") == "Übergabe"
    assert _norm(17) == "17"
    assert same_payload(viewing(1), viewing(1)) and not same_payload(viewing(1), viewing(2))
    assert not same_payload(None, viewing(1))
    stamped = with_stamp(viewing(1, note="Schlüssel"), Stamp("0" * 16))
    assert same_payload(stamped, viewing(1, note="Schlüssel"))


def test_the_nearest_anchors_and_ties() -> None:
    """The anchors around a place; a best pair without rivals; the pairs tied with it; a tie
    asked as one question whose appointments no row takes meanwhile."""
    assert _around([None, 7, None, None, 9, None], 2) == frozenset({7, 9})
    assert _around([None, 7, None], 0) == frozenset({None, 7})
    assert _around([7, None], 1) == frozenset({7, None})
    assert _around([7, 8, 9], 1) == frozenset({7, 9})
    like = {
        (1, 10): Likeness(14, 16, ()),
        (1, 11): Likeness(13, 16, ()),
        (2, 11): Likeness(12, 16, ()),
        (3, 12): Likeness(14, 16, ()),
    }
    top = list(like)
    assert _untied(top, like, 14) == (3, 12)
    assert _untied([(1, 10), (1, 11)], like, 14) is None
    assert _tied(top, like, 14) == [(1, 10), (1, 11), (2, 11)]
    pairing = _Pairing()
    _ask([(2, 11), (1, 10), (1, 11)], pairing)
    question = Question((1, 2), (10, 11))
    assert pairing.asked == {1: question, 2: question}
    assert pairing.used == {10, 11}
    assert not pairing.open(1) and pairing.open(3)


def test_an_invalid_row_may_be_the_row_of_an_appointment_whose_row_seems_gone() -> None:
    """An appointment no valid row took is kept (named) when an invalid row could be its row:
    by its key, at its place, or as far as it reads plausibly the same viewing; not when the
    row stood beside it last time, or the appointment is another key's."""
    a, b, c = viewing(1), viewing(2), viewing(3)
    priors = [prior(2700, a, 2), prior(2701, b, 3), prior(2702, c, 4)]
    at_place = plan([row(2, a), row(4, c)], priors, {}, {}, loose=[Loose(3, None, {})])
    assert [(r.prior.appointment_id, r.held) for r in at_place.removed] == [
        (2701, "row 3 of the file is invalid and may be its row; fix it, then run again")
    ]
    beside = plan(
        [row(2, a), row(4, c)], priors, {}, {}, loose=[Loose(3, None, {}, beside=frozenset({2701}))]
    )
    assert [r.held for r in beside.removed] == [""]
    keyed = [prior(2700, a, 2, key="k1"), prior(2701, b, 3, key="k2"), prior(2702, c, 4, key="k3")]
    by_key = plan(
        [row(2, a, key="k1"), row(4, c, key="k3")],
        keyed,
        {},
        {},
        loose=[Loose(9, "k2", {}), Loose(3, "k9", {})],
    )
    assert [r.held for r in by_key.removed] == [
        "row 9 of the file is invalid and may be its row; fix it, then run again"
    ]
    # elsewhere in the file (above every row): only a row that reads as the same viewing
    e = viewing(5)
    gone = [*priors, prior(2703, e, 5)]
    valid = [row(2, a), row(3, b), row(4, c)]
    alike = Loose(1, None, viewing(5, subject="?"), frozenset({"description"}))
    (kept,) = plan(valid, gone, {}, {}, loose=[alike]).removed
    assert (kept.prior.appointment_id, kept.held) == (
        2703,
        "row 1 of the file is invalid and may be its row; fix it, then run again",
    )
    unlike = Loose(1, None, viewing(5, estate=9, contacts=(1,)), frozenset())
    assert [r.held for r in plan(valid, gone, {}, {}, loose=[unlike]).removed] == [""]
    # the same viewing, had any of it converted: too little reads to tell
    unread = Loose(1, None, e, frozenset(f for fs in _ASPECT_FIELDS.values() for f in fs))
    assert [r.held for r in plan(valid, gone, {}, {}, loose=[unread]).removed] == [""]


def test_two_rows_edited_in_place_alike_take_their_places_appointments() -> None:
    """As many rows as appointments between two anchors, each row as like either appointment:
    the tie is broken by place (the rows were edited where they stand); row 3 takes the
    appointment of row 3, row 4 that of row 4."""
    anchor = viewing(1, subject="Anker", estate=1)
    a, b = viewing(2, subject="A"), viewing(2, subject="B")
    x, y = viewing(2, subject="X"), viewing(2, subject="Y")
    tail = viewing(3, subject="Ende", estate=2)
    priors = [prior(2700, anchor, 2), prior(2701, a, 3), prior(2702, b, 4), prior(2703, tail, 5)]
    p = plan([row(2, anchor), row(3, x), row(4, y), row(5, tail)], priors, {}, {})
    assert steps(p) == {
        2: ("unchanged", 2700, "content"),
        3: ("update", 2701, "place"),
        4: ("update", 2702, "place"),
        5: ("unchanged", 2703, "content"),
    }
    assert p.steps[3].changed == p.steps[4].changed == ("subject",)
    assert p.questions == []


def test_a_row_edited_between_two_neighbours_that_swapped_keeps_its_appointment() -> None:
    """The list was re-sorted (rows 2 and 4 swapped) and the row between them edited: the two
    rows that stood around its appointment still stand around it, in the other order, so it is
    at its place and updates that appointment; the rest keep theirs, nothing is removed."""
    rows = [viewing(day) for day in range(1, 7)]
    priors = [prior(2700 + i, params, i + 2) for i, params in enumerate(rows)]
    edited = viewing(2, hour=15, subject="Verschoben")  # the second row's time and subject
    order = [rows[2], edited, rows[0], rows[3], rows[4], rows[5]]
    p = plan([row(i + 2, params) for i, params in enumerate(order)], priors, {}, {})
    assert steps(p) == {
        2: ("unchanged", 2702, "content"),
        3: ("update", 2701, "place"),
        4: ("unchanged", 2700, "content"),
        5: ("unchanged", 2703, "content"),
        6: ("unchanged", 2704, "content"),
        7: ("unchanged", 2705, "content"),
    }
    assert p.steps[3].changed == ("time", "subject")
    assert (p.removed, p.questions, p.recognised) == ([], [], 6)


def test_two_rows_between_swapped_neighbours_each_keep_their_appointment() -> None:
    """Two rows edited in place between two neighbours that swapped (re-sorted): the stretch
    between the same two neighbours held two appointments, and each row takes the one it is
    most like, found by its place (not only by likeness afterwards)."""
    rows = [viewing(day) for day in range(1, 7)]
    priors = [prior(2700 + i, params, i + 2) for i, params in enumerate(rows)]
    first, second = viewing(2, subject="Neu A"), viewing(3, subject="Neu B")
    order = [rows[3], first, second, rows[0], rows[4], rows[5]]
    p = plan([row(i + 2, params) for i, params in enumerate(order)], priors, {}, {})
    assert steps(p) == {
        2: ("unchanged", 2703, "content"),
        3: ("update", 2701, "place"),
        4: ("update", 2702, "place"),
        5: ("unchanged", 2700, "content"),
        6: ("unchanged", 2704, "content"),
        7: ("unchanged", 2705, "content"),
    }
    assert (p.removed, p.questions) == ([], [])


def test_twin_rows_find_their_appointments_by_reference_each_its_own() -> None:
    """Rows of one content sent with allow_duplicates, whose appointments only their stamps'
    references name (imports of an older version): the first row takes the content's own
    reference, the second the one of its second occurrence, whichever order the file has now; a
    third twin finds an appointment under its reference that holds another content, and is
    new."""
    from importer.run.identity import OCCURRENCE

    a, b = viewing(1), viewing(2)
    content = fingerprint(a)
    twice = f"{content}{OCCURRENCE}2"
    by_ref = {
        reference(content): [prior(2700, a, 2, ours=False)],
        reference(twice): [prior(2701, a, 3, ours=False, key=twice)],
        reference(f"{content}{OCCURRENCE}3"): [prior(2702, b, 4, ours=False)],
    }
    both = {2: ("unchanged", 2700, "content"), 3: ("unchanged", 2701, "content")}
    assert steps(plan([row(2, a), row(3, a)], [], by_ref, {}, allow_duplicates=True)) == both
    assert steps(plan([row(3, a), row(2, a)], [], by_ref, {}, allow_duplicates=True)) == both
    three = plan([row(2, a), row(3, a), row(4, a)], [], by_ref, {}, allow_duplicates=True)
    assert steps(three) == {**both, 4: ("create", None, "")}


def test_each_kind_of_step_is_whole_row_key_reference_and_content() -> None:
    """Every field of the plan's steps, not only their action: a new row is kept under its
    content and stamped with its reference, and carries its fingerprint for the run; its twin
    (not allowed) is a duplicate naming the first row, with no key; a keyed row is kept under
    its key; a new row whose create was sent and never answered is settled first; ambiguous
    rows have neither key nor reference."""
    from importer.run.identity import AMBIGUOUS, CREATE, DUPLICATE, SETTLE, Step

    a, b, c = viewing(1), viewing(2), viewing(3)
    fa, fb, fc = fingerprint(a), fingerprint(b), fingerprint(c)
    lost = entry(fc, SENDING)
    keyed = Candidate(5, fb, "key:B-7", 5, None, b)
    p = plan([row(2, a), row(3, a), keyed, row(6, c)], [], {}, {fc: lost})
    assert p.steps == {
        2: Step(2, CREATE, fa, reference(fa), content=fa),
        3: Step(3, DUPLICATE, "", "", same_as=2),
        5: Step(5, CREATE, "key:B-7", reference("key:B-7"), content=fb),
        6: Step(6, SETTLE, fc, reference(fc), entry=lost, content=fc),
    }
    anchor = viewing(1, subject="Anker", estate=1)
    x, y, z = viewing(2, subject="X"), viewing(2, subject="Y"), viewing(2, subject="Z")
    tail = viewing(3, subject="Ende", estate=2)
    olds = [viewing(2, subject="A"), viewing(2, subject="B")]
    priors = [prior(2700, anchor, 2), prior(2701, olds[0], 3), prior(2702, olds[1], 4)]
    priors.append(prior(2703, tail, 5))
    rows = [row(2, anchor), row(3, x), row(4, y), row(5, z), row(6, tail)]
    asked = plan(rows, priors, {}, {})
    for n in (3, 4, 5):
        step = asked.steps[n]
        assert (step.row, step.action, step.key, step.ref) == (n, AMBIGUOUS, "", "")
    refused = plan([row(3, viewing(2))], [], {}, {}, choices={3: 4711}).steps[3]
    assert (refused.row, refused.action, refused.key, refused.ref) == (3, AMBIGUOUS, "", "")
