"""What an account has shown of its appointment types, where `get fields` does not list them.

§6.6 warns that `get fields` lacks the permitted values for some modules; then the only
witnesses of an account's types are the account itself: the types of the appointments it shows
(`read calendar`, `appointmentList`), the values it took in a create or modify, and the ones it
refused (255 "Invalid value for parameter art", 252 "Unknown value in select field"). This is
that memory, per account: a run keeps it in the account's ledger (:data:`LEDGER_KEY`), a check
reads it from there and adds what it reads itself. A value is *confirmed* when the account has
shown or taken it, *refused* when it refused it and has not shown it since, else unconfirmed.

    learned = Learned.loads(text)
    learned.saw(appointments)          # types read back: confirmed
    learned.took("Übergabe")           # a write with it succeeded: confirmed, as written
    learned.refused_with("Kaffee", "255: Invalid value for parameter art")
    learned.dumps()
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .readback import Appointment

LEDGER_KEY = "learned-types"  # the ledger's meta key (importer/run/journal.py)


@dataclass
class Learned:
    """The account's types as it showed them (key -> label), the values it took in a write
    (sent again as written: the row's fingerprint stays what was written), and the values it
    refused (value -> onOffice's answer)."""

    shown: dict[str, str] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    taken: set[str] = field(default_factory=set)

    @classmethod
    def loads(cls, text: str | None) -> Learned:
        """What a ledger kept (``None`` or unreadable: nothing learned yet)."""
        try:
            raw = json.loads(text) if text else {}
        except ValueError:
            raw = {}
        raw = raw if isinstance(raw, dict) else {}
        taken = raw.get("taken")
        taken = {str(t) for t in taken if t} if isinstance(taken, list) else set()
        return cls(_texts(raw.get("shown")), _texts(raw.get("refused")), taken)

    def dumps(self) -> str:
        return json.dumps(
            {"shown": self.shown, "refused": self.refused, "taken": sorted(self.taken)},
            ensure_ascii=False,
            sort_keys=True,
        )

    def choices(self) -> dict[str, str]:
        """Every type confirmed, key -> label: those shown, and those taken as written that
        no type shown answers to already."""
        words = set(self.shown) | set(self.shown.values())
        return {**{t: t for t in sorted(self.taken) if t not in words}, **self.shown}

    def saw(self, appointments: Iterable[Appointment | None]) -> None:
        """The types of appointments the account showed: they exist in it."""
        for found in appointments:
            if found is None or not found.types:
                continue
            key = found.type_key or min(found.types)
            others = sorted(found.types - {key})
            self._confirm(key, others[0] if others else key)
            for other in others:  # a label shown as well is no longer refused
                self.refused.pop(other, None)

    def took(self, value: str) -> None:
        """A create or modify with this type succeeded."""
        if value:
            self.taken.add(value)
            self.refused.pop(value, None)

    def refused_with(self, value: str, answer: str) -> None:
        """onOffice refused a write for this type (unless it has shown or taken the type: then
        the refusal had another cause)."""
        if value and value not in self.shown and value not in self.taken:
            self.refused[value] = answer

    def _confirm(self, key: str, label: str) -> None:
        if not key:
            return
        if self.shown.get(key, key) == key:  # a label seen once is kept
            self.shown[key] = label
        self.refused.pop(key, None)

    def __bool__(self) -> bool:
        return bool(self.shown or self.refused or self.taken)


def _texts(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items() if k} if isinstance(value, Mapping) else {}
