"""Settling a lost answer: the row's appointment is adopted, a person's never."""

from __future__ import annotations

import time
from pathlib import Path

from importer.run.submit import run_import
from importer.sandbox import Faults, Sandbox
from tests.files import write_csv
from tests.helpers import FAST, client_for


def test_without_stamps_a_persons_older_identical_appointment_is_not_adopted(
    tmp_path: Path,
) -> None:
    """options.reference: false, so nothing marks the import's own appointments. A person
    entered the same viewing before the run; the run's create is made, its answer lost: the
    read-back adopts the appointment written since the row's intent, never the person's."""
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "start: Start\nend: {minutes: 30}\nfields:\n  description: Betreff\n"
        "options:\n  reference: false\n",
        encoding="utf-8",
    )
    source = write_csv(tmp_path / "l.csv", "Start;Betreff\n01.03.2027 10:00;Besichtigung\n")
    with Sandbox() as sb, client_for(sb) as client:
        persons = client.create_appointment(
            {
                "data": {
                    "start_dt": "2027-03-01 10:00:00",
                    "end_dt": "2027-03-01 10:30:00",
                    "description": "Besichtigung",
                }
            }
        )
        record = sb.store.appointment(persons)
        assert record is not None
        sb.store.update_appointment(record, "2020-01-01 00:00:00")  # written long before
        time.sleep(1.1)  # the run's intent is later than anything before it, by the clock
        sb.faults = Faults(plan=["lost"], writes_only=True)
        report = run_import(source, mapping, client=client, options=FAST)
        (result,) = report.results.values()
        assert result.status == "created" and result.appointment_id not in (None, persons)
        assert sb.store.count_appointments() == 2
