"""Mutation testing of the rules' modules, each against its own tests (issue 24, point 6).

    pip install -e ".[test,mutation]"
    python bench/mutation.py [MODULE ...] [--max-children 2]
    python bench/mutation.py --table [MODULE ...]   # the table of the last runs, nothing run

MODULE is a short name from ``MODULES`` below (default: all of them). For each module the tree
(the files git knows, committed or not, minus the ignored ones) is copied to
``bench/out/mutation/<name>/``, whose ``[tool.mutmut]`` is the project's plus that module's two
keys: ``only_mutate`` (the module's file) and ``pytest_add_cli_args_test_selection`` (its own test
files). ``mutmut run`` there copies the tree again to ``mutants/`` with every function of the
module in its mutated variants behind a trampoline, and runs each mutant with the tests that
called the function (mutmut records that in a first pass). The table at the end: mutants,
killed, survived, timeout, the others (suspicious, no tests), and the score: (killed +
timeout) / all.

Where a mutant is active: mutmut forks a child per mutant and names the mutant in the child's
``MUTANT_UNDER_TEST``; the tests run in that child, the sandbox in its threads. The CLI the tests
start in processes of their own (tests/forkserver.py's server, ``python -c``) imports the
``mutants/`` copy (the server starts in ``mutants/``, and PYTHONPATH names it for the others)
and inherits the variable, so the mutant is active there too (bench/mutation_site/
sitecustomize.py lets those processes run in mutmut's first pass). A function only ever called
in such a process is not seen by that pass: its mutants count as "no tests", which the score
counts as not killed. Only code inside functions is mutated (mutmut 3); a line marked
``# pragma: no mutate`` is not, each with its reason beside it.

i18n is tested with tests/test_i18n.py, not test_translations.py: that one extracts the texts
from the source, which a mutated copy fills with every mutant's texts. The guard has its own
tests/test_guard.py (test_web.py drives the whole app through it too).

Time, two workers on two cores: payload 10 s, schema 4 min, settle 1 min, i18n and the guard
seconds, undo 5 min; identity (1304 mutants) and client (931) about 20 and 15 min each, most of
an hour in all: a mutant that survives runs every test that called its function, sandbox runs
included. Name the modules to run a few. The living list's own modules (issue 34), on the same
busy machine (one worker each, runs side by side): reference (136 mutants) 25 s, form (292)
6.5 min, readback (1325) 8 min, state (557) 8 min, watch (214) 7 min with two workers; config
(270) 4 min, learned (97) 1.5 min, journal (625) 14 min. The calendar reader, ics (1904
mutants), 31 min with two workers on that machine: a survivor runs every test that read a
calendar.

Each run starts from a fresh copy, so nothing is cached between runs; the sandbox's random
dialects are fixed (DIALECT_SEED) so that two runs test the same things. ``mutmut browse``,
``mutmut show NAME`` and ``mutmut apply NAME`` work inside a module's folder afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "mutation"
MUTMUT = Path(sys.executable).parent / "mutmut"
COMMAND = 'pip install -e ".[test,mutation]" && python bench/mutation.py'

# name: (module, its own test files)
MODULES: dict[str, tuple[str, list[str]]] = {
    "payload": ("importer/rules/payload.py", ["tests/test_payload.py"]),
    "schema": ("importer/rules/schema.py", ["tests/test_schema.py"]),
    "identity": ("importer/run/identity.py", ["tests/test_identity.py"]),
    "settle": ("importer/run/settle.py", ["tests/test_settle.py"]),
    "undo": ("importer/run/undo.py", ["tests/test_undo.py"]),
    "client": ("importer/onoffice/client.py", ["tests/test_client.py"]),
    "i18n": ("importer/core/i18n.py", ["tests/test_i18n.py"]),
    "guard": ("importer/web/guard.py", ["tests/test_guard.py"]),
    "watch": ("importer/run/watch.py", ["tests/test_watch.py"]),
    "state": ("importer/run/state.py", ["tests/test_state.py"]),
    "reference": ("importer/onoffice/reference.py", ["tests/test_reference.py"]),
    "readback": ("importer/onoffice/readback.py", ["tests/test_readback.py"]),
    "form": ("importer/onoffice/form.py", ["tests/test_form.py"]),
    "config": ("importer/onoffice/config.py", ["tests/test_config.py"]),
    "learned": ("importer/onoffice/learned.py", ["tests/test_learned.py"]),
    "journal": ("importer/run/journal.py", ["tests/test_journal.py"]),
    "ics": ("importer/source/ics.py", ["tests/test_ics.py"]),
}

# mutmut's exit codes of a mutant's test run (mutmut/stats.py), in the table's words
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 36: "timeout"}
STATUS |= {-24: "timeout", 24: "timeout", 152: "timeout", 255: "timeout"}


@dataclass
class Result:
    name: str
    counts: Counter[str]
    survivors: list[str]
    seconds: float

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def score(self) -> float:
        """Detected / all: a mutant the tests kill, or one that makes them run past mutmut's
        time limit (an endless loop: the suite's own timeout would stop it)."""
        detected = self.counts["killed"] + self.counts["timeout"]
        return 100.0 * detected / self.total if self.total else 0.0


def tracked_files() -> list[str]:
    """The tree as a fresh clone has it, with this worktree's edits and new (unignored) files."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [p for p in listed.split("\0") if p and (ROOT / p).is_file()]


def toml_value(value: object) -> str:
    return json.dumps(value)  # strings, numbers, booleans and lists of them read the same


def configure(folder: Path, module: str, tests: list[str]) -> None:
    """The project's [tool.mutmut] with this module's file and tests, in the copy's pyproject."""
    pyproject = folder / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    settings = tomllib.loads(text)["tool"]["mutmut"]
    top = sorted({p.split("/")[0] for p in tracked_files()} - {"importer"})
    settings |= {
        "only_mutate": [module],
        "pytest_add_cli_args_test_selection": tests,
        "also_copy": top,
    }
    section = "[tool.mutmut]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in settings.items())
    start = text.index("[tool.mutmut]\n")
    end = text.find("\n[", start + 1)
    rest = text[end + 1 :] if end != -1 else ""
    pyproject.write_text(text[:start] + section + "\n" + rest, encoding="utf-8")


def run_module(name: str, max_children: int) -> Result:
    module, tests = MODULES[name]
    folder = OUT / name
    shutil.rmtree(folder, ignore_errors=True)
    for path in tracked_files():
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / path, target)
    configure(folder, module, tests)
    # made before mutmut starts: a PYTHONPATH folder missing at start-up stays unimportable
    (folder / "mutants").mkdir()
    site = ROOT / "bench" / "mutation_site"  # its sitecustomize.py: see there
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(folder / "mutants"), str(site)]),
        "MUTATION_BENCH_FOLDER": str(folder),
        "DIALECT_SEED": os.environ.get("DIALECT_SEED", "1"),
    }
    start = time.monotonic()
    log = folder / "mutmut.log"
    with log.open("wb") as out:
        done = subprocess.run(
            [str(MUTMUT), "run", "--max-children", str(max_children)],
            cwd=folder,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    seconds = time.monotonic() - start
    if done.returncode != 0:
        sys.exit(f"mutmut failed for {name} (exit {done.returncode}); see {log}")
    return read_result(name, seconds)


def read_result(name: str, seconds: float = 0.0) -> Result:
    """A module's result as its last run in bench/out/mutation/<name> left it."""
    module = MODULES[name][0]
    meta_path = OUT / name / "mutants" / (module + ".meta")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    codes: dict[str, int | None] = meta["exit_code_by_key"]
    counts = Counter(
        STATUS.get(c, "suspicious") if c is not None else "not run" for c in codes.values()
    )
    survivors = sorted(k for k, c in codes.items() if STATUS.get(c) not in ("killed", "timeout"))
    return Result(name, counts, survivors, seconds)


def table(results: list[Result]) -> str:
    head = "module     mutants killed survived timeout other  score  time"
    lines = [head, "-" * len(head)]
    for r in results:
        other = r.total - r.counts["killed"] - r.counts["survived"] - r.counts["timeout"]
        lines.append(
            f"{r.name:<10} {r.total:>7} {r.counts['killed']:>6} {r.counts['survived']:>8} "
            f"{r.counts['timeout']:>7} {other:>5} {r.score:>5.1f}%  {r.seconds:.0f} s"
        )
    lines.append("score: (killed + timeout) / mutants; other: no tests, suspicious, not run")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("modules", nargs="*", choices=[*MODULES, []], metavar="MODULE")
    parser.add_argument("--max-children", type=int, default=2)
    parser.add_argument(
        "--table", action="store_true", help="only print the table of the last runs' results"
    )
    args = parser.parse_args()
    names = args.modules or list(MODULES)
    if args.table:
        print(table([read_result(name) for name in names if (OUT / name).exists()]))
        return
    print(f"reproduce: {COMMAND} {' '.join(args.modules)}".rstrip())
    print(f"mutmut in {OUT}/<module>, {args.max_children} workers; modules: {', '.join(names)}")
    results = []
    for name in names:
        result = run_module(name, args.max_children)
        results.append(result)
        print(f"{name}: {dict(result.counts)} in {result.seconds:.0f} s", flush=True)
        for survivor in result.survivors:
            print(f"    not killed: {survivor}")
    print()
    print(table(results))


if __name__ == "__main__":
    main()
