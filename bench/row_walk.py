"""One row through `run`, traced: which modules it passes and which calls climb to a later stage.

    python bench/row_walk.py                       # this checkout
    python bench/row_walk.py --against ../before   # and another one, side by side

The CLI's `run` imports a one-row file into the built-in sandbox while a profile hook notes every
call from one module of the importer into another (the sandbox is onOffice here: left out). A
*hop* is a pair (caller's module -> callee's module), counted once; a *climb* is a hop into a
later stage (core < onoffice < source < mapping < rules < run < output; the CLI, the web app
and ``importer.api`` are the front and call anything). Calls made while a module is imported
(its top-level code) are not the row's and are left out. Beside it, *imports up*: the imports of
the whole package (at the top of a module, in a function, under TYPE_CHECKING) into a later
stage. A checkout from before the stage packages (flat ``importer/*.py``) is judged by the stage
each module moved to.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType
from typing import Any

# The house's one rule in one place: the stage order and the import walk of tests/test_layers.py,
# loaded by its path (a child measuring another checkout has that checkout's tests on its path).
_spec = importlib.util.spec_from_file_location(
    "layers", Path(__file__).resolve().parents[1] / "tests" / "test_layers.py"
)
assert _spec is not None and _spec.loader is not None
layers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(layers)
STAGES, FRONT = layers.STAGES, layers.FRONT

# where each module of the flat layout went (issue 24)
MOVED = {
    **dict.fromkeys(["errors", "i18n", "problems", "contract", "excel", "bulk"], "core"),
    **dict.fromkeys(["client", "config", "readback", "reference"], "onoffice"),
    **dict.fromkeys(["load", "xlsx_scan", "ics"], "source"),
    **dict.fromkeys(["mapping", "values", "schedule", "convert", "lookup", "draft"], "mapping"),
    **dict.fromkeys(["schema", "payload", "refusals", "conflicts", "check"], "rules"),
    **dict.fromkeys(
        ["journal", "state", "identity", "settle", "watch", "runner", "submit", "undo"], "run"
    ),
    **dict.fromkeys(["xlsx_write", "workbook", "report", "results", "corrections"], "output"),
}
ROWS = "Start;Betreff;Makler\n01.03.2027 10:00;Besichtigung AC-1042;mmueller\n"
MAPPING = """
start: Start
end: {minutes: 30}
fields:
  description: Betreff
  subscribers.users: {column: Makler, lookup: user}
"""


def stage(module: str) -> str | None:
    """The stage of ``importer.x.y`` (None: the front, or not a stage)."""
    parts = module.split(".")[1:]
    if not parts or parts[0] in FRONT:
        return None
    if parts[0] in STAGES:
        return parts[0]
    return MOVED.get(parts[0])


def trace() -> dict[str, Any]:
    """Run the CLI's `run` on one row here, with the profile hook on every thread."""
    from importer.cli import main

    hops: dict[tuple[str, str], int] = {}
    order: list[str] = []

    def hook(frame: FrameType, event: str, _arg: Any) -> None:
        if event != "call" or frame.f_back is None or frame.f_back.f_code.co_name == "<module>":
            return
        callee = frame.f_globals.get("__name__", "")
        caller = frame.f_back.f_globals.get("__name__", "")
        if not (callee.startswith("importer") and caller.startswith("importer")):
            return
        if ".sandbox" in callee or ".sandbox" in caller or callee == caller:
            return
        for name in (caller, callee):
            if name not in order:
                order.append(name)
        hops[(caller, callee)] = hops.get((caller, callee), 0) + 1

    with tempfile.TemporaryDirectory() as folder:
        source, mapping = Path(folder) / "one.csv", Path(folder) / "one.yaml"
        source.write_text(ROWS, encoding="utf-8")
        mapping.write_text(MAPPING, encoding="utf-8")
        args = ["run", str(source), "-m", str(mapping), "--sandbox"]
        args += ["--journal", str(Path(folder) / "ledger.sqlite")]
        threading.setprofile(hook)
        sys.setprofile(hook)
        try:
            main(args)
        except SystemExit as done:
            code = done.code
        finally:
            sys.setprofile(None)
            threading.setprofile(None)  # type: ignore[arg-type]
    climbs = [
        (a, b)
        for a, b in hops
        if stage(a) is not None
        and stage(b) is not None
        and STAGES.index(stage(b) or "") > STAGES.index(stage(a) or "")
    ]
    return {
        "exit": code,
        "modules": order,
        "hops": [f"{a} -> {b}" for a, b in hops],
        "climbs": [f"{a} -> {b}" for a, b in climbs],
    }


def backward_imports(tree: Path) -> list[str]:
    """Imports (anywhere in a module: top, function, TYPE_CHECKING) into a later stage, found
    as tests/test_layers.py finds them."""
    found = []
    for name, path in layers.modules(tree / "importer"):
        for target in layers.imported(name, path):
            a, b = stage(f"importer.{name}"), stage(f"importer.{target}")
            if a and b and STAGES.index(b) > STAGES.index(a):
                found.append(f"importer.{name.removesuffix('.__init__')} -> importer.{target}")
    return sorted(set(found))


def measured(tree: Path | None) -> dict[str, Any]:
    """:func:`trace` in a process of its own (``tree``: another checkout's importer)."""
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = str(tree.resolve())
    done = subprocess.run(
        [sys.executable, __file__, "--child"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["imports"] = backward_imports(tree or Path(__file__).resolve().parents[1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--against", type=Path, help="another checkout, walked the same way")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--list", action="store_true", help="print every hop and climb")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(trace()))
        return
    sides = {"now": measured(None)}
    if args.against:
        sides["then"] = measured(args.against)
    print(f"{'':6} {'exit':>4} {'modules':>8} {'hops':>5} {'climbs':>7} {'imports up':>11}")
    for name, side in sides.items():
        print(
            f"{name:6} {side['exit']:>4} {len(side['modules']):>8} {len(side['hops']):>5}"
            f" {len(side['climbs']):>7} {len(side['imports']):>11}"
        )
    for name, side in sides.items():
        if args.list:
            print(f"\n{name}: modules in the order the row reaches them")
            print("  " + " -> ".join(m.removeprefix("importer.") for m in side["modules"]))
        print(f"\n{name}: climbs (a call into a later stage)")
        for hop in side["climbs"] or ["(none)"]:
            print("  " + hop.replace("importer.", ""))
        print(f"{name}: imports into a later stage")
        for hop in side["imports"] or ["(none)"]:
            print("  " + hop.replace("importer.", ""))


if __name__ == "__main__":
    main()
