"""The shape of the code at one or more revisions: modules, lines, the largest modules and the
longest functions (the sandbox is left out: it is a test double).

    python bench/code_shape.py 176996c HEAD
"""

from __future__ import annotations

import ast
import subprocess
import sys


def shape(revision: str) -> tuple[dict[str, int], list[tuple[int, str]]]:
    listed = subprocess.run(
        ["git", "ls-tree", "-r", "--name-only", revision, "importer/"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    sizes: dict[str, int] = {}
    functions: list[tuple[int, str]] = []
    for path in (p for p in listed if p.endswith(".py") and "/sandbox/" not in p):
        source = subprocess.run(
            ["git", "show", f"{revision}:{path}"], capture_output=True, text=True, check=True
        ).stdout
        name = path.rsplit("/", 1)[-1]
        sizes[name] = source.count("\n")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                functions.append((length, f"{name}:{node.name}"))
    return sizes, sorted(functions, reverse=True)


def main() -> None:
    for revision in sys.argv[1:] or ["HEAD"]:
        sizes, functions = shape(revision)
        largest = sorted(sizes.items(), key=lambda item: -item[1])[:6]
        print(f"{revision}: {len(sizes)} modules, {sum(sizes.values()):,} lines")
        print("  largest:", ", ".join(f"{name} {n}" for name, n in largest))
        print("  longest functions:", ", ".join(f"{name} {n}" for n, name in functions[:6]))
        print("  functions over 60 lines:", sum(1 for n, _ in functions if n > 60))


if __name__ == "__main__":
    main()
