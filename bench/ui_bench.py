"""How long each step of the web app takes, for the sample and for a large file.

    python bench/ui_bench.py [--rows 20000]

The app runs as `onoffice-import ui --sandbox` does (its own server on 127.0.0.1, practice
sandbox), driven over HTTP the way the browser does it: the form posts, then the pages and the
progress polling until a job is done. Measured per step: upload and file preview, mapping
(open, preview of the first rows), check (the whole file, with look-ups, plus the first page
of the table), import (until the result page shows), the undo list, and the undo.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from check_bench import rows  # noqa: E402

from importer.web.server import build  # noqa: E402

# The bench file's columns without estate and contact look-ups (the sandbox's agency does not
# hold the bench's 900 estates); the agents are looked up, as in an office's file.
MAPPING = """
start: {date: Datum, time: Beginn}
end: {time: Ende, minutes: 30}
fields:
  description: {template: "{Terminart} mit {Interessent}"}
  note: Bemerkung
  art: {column: Terminart, map: {Besichtigung: Besichtigung, Übergabe: Uebergabe,
        Notartermin: Notartermin, Beratung: Beratung}}
  erinnerung: Erinnerung
  abgesagt: {column: abgesagt, default: nein}
  subscribers.users: {column: Makler, lookup: user}
options: {past: allow}
"""


def large_file(n: int, folder: Path) -> Path:
    from openpyxl import Workbook

    path = folder / f"viewings-{n}.xlsx"
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Termine")
    header = ["Datum", "Beginn", "Ende", "Interessent", "Makler", "Terminart", "Erinnerung"]
    sheet.append([*header, "abgesagt", "Bemerkung"])
    for values in rows(n):
        sheet.append([*values[:3], values[4], *values[6:9], values[10], values[14]])
    book.save(path)
    return path


class Browser:
    def __init__(self, url: str) -> None:
        self.session = requests.Session()
        self.session.trust_env = False
        page = self.session.get(url).text
        self.base = url.split("/?")[0]
        found = re.search(r'name="csrf" value="([^"]+)"', page)
        assert found is not None
        self.csrf = found.group(1)

    def get(self, path: str) -> str:
        answer = self.session.get(self.base + path)
        answer.raise_for_status()
        return answer.text

    def post(self, path: str, **data: Any) -> requests.Response:
        files = data.pop("files", None)
        answer = self.session.post(self.base + path, data={"csrf": self.csrf, **data}, files=files)
        answer.raise_for_status()
        return answer

    def wait(self, job_page: str) -> str:
        """Poll as the page's script does, then load the finished page."""
        while True:
            found = re.search(r'data-job="([^"]+)"', self.get(job_page))
            if found is None:
                return self.get(job_page)
            while self.session.get(f"{self.base}/jobs/{found.group(1)}").json()["running"]:
                time.sleep(0.2)


def flow(source: Path, mapping: str | None) -> dict[str, float]:
    server, workspace, url = build(sandbox=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    times: dict[str, float] = {}
    try:
        browser = Browser(url)
        clock = time.perf_counter()

        def step(name: str) -> None:
            nonlocal clock
            times[name] = time.perf_counter() - clock
            clock = time.perf_counter()

        with source.open("rb") as f:
            browser.post("/file", files={"file": (source.name, f)})
        step("upload + file preview")
        if mapping is None:
            browser.post("/mapping/open", name="viewings")
        else:
            browser.post("/mapping/text", text=mapping)
        step("mapping + preview")
        browser.post("/check")
        page = browser.wait("/check")
        assert "rows valid" in page, page[-2000:]
        step("check (whole file, look-ups)")
        answer = browser.post("/import")
        page = browser.wait(answer.url.removeprefix(browser.base))
        counts = re.search(r'id="counts">(.*?)</p>', page, re.S)
        assert counts is not None
        step("import (until the result page)")
        browser.get(answer.url.removeprefix(browser.base) + "/undo")
        step("undo list")
        undone = browser.post(answer.url.removeprefix(browser.base) + "/undo")
        browser.wait(undone.url.removeprefix(browser.base))
        step("undo")
        print(f"  {source.name}: " + " ".join(re.sub(r"<[^>]+>", " ", counts.group(1)).split()))
    finally:
        server.shutdown()
        workspace.close()
    return times


def library(source: Path, mapping: str) -> dict[str, float]:
    """The same check, import and undo as library calls (what the CLI does), in the same kind
    of in-process sandbox: what the web app adds is the difference."""
    from importer import check
    from importer.mapping.spec import mapping_from_text
    from importer.onoffice.client import OnOfficeClient
    from importer.output.results import save_results
    from importer.run.submit import run_import
    from importer.run.undo import undo_import
    from importer.sandbox import Sandbox

    times: dict[str, float] = {}
    parsed = mapping_from_text(mapping, "bench.yaml")
    with tempfile.TemporaryDirectory() as folder, Sandbox() as sandbox:
        journal = Path(folder) / "ledger.sqlite"
        with OnOfficeClient(sandbox.url, sandbox.credentials) as client:
            clock = time.perf_counter()
            check(source, parsed, api=client, report=Path(folder) / "r.check.xlsx")
            times["check (whole file, look-ups)"] = time.perf_counter() - clock
            clock = time.perf_counter()
            report = run_import(source, parsed, client=client, journal_path=journal)
            written, _failures = save_results(report, Path(folder) / "r.results.xlsx")
            times["import (until the result page)"] = time.perf_counter() - clock
            assert written is not None
            clock = time.perf_counter()
            undo_import(written, client=client, journal_path=journal)
            times["undo"] = time.perf_counter() - clock
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument(
        "--library", action="store_true", help="also the same steps as library calls (no web)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        results = {
            "samples/viewings.xlsx (14 rows)": flow(ROOT / "samples" / "viewings.xlsx", None)
        }
        big = large_file(args.rows, Path(folder))
        results[f"{args.rows:,} rows (.xlsx)"] = flow(big, MAPPING)
        if args.library:
            results[f"{args.rows:,} rows, library calls"] = library(big, MAPPING)
    names = list(next(iter(results.values())))
    print("\n| step | " + " | ".join(results) + " |")
    print("|---|" + "---|" * len(results))
    for name in names:
        cells = [f"{r[name]:.2f} s" if name in r else "" for r in results.values()]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
