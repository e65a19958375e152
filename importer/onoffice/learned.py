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
    learned.took("Besichtigung")       # a write with it succeeded: confirmed
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
    """The account's types as it showed them (key -> label), and the values it refused (value
    -> onOffice's answer)."""

    shown: dict[str, str] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)

    @classmethod
    def loads(cls, text: str | None) -> Learned:
        """What a ledger kept (``None`` or unreadable: nothing learned yet)."""
        try:
            raw = json.loads(text) if text else {}
        except ValueError:
            raw = {}
        raw = raw if isinstance(raw, dict) else {}
        return cls(_texts(raw.get("shown")), _texts(raw.get("refused")))

    def dumps(self) -> str:
        return json.dumps(
            {"shown": self.shown, "refused": self.refused}, ensure_ascii=False, sort_keys=True
        )

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
        self._confirm(value, self.shown.get(value) or value)

    def refused_with(self, value: str, answer: str) -> None:
        """onOffice refused a write for this type (unless it has shown the type: then the
        refusal had another cause)."""
        if value and value not in self.shown:
            self.refused[value] = answer

    def merge(self, other: Learned) -> None:
        for key, label in other.shown.items():
            self._confirm(key, label)
        for value, answer in other.refused.items():
            self.refused_with(value, answer)

    def _confirm(self, key: str, label: str) -> None:
        if not key:
            return
        if self.shown.get(key, key) == key:  # a label seen once is kept
            self.shown[key] = label
        self.refused.pop(key, None)

    def __bool__(self) -> bool:
        return bool(self.shown or self.refused)


def _texts(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items() if k} if isinstance(value, Mapping) else {}
