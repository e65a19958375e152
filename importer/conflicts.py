"""Double bookings: rows that would book an agent, a resource, an estate or a contact twice.

Two sources, both warnings (``--strict`` makes them errors):
- the file itself: overlapping rows that share a user, resource, estate or contact;
- onOffice: the `get appointmentConflicts` call per row (batched, read-only).
Rows that only touch (one ends when the next starts) do not conflict.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from . import contract
from .i18n import N_, _, ngettext
from .problems import Level, RowProblem

CODE = "double-booking"
_KINDS = {  # what the conflict call names -> (our word, the field it comes from)
    "conflictedUsers": ("agent", "subscribers.users"),
    "conflictedResources": ("resource", "ressources"),
    "conflictedEstates": ("estate", "relatedEstateId"),
    "conflictedAddresses": ("contact", "relatedAddressIds"),
}


# Double bookings in the user's words; the cell shows whom or what.
_ALSO_IN_ROW = {
    "agent": N_("double booking: this agent is also booked at this time in row {row} of the file"),
    "resource": N_(
        "double booking: this resource is also booked at this time in row {row} of the file"
    ),
    "estate": N_(
        "double booking: this estate also has an appointment at this time in row {row} of the file"
    ),
    "contact": N_(
        "double booking: this contact also has an appointment at this time in row {row} of the file"
    ),
}
_ALSO_IN_ONOFFICE = {
    "agent": N_("double booking: this agent already has an appointment in onOffice at this time"),
    "resource": N_("double booking: this resource is already booked in onOffice at this time"),
    "estate": N_("double booking: this estate already has an appointment in onOffice at this time"),
    "contact": N_(
        "double booking: this contact already has an appointment in onOffice at this time"
    ),
}


@runtime_checkable
class ConflictApi(Protocol):
    def send(self, actions: Sequence[Any]) -> list[Any]: ...


def _keys(params: dict[str, Any]) -> Iterable[tuple[str, Any]]:
    data = params.get("data", {})
    for user in params.get("subscribers", {}).get("users", []):
        yield "agent", user
    for resource in data.get("ressources", []):
        yield "resource", resource
    if params.get("relatedEstateId"):
        yield "estate", params["relatedEstateId"]
    for address in params.get("relatedAddressIds", []):
        yield "contact", address


def _columns(sources: dict[str, tuple[str, ...]], word: str) -> tuple[str, ...]:
    field = next(f for w, f in _KINDS.values() if w == word)
    return sources.get(field, ())


def within_file(
    rows: Sequence[tuple[int, dict[str, Any]]],
    sources: dict[str, tuple[str, ...]],
    level: Level = Level.WARNING,
) -> list[RowProblem]:
    """Overlapping rows of the file that share an agent, resource, estate or contact."""
    by_key: dict[tuple[str, Any], list[tuple[str, str, int]]] = defaultdict(list)
    for row, params in rows:
        data = params["data"]
        if data.get("ganztags"):
            continue  # all-day entries (holidays, fairs) are not bookings of a slot
        for key in _keys(params):
            by_key[key].append((data["start_dt"], data["end_dt"], row))
    problems: dict[tuple[int, str, Any], RowProblem] = {}
    for (word, value), slots in by_key.items():
        slots.sort()
        columns = _columns(sources, word)
        active: list[tuple[str, int]] = []  # (end, row) of earlier slots still running
        for start, end, row in slots:
            active = [(e, r) for e, r in active if e > start]
            for _end, other in active:
                for this, that in ((row, other), (other, row)):
                    if (this, word, value) not in problems:  # the first overlap found is named
                        problems[(this, word, value)] = RowProblem(
                            this,
                            columns,
                            CODE,
                            _(_ALSO_IN_ROW[word]).format(row=that),
                            value,
                            level,
                            None,
                        )
            active.append((end, row))
    return list(problems.values())


@dataclass
class OnOfficeCheck:
    """What asking onOffice found, and why it did not run (for all or some rows), if so."""

    problems: list[RowProblem] = field(default_factory=list)
    not_run: str | None = None


def in_onoffice(
    api: ConflictApi,
    rows: Sequence[tuple[int, dict[str, Any]]],
    sources: dict[str, tuple[str, ...]],
    level: Level = Level.WARNING,
) -> OnOfficeCheck:
    """Ask onOffice, per row, whom and what the appointment would double-book.

    A courtesy check: when onOffice cannot or will not answer it, the import goes on, and
    ``not_run`` says so once (a server without the call answers "unknown action" for every row,
    so the first such answer ends the asking).
    """
    from .client import Action, ActionResult
    from .errors import ActionRefused, ApiError

    found = OnOfficeCheck()
    unanswered, reason = 0, ""
    size = contract.LOOKUP_ACTIONS_PER_REQUEST
    for i in range(0, len(rows), size):
        chunk = rows[i : i + size]
        actions = [
            Action("get", "appointmentConflicts", params, identifier=f"conflicts-{row}")
            for row, params in chunk
        ]
        try:
            outcomes = api.send(actions)
        except ApiError as exc:
            unanswered, reason = unanswered + len(chunk), reason or str(exc)
            continue
        for (row, _params), outcome in zip(chunk, outcomes, strict=True):
            if isinstance(outcome, ActionRefused):
                unanswered, reason = unanswered + 1, reason or str(outcome)
                if outcome.errorcode in contract.UNKNOWN_ACTION_CODES:
                    found.not_run = _("onOffice does not offer it ({why})").format(why=outcome)
                    return found
                continue
            if isinstance(outcome, ActionResult):
                found.problems += _named_conflicts(row, outcome, sources, level)
    if unanswered:
        found.not_run = ngettext(
            "{n} of {total} row could not be checked ({why})",
            "{n} of {total} rows could not be checked ({why})",
            len(rows),
        ).format(n=unanswered, total=len(rows), why=reason)
    return found


def _named_conflicts(
    row: int, outcome: Any, sources: dict[str, tuple[str, ...]], level: Level
) -> list[RowProblem]:
    problems = []
    for record in outcome.records:
        word, _field = _KINDS.get(str(record.id), (None, None))
        elements = record.elements if isinstance(record.elements, list) else []
        for element in elements:
            if word and isinstance(element, dict):
                problems.append(
                    RowProblem(
                        row,
                        _columns(sources, word),
                        CODE,
                        _(_ALSO_IN_ONOFFICE[word]),
                        element.get("id"),
                        level,
                        None,
                    )
                )
    return problems
