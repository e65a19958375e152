"""A row's identity from the mapping's key columns (its booking number, say).

With a key, a row is its appointment for good: edited, re-sorted or run from another computer,
the row with the same key updates the same appointment. Without one, the run pairs rows and
appointments by content and place (:mod:`importer.run.identity`). Two rows with one key, or a row
without its key, cannot be placed: both are errors of the check.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Final

from ..core.i18n import _
from ..core.problems import RowProblem, shown
from ..mapping.spec import Mapping
from ..source.load import Table, header_key

KEY_PREFIX: Final = "key:"  # an identity from key columns, as the ledger and the stamp keep it


def key_identities(table: Table, mapping: Mapping) -> tuple[dict[int, str], list[RowProblem]]:
    """Row -> identity from the mapping's key columns; an empty or repeated key is an error
    (two rows cannot be one appointment)."""
    if not mapping.key:
        return {}, []
    by_header = {header_key(c): c for c in table.columns}
    columns = [by_header[header_key(spec.columns[0])] for spec in mapping.key]
    values = [table.frame[c].to_numpy() for c in columns]
    identities: dict[int, str] = {}
    problems: list[RowProblem] = []
    first: dict[str, int] = {}
    for i, row in enumerate(table.row_numbers):
        cells = [_key_text(v[i]) for v in values]
        empty = tuple(c for c, cell in zip(columns, cells, strict=True) if not cell)
        if empty:
            problems.append(
                RowProblem(
                    row,
                    empty,
                    "key-missing",
                    _("the key is empty: every row needs its own key (its booking number)"),
                )
            )
            continue
        joined = json.dumps(list(zip(columns, cells, strict=True)), ensure_ascii=False)
        identity = KEY_PREFIX + hashlib.sha256(joined.encode()).hexdigest()[:32]
        if identity in first:
            problems.append(
                RowProblem(
                    row,
                    tuple(columns),
                    "key-duplicate",
                    _("the same key as row {row} of the file: one key, one appointment").format(
                        row=first[identity]
                    ),
                    shown(" / ".join(cells)),
                )
            )
            continue
        first[identity] = row
        identities[row] = identity
    return identities, problems


def _key_text(value: Any) -> str:
    """A key cell as text: 1234.0 from Excel is "1234", surrounding blanks do not count."""
    if value is None or value != value:  # None or NaN
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
