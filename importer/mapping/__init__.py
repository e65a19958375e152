"""Stage 3, the mapping: columns become the fields of an onOffice calendar create.

- ``spec``: the mapping file (``mappings/*.yaml``): its language, parsed and checked.
- ``values``: pure conversions of one cell (dates, times, durations, booleans, ids, text).
- ``convert``: a mapping applied to a table, column by column: fields per row, or problems.
- ``schedule``: start, end, all-day and series fields (a part of ``convert``).
- ``lookup``: human keys (estate numbers, e-mails, user names) resolved against the account.
- ``draft``: a mapping drafted from a file: headers recognised, values matched to the account.
"""

from __future__ import annotations

import warnings
from importlib import import_module
from typing import Any


def __getattr__(name: str) -> Any:
    """The old ``importer.mapping`` module's names (now ``importer.mapping.spec``), kept for one
    version with a DeprecationWarning."""
    spec = import_module(".spec", __name__)
    if name.startswith("__") or not hasattr(spec, name):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warnings.warn(
        f"importer.mapping.{name} is now importer.mapping.spec.{name}; the old name goes in the "
        "next version",
        DeprecationWarning,
        stacklevel=2,
    )
    return getattr(spec, name)
