"""The web app's long steps as the page shows them: check, import and undo of ``--rows`` rows,
how often the page's line changes, and how good its time left is (issue 31: 20,000
appointments showed "Removing …" for 400 s, and a list of 20,000 rows took 8-9 s).

    python bench/undo_progress_bench.py [--rows 2000] [--check-only | --no-undo]
    BENCH_LINES=1 python bench/undo_progress_bench.py ...   # every line the page showed

An import of ``--rows`` rows goes into an in-process sandbox through the web app's workspace
(account mode: a ledger of its own); each job is polled with Flask's test client as its page
polls it (``/jobs/<id>`` every 0.4 s), and the undo's list is asked for (first page, and the
last). Printed per step: how long it took, how many polls and how often the line changed, the
stages shown, the first and last time left said (with how long it then took), and at a
quarter, half and three quarters of the count the line against the time it took. Not a test
(no assertion): figures for the README ("Performance").

20,000 rows on the 2-core machine with six others (load 11-15), 7 December 2026, before the
import's last look was a counted stage: check 7.5 s; import 391.9 s (rows sent in 78 s, then
314 s at "20,000 of 20,000 · finishing …": the last look in onOffice, now a stage of its own);
undo 494.2 s, the line changing at every poll (1,187 of 1,212); its time left: at 16 s "about 7
minutes left" (took 8.0 min), at 25% "about 6 minutes" (6.0 min), at 50% "about 3 minutes" (4.2
min), at 75% "about 2 minutes" (2.5 min), the last "less than a minute left" (7 s). Figures
after the change: README, "Performance".
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--check-only", action="store_true", help="stop after the check")
    parser.add_argument("--no-undo", action="store_true", help="stop after the import")
    arguments = parser.parse_args()
    rows = arguments.rows
    folder = Path(tempfile.mkdtemp(prefix="undo-bench-"))
    os.environ["ONOFFICE_IMPORT_DATA"] = str(folder / "data")

    from importer.sandbox import Sandbox
    from importer.web.app import create_app
    from importer.web.guard import Guard
    from importer.web.workspace import Workspace

    lines = ["Datum;Beginn;Betreff"]
    lines += [
        f"{1 + i % 28:02d}.0{1 + i // 28 % 9}.2027;{8 + i % 10}:{i % 60:02d};T {i}"
        for i in range(rows)
    ]
    source = folder / "lang.csv"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    mapping = (
        "start: {date: Datum, time: Beginn}\nend: {minutes: 30}\nfields: {description: Betreff}\n"
    )

    with Sandbox() as sandbox:
        env = {
            "ONOFFICE_TOKEN": sandbox.credentials.token,
            "ONOFFICE_SECRET": sandbox.credentials.secret,
            "ONOFFICE_API_URL": sandbox.url,
        }
        ws = Workspace(
            folder=folder / "work", mappings=folder / "m", results=folder / "results", env=env
        )
        guard = Guard()
        client = create_app(ws, guard).test_client()
        client.get(f"/?token={guard.token}")
        try:
            with source.open("rb") as f:
                ws.add_upload("lang.csv", f)
            ws.set_mapping("lang", mapping)
            check = ws.start_check()
            watched(client, check.id, "check")
            if arguments.check_only:
                return
            imported = ws.start_import()
            watched(client, imported.job.id, "import")
            print(f"appointments: {sandbox.store.count_appointments()}")
            if arguments.no_undo:
                return
            name = ws.results_files()[0].name
            for page in ("1", str((rows + 49) // 50)):
                clock = time.monotonic()
                answer = client.get(f"/history/{name}/undo?page={page}")
                listed = answer.get_data(as_text=True).count("<tr><td>")
                print(f"undo list, page {page}: {time.monotonic() - clock:.2f} s, {listed} rows "
                      f"shown, status {answer.status_code}")  # fmt: skip
            started = client.post(f"/history/{name}/undo", data={"csrf": guard.csrf})
            job_id = str(started.headers["Location"]).rsplit("/", 1)[-1]
            watched(client, job_id, "undo")
            page = client.get(f"/undo/{job_id}").get_data(as_text=True)
            print("undo page:", re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))[-160:].strip())
            print(f"appointments left: {sandbox.store.count_appointments()}")
        finally:
            ws.close()


def shown(state: dict[str, Any]) -> str:
    """The progress line as app.js builds it (English)."""
    if state["stage"] and not state["counting"]:
        return f"{state['stage']} · {round(state['elapsed'])} s"
    parts = [state["stage"]] if state["stage"] else []
    parts.append(f"{state['done']:,} of {state['total']:,}")
    if state["rate"] > 0:
        parts.append(f"{state['rate']} a second")
    if state["left_words"]:
        parts.append(state["left_words"])
    return " · ".join(parts)


def watched(client: Any, job_id: str, kind: str) -> None:
    """Poll ``/jobs/<id>`` as the page does (every 0.4 s) until the job ends; print how long it
    took and how often the line changed; per counted stage (the rows, or a stage with a count
    of its own) the first and last time left said, and at a quarter, half and three quarters
    of its count, each against the time the stage then still took."""
    clock = time.monotonic()
    samples: list[tuple[float, dict[str, Any]]] = []
    while True:
        state = client.get(f"/jobs/{job_id}").get_json()
        samples.append((time.monotonic() - clock, state))
        if not state["running"]:
            break
        time.sleep(0.4)
    if os.environ.get("BENCH_LINES"):  # every line the page showed
        for t, state in samples:
            print(f"    {t:6.1f} s  {shown(state)}")
    total = samples[-1][0]
    lines = [(t, shown(s)) for t, s in samples if s["running"]]
    changes = [t for (_t, a), (t, b) in itertools.pairwise(lines) if a != b]
    gaps = [b - a for a, b in itertools.pairwise(changes)]
    print(f"{kind}: {total:.1f} s, {len(samples)} polls, the line changed {len(changes)} times "
          f"(median every {statistics.median(gaps) if gaps else 0:.1f} s); "
          f"{samples[-1][1]['done']:,} of {samples[-1][1]['total']:,}")  # fmt: skip
    stages = list(dict.fromkeys(s["stage"] for _t, s in samples if s["stage"]))
    if stages:
        print(f"  stages shown: {stages}")
    counted = [(t, s) for t, s in samples if s["running"] and s["counting"] and s["total"]]
    for stage in dict.fromkeys(s["stage"] for _t, s in counted):
        mine = [(t, s) for t, s in counted if s["stage"] == stage]
        end = next((t for t, s in samples if t > mine[-1][0] and s["stage"] != stage), total)
        lefts = [(t, s) for t, s in mine if s["left_words"].endswith(" left")]
        print(f"  {stage or 'rows'}: {mine[0][0]:.1f}-{end:.1f} s")
        picks = [("first", lefts[0] if lefts else None)]
        for share in (0.25, 0.5, 0.75):
            at = next(((t, s) for t, s in lefts if s["done"] >= share * s["total"]), None)
            picks.append((f"at {share:.0%}", at))
        picks.append(("last", lefts[-1] if lefts else None))
        for name, pick in picks:
            if pick is not None:
                t, s = pick
                print(f"    {name} ({t:.1f} s, {s['done']:,} of {s['total']:,}, "
                      f"{s['rate']}/s): {s['left_words']!r}; "
                      f"the stage took {end - t:.1f} s more")  # fmt: skip


if __name__ == "__main__":
    main()
