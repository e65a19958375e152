"""The files that come with the tool: the sample files and the ready mappings.

In a checkout they are the top-level ``samples/`` and ``mappings/`` folders (where the README
points). The wheel carries the same files inside the package, as ``importer/_shipped/samples``
and ``importer/_shipped/mappings`` (pyproject.toml maps the two folders there), so an installed
tool (``pip install``, ``pipx install``) runs the demo and knows its mappings by name.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

_PACKAGE: Final = Path(__file__).resolve().parent.parent
NAME: Final = re.compile(r"[A-Za-z0-9_-]+")  # a mapping's name: never a path


def folder(name: str) -> Path:
    """``samples`` or ``mappings``: the installed package's copy, else the checkout's."""
    inside = _PACKAGE / "_shipped" / name
    return inside if inside.is_dir() else _PACKAGE.parent / name


def mappings() -> dict[str, Path]:
    """The shipped mappings by name (``viewings`` → …/viewings.yaml), sorted."""
    found = sorted(folder("mappings").glob("*.yaml"))
    return {path.stem: path for path in found}


def mapping(given: Path, own: Path = Path("mappings")) -> Path:
    """The mapping file ``--mapping`` means: the file as given when it exists; else a bare name
    (``viewings``) is one of the user's own (``mappings/NAME.yaml`` here, where ``mapping init``
    writes it) or a shipped one. Anything else is returned as given (its reader says what is
    wrong with it)."""
    text = str(given)
    if given.exists() or not NAME.fullmatch(text):
        return given
    for candidate in (own / f"{text}.yaml", mappings().get(text)):
        if candidate is not None and candidate.is_file():
            return candidate
    return given
