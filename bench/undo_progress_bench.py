"""The web app's undo of a long import: how soon its page shows a count, how good its time left
is, how long its list takes to show (issue 31: 20,000 appointments showed "Removing …" for
400 s, and a list of 20,000 rows took 8-9 s).

    python bench/undo_progress_bench.py [--rows 2000]

An import of ``--rows`` rows goes into an in-process sandbox through the web app's workspace
(account mode: a ledger of its own); then, with Flask's test client, the undo's list is asked
for (first page, and the last) and the undo is started from History and polled as its page
polls it (``/jobs/<id>`` every 0.4 s). Printed: the list's time, the first count's time, and at
a quarter, half and three quarters of the way the time left the page said against the time it
took. Not a test (no assertion): figures for the README.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2000)
    rows = parser.parse_args().rows
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
            clock = time.monotonic()
            check = ws.start_check()
            check.wait()
            imported = ws.start_import()
            imported.job.wait()
            print(f"import of {rows} rows: {time.monotonic() - clock:.1f} s "
                  f"({sandbox.store.count_appointments()} appointments)")  # fmt: skip
            name = ws.results_files()[0].name
            for page in ("1", str((rows + 49) // 50)):
                clock = time.monotonic()
                answer = client.get(f"/history/{name}/undo?page={page}")
                listed = answer.get_data(as_text=True).count("<tr><td>")
                print(f"undo list, page {page}: {time.monotonic() - clock:.2f} s, {listed} rows "
                      f"shown, status {answer.status_code}")  # fmt: skip
            clock = time.monotonic()
            started = client.post(f"/history/{name}/undo", data={"csrf": guard.csrf})
            job_id = str(started.headers["Location"]).rsplit("/", 1)[-1]
            samples = []
            while True:
                state = client.get(f"/jobs/{job_id}").get_json()
                samples.append((time.monotonic() - clock, state))
                if not state["running"]:
                    break
                time.sleep(0.4)
            total = samples[-1][0]
            first = next((t for t, s in samples if s["done"]), None)
            print(f"undo: {total:.1f} s; first count after {first:.1f} s; "
                  f"{samples[-1][1]['done']} of {samples[-1][1]['total']} done")  # fmt: skip
            for share in (0.25, 0.5, 0.75):
                at = next(
                    ((t, s) for t, s in samples if s["total"] and s["done"] >= share * s["total"]),
                    None,
                )
                if at and at[1]["left"] is not None:
                    print(f"  at {share:.0%} ({at[0]:.1f} s): {at[1]['rate']}/s, said "
                          f"{at[1]['left']} s left, took {total - at[0]:.1f} s")  # fmt: skip
            page = client.get(f"/undo/{job_id}").get_data(as_text=True)
            print("undo page:", re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))[-160:].strip())
            print(f"appointments left: {sandbox.store.count_appointments()}")
        finally:
            ws.close()


if __name__ == "__main__":
    main()
