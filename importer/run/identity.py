"""Which appointment a row is: the run's plan, from the file's rows and the previous version of
the list as onOffice (and this computer's ledger) hold it (:mod:`importer.run.state`).

:func:`plan` makes no network call. A row finds its appointment, in this order:

1. a choice the user made (``run --pair 7=2712``, the web app's question);
2. with ``key:`` in the mapping (a booking number, say), by the key's reference: whatever else
   in the row changes, on any computer;
3. by the Appointment ID of the results workbook it comes from;
4. by its content: an appointment of the list whose last write holds exactly this row (also
   after the file was re-sorted, or the mapping gained or lost a key), or any import's that
   carries the row's reference (another list's, or imported before stamps said the list);
5. as a diff pairs lines: rows recognised by 2-4 are anchors; between two anchors, an edited
   row takes the appointment at its place that it is plausibly the same viewing as (most like
   it: time, property, contacts, agents weigh most), and the one row left at the place of the
   one appointment left there that a person changed is its row (a conflict, never a second
   appointment); a row that moved *and* changed takes an appointment only when it is clearly
   like it and like no other, or when each is the other's only plausible candidate. Where two
   rows could each be the same appointment and nothing tells them apart (two look-alike rows
   changed at once), the row is ``ambiguous``: the plan asks, a run never guesses. An
   appointment an invalid row most plausibly is goes to no other row (:func:`_claimed`).

Then each valid row gets an action: ``create``; ``update`` (its appointment holds an earlier
version, written by this list and not changed in onOffice since); ``unchanged``; ``settle``
(an earlier run sent it and its answer was lost); ``duplicate`` (the same content as another
row, not sent without ``allow_duplicates``); ``conflict`` (its appointment was changed or
deleted in onOffice since the import's last write, or another list wrote it last: not
overwritten without ``force``); ``ambiguous``; or ``hold`` (whether its appointment still
exists cannot be told now). Appointments of the list that no row took are *removed*: cancelled
on request, unless an invalid row could be one of them (then kept, naming the row).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from typing import Any, Final

from ..core.i18n import _
from ..onoffice.readback import (
    Appointment,
    cancels,
    differences,
    fields_as_written,
    holds,
    text,
)
from ..onoffice.reference import read_stamp, reference, without_reference
from ..rules.payload import canonical
from . import journal as jr
from .journal import Entry
from .state import CHANGED, GONE, INTACT, UNSURE, Prior

CREATE, UPDATE, UNCHANGED, SETTLE, DUPLICATE = (
    "create",
    "update",
    "unchanged",
    "settle",
    "duplicate",
)
CONFLICT, AMBIGUOUS, HOLD = "conflict", "ambiguous", "hold"
OCCURRENCE: Final = "#"  # fp#2: the second row of one content, sent with allow_duplicates

# How much each aspect of a viewing says about which appointment a row is (of 16).
WEIGHTS: Final = {
    "day": 2,
    "time": 2,
    "property": 3,
    "contacts": 3,
    "agents": 2,
    "subject": 1,
    "type": 1,
    "note": 1,
    "resources": 1,
}
AT_PLACE: Final = 10  # at its place between two anchors: plausibly the same viewing
MOVED: Final = 13  # moved and changed: clearly the same viewing
CLEARLY: Final = 2  # a better match by at least this much is not a tie


@dataclass(frozen=True)
class Candidate:
    """One valid row, as the plan sees it."""

    row: int
    content: str  # the fingerprint of its parameters
    identity: str | None  # from the mapping's key columns, if it has them
    source_row: int  # the row in the original file (a results workbook keeps it)
    earlier_id: int | None  # the Appointment ID a results workbook gives it
    params: dict[str, Any]  # the row's create parameters (without the stamp)


@dataclass(frozen=True)
class Loose:
    """An invalid row: what of it could be read (its key, the fields that converted)."""

    row: int
    identity: str | None
    params: dict[str, Any]
    failed: frozenset[str] = frozenset()  # the fields that did not convert: not known
    # appointments whose rows stood beside it, valid, when it was invalid as it is now (this
    # computer's last run of the list): it is not the row of any of them
    beside: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Step:
    row: int
    action: str
    key: str  # the ledger key the row is kept under
    ref: str  # the reference its appointment carries
    prior: Prior | None = None  # the appointment it is the row of
    entry: Entry | None = None  # its ledger entry (a lost create to settle, or the prior's)
    how: str = ""  # key, content, appointment id, place, likeness, choice; "" when new
    changed: tuple[str, ...] = ()  # what differs from its appointment (found by likeness)
    note: str = ""  # why: conflict, ambiguous, hold
    same_as: int | None = None  # DUPLICATE: the row it repeats
    content: str = ""  # the fingerprint of the row's parameters, as the check computed it


@dataclass(frozen=True)
class Removed:
    """An appointment of the list whose row is no longer in the file."""

    prior: Prior
    held: str = ""  # why it is kept even when asked to cancel ("" when it may be cancelled)


@dataclass(frozen=True)
class Question:
    """Rows that could each be one of these appointments: the user says which."""

    rows: tuple[int, ...]
    appointments: tuple[int, ...]


@dataclass(frozen=True)
class Plan:
    steps: dict[int, Step]
    removed: list[Removed]
    questions: list[Question] = field(default_factory=list)
    recognised: int = 0  # rows that found an appointment of the list
    kept_for: dict[int, int] = field(default_factory=dict)  # appointment -> its invalid row

    def counts(self) -> Counter[str]:
        return Counter(step.action for step in self.steps.values())


# --- keys ----------------------------------------------------------------------------------------
def same_payload(a: dict[str, Any] | None, b: dict[str, Any]) -> bool:
    """The same content; the stamp the note ends with does not count."""
    return a is not None and canonical(without_reference(a)) == canonical(without_reference(b))


# --- likeness ------------------------------------------------------------------------------------
# The fields each aspect is read from.
_ASPECT_FIELDS: Final = {
    "day": ("start_dt",),
    "time": ("start_dt", "end_dt"),
    "property": ("relatedEstateId",),
    "contacts": ("relatedAddressIds",),
    "agents": ("subscribers.users",),
    "subject": ("description",),
    "type": ("art",),
    "note": ("note",),
    "resources": ("ressources",),
}


# The fields of a stamp's digests (readback.FIELDS) each aspect is written to.
_ASPECT_WRITTEN: Final = {
    "day": ("start",),
    "time": ("start", "end"),
    "property": ("property",),
    "contacts": ("contacts",),
    "agents": ("participants",),
    "subject": ("subject",),
    "type": ("type",),
    "note": ("note",),
    "resources": ("resources",),
}


def _row_aspects(params: dict[str, Any], failed: frozenset[str] | None) -> dict[str, str | None]:
    """A row's aspects as text; None where an invalid row does not tell (its ``failed``
    fields)."""
    data = params.get("data", {})
    start, end = data.get("start_dt"), data.get("end_dt")
    subscribers = params.get("subscribers") or {}
    aspects: dict[str, str | None] = {
        "day": str(start)[:10] if start else None,
        "time": f"{str(start)[11:]}-{str(end)[11:]}" if start and end else None,
        "property": _norm(params.get("relatedEstateId")),
        "contacts": _norm(params.get("relatedAddressIds")),
        "agents": _norm(subscribers.get("users")),
        "subject": _norm(data.get("description")),
        "type": _norm(data.get("art")),
        "note": _plain(str(data.get("note") or "")),
        "resources": _norm(data.get("ressources")),
    }
    if failed is not None:
        for name, fields in _ASPECT_FIELDS.items():
            if any(f in failed for f in fields):
                aspects[name] = None
    return aspects


def _norm(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(sorted(str(v) for v in value))
    return text(value) if isinstance(value, str) else str(value)


def _found_aspects(found: Appointment) -> dict[str, frozenset[str]]:
    return {
        "day": frozenset(start[:10] for start, _end in found.readings),
        "time": frozenset(f"{start[11:]}-{end[11:]}" for start, end in found.readings),
        "property": frozenset({_norm(sorted(found.estates, key=str))}),
        "contacts": frozenset({_norm(found.addresses)}),
        "agents": frozenset({_norm(found.people)}),
        "subject": frozenset({text(found.subject)}),
        "type": frozenset(found.types) or frozenset({""}),
        "note": frozenset({_plain(found.note)}),
        "resources": frozenset({_norm(found.resources)}),
    }


def _plain(note: str) -> str:
    from ..onoffice.readback import plain

    return plain(note)


@dataclass(frozen=True)
class Likeness:
    score: int  # the weight of the aspects that agree
    known: int  # the weight of the aspects the row tells
    differing: tuple[str, ...]


def likeness(
    params: dict[str, Any], found: Appointment, failed: frozenset[str] | None = None
) -> Likeness:
    """How much a row (its parameters) is like an appointment, aspect by aspect (``failed``:
    an invalid row's fields that did not convert, which say nothing). An aspect agrees where
    the appointment shows the row's value, or where its stamp says the import last wrote it:
    a person's change in onOffice makes a row no less its appointment's (on a computer without
    the ledger, the stamp is all that tells what was written)."""
    row = _row_aspects(params, failed)
    theirs = _found_aspects(found)
    stamp = read_stamp(found.note)
    written = fields_as_written(params, stamp.fields) if stamp is not None else frozenset()
    score, known, differing = 0, 0, []
    for name, weight in WEIGHTS.items():
        mine = row[name]
        if mine is None:
            continue
        if failed is not None and mine == "" and theirs[name] == {""}:
            continue  # of an invalid row, only what it says counts: empty beside empty says nothing
        known += weight
        if mine in theirs[name] or written.issuperset(_ASPECT_WRITTEN[name]):
            score += weight
        else:
            differing.append(name)
    return Likeness(score, known, tuple(differing))


# --- the plan ------------------------------------------------------------------------------------
class _Pairing:
    """The rows paired so far with their appointments, and the questions left."""

    def __init__(self) -> None:
        self.found: dict[int, tuple[Prior, str, tuple[str, ...]]] = {}  # row -> prior, how
        self.used: set[int] = set()  # appointment ids taken
        self.asked: dict[int, Question] = {}  # row -> its question
        self.new: set[int] = set()  # rows the user said are new
        self.held: dict[int, int] = {}  # appointment -> the invalid row it is kept for

    def take(self, row: int, prior: Prior, how: str, changed: tuple[str, ...] = ()) -> None:
        self.found[row] = (prior, how, changed)
        self.used.add(prior.appointment_id)

    def free(self, prior: Prior) -> bool:
        return prior.appointment_id not in self.used

    def takeable(self, prior: Prior) -> bool:
        """Free, and no invalid row's to be (:func:`_claimed`)."""
        return prior.appointment_id not in self.used and prior.appointment_id not in self.held

    def open(self, row: int) -> bool:
        return row not in self.found and row not in self.asked and row not in self.new


def _fits(c: Candidate, prior: Prior) -> bool:
    """A keyed row takes its own key's appointment, or one made without a key (the mapping
    gained one); never another key's."""
    return c.identity is None or not prior.keyed or prior.ref == reference(c.identity)


def plan(
    candidates: Sequence[Candidate],
    priors: Sequence[Prior],
    by_ref: Mapping[str, Sequence[Prior]],
    entries: Mapping[str, Entry],
    *,
    loose: Sequence[Loose] = (),
    allow_duplicates: bool = False,
    force: bool = False,
    choices: Mapping[int, int | None] | None = None,
) -> Plan:
    """What a run does with each valid row, and which appointments of the list lost their row
    (see the module's doc)."""
    pairing = _Pairing()
    everything = {
        p.appointment_id: p for p in [*priors, *(q for ps in by_ref.values() for q in ps)]
    }
    notes = _choose(candidates, everything, pairing, choices or {})
    _by_key(candidates, by_ref, priors, pairing)
    _by_appointment_id(candidates, everything, pairing)
    _by_content(candidates, priors, by_ref, pairing)
    ours = [p for p in priors if p.ours]
    # With no row as it was, the file may be another list saved under the same name (a new
    # month's): then an edited row takes an appointment only at the same day and time and
    # clearly like it (every subject rewritten, or the mapping's template changed).
    anchored = any(prior.ours for prior, _how, _c in pairing.found.values())
    pairing.held = _claimed(loose, [c for c in candidates if pairing.open(c.row)], ours, pairing)
    blocks = _by_place(candidates, loose, ours, pairing, anchored)
    if anchored:
        _by_neighbours(candidates, loose, ours, pairing)
    _by_likeness(candidates, ours, pairing, anchored)
    if anchored:
        _changed_nearby(candidates, loose, ours, pairing)
    steps = _steps(candidates, pairing, entries, allow_duplicates, force, notes)
    recognised = sum(1 for prior, _how, _c in pairing.found.values() if prior.ours)
    removed = _removed(ours, pairing, loose, blocks, recognised)
    questions = list({id(q): q for q in pairing.asked.values()}.values())
    return Plan(steps, removed, questions, recognised, dict(pairing.held))


def _choose(
    candidates: Sequence[Candidate],
    everything: Mapping[int, Prior],
    pairing: _Pairing,
    choices: Mapping[int, int | None],
) -> dict[int, str]:
    """The user's own pairings: a row -> an appointment, or -> a new one (None)."""
    notes: dict[int, str] = {}
    rows = {c.row for c in candidates}
    for row, appointment in choices.items():
        if row not in rows:
            continue
        if appointment is None:
            pairing.new.add(row)
            continue
        prior = everything.get(appointment)
        if prior is None or not pairing.free(prior):
            notes[row] = _(
                "appointment {id} is not an appointment of this list that no other row has; "
                "choose another"
            ).format(id=appointment)
            pairing.new.add(row)
            continue
        pairing.take(row, prior, "choice")
    return notes


def _by_key(
    candidates: Sequence[Candidate],
    by_ref: Mapping[str, Sequence[Prior]],
    priors: Sequence[Prior],
    pairing: _Pairing,
) -> None:
    ledger_only = {p.entry.fingerprint: p for p in priors if p.stamp is None and p.entry}
    for c in candidates:
        if c.identity is None or not pairing.open(c.row):
            continue
        pool = [p for p in by_ref.get(reference(c.identity), []) if pairing.free(p)]
        if c.identity in ledger_only and pairing.free(ledger_only[c.identity]):
            pool.append(ledger_only[c.identity])
        if pool:
            best = min(pool, key=lambda p: (not p.ours, not p.active, p.appointment_id))
            pairing.take(c.row, best, "key")


def _by_appointment_id(
    candidates: Sequence[Candidate], everything: Mapping[int, Prior], pairing: _Pairing
) -> None:
    for c in candidates:
        if c.earlier_id is None or not pairing.open(c.row):
            continue
        prior = everything.get(c.earlier_id)
        if prior is not None and pairing.free(prior) and _fits(c, prior):
            pairing.take(c.row, prior, "appointment id")


def _by_content(
    candidates: Sequence[Candidate],
    priors: Sequence[Prior],
    by_ref: Mapping[str, Sequence[Prior]],
    pairing: _Pairing,
) -> None:
    """Rows of one content and the appointments holding it: each row its own place's first,
    then the rest in the list's order; the list's own before any import's by reference."""
    groups: dict[str, list[Candidate]] = {}
    for c in candidates:
        if pairing.open(c.row):
            groups.setdefault(c.content, []).append(c)
    by_content: dict[str, list[Prior]] = {}
    for p in priors:
        if p.ours and p.content:
            by_content.setdefault(p.content, []).append(p)
    for content, rows in groups.items():
        natural = [reference(content)] + [
            reference(f"{content}{OCCURRENCE}{n}") for n in range(2, len(rows) + 2)
        ]
        pool = [p for p in by_content.get(content[:12], []) if pairing.free(p)]
        pool += [
            p
            for ref in natural
            for p in by_ref.get(ref, [])
            if pairing.free(p) and p not in pool and (p.content in (None, content[:12]))
        ]
        pool.sort(key=lambda p: (not p.ours, not p.active, p.row or 0, p.appointment_id))
        for c in rows:
            own = next((p for p in pool if p.row == c.source_row and _fits(c, p)), None)
            if own is not None:
                pairing.take(c.row, own, "content")
                pool.remove(own)
        for c in rows:
            if not pairing.open(c.row):
                continue
            fit = next((p for p in pool if _fits(c, p)), None)
            if fit is not None:
                pairing.take(c.row, fit, "content")
                pool.remove(fit)


@dataclass
class _Blocks:
    """Which stretch of the list (between two anchors) each appointment and row stands in."""

    of_prior: dict[int, int] = field(default_factory=dict)
    of_row: dict[int, int] = field(default_factory=dict)


def _by_place(
    candidates: Sequence[Candidate],
    loose: Sequence[Loose],
    ours: Sequence[Prior],
    pairing: _Pairing,
    anchored: bool,
) -> _Blocks:
    """Pair edited rows between anchors, as a diff pairs replaced lines (SequenceMatcher)."""
    old = sorted(ours, key=lambda p: (p.row if p.row is not None else 10**9, p.appointment_id))
    old_tokens = [
        ("A", p.appointment_id) if not pairing.free(p) else ("O", p.appointment_id) for p in old
    ]
    valid = {c.row: c for c in candidates}
    invalid = {lr.row: lr for lr in loose}
    rows = sorted([*valid, *invalid])
    anchor = {row: prior.appointment_id for row, (prior, _h, _c) in pairing.found.items()}
    new_tokens = [("A", anchor[r]) if r in anchor else ("R", r) for r in rows]
    blocks = _Blocks()
    matcher = SequenceMatcher(None, old_tokens, new_tokens, autojunk=False)
    for n, (tag, i1, i2, j1, j2) in enumerate(matcher.get_opcodes()):
        if tag == "equal":
            continue
        olds = [p for p in old[i1:i2] if pairing.free(p)]
        for p in olds:
            blocks.of_prior[p.appointment_id] = n
        for r in rows[j1:j2]:
            blocks.of_row[r] = n
        news = [valid[r] for r in rows[j1:j2] if r in valid and pairing.open(r)]
        olds = [p for p in olds if pairing.takeable(p)]
        active = [p for p in olds if p.active]
        if news and active:
            square = len(news) == len(active) and not any(r in invalid for r in rows[j1:j2])
            _pair_block(news, active, square, pairing, anchored)
        if anchored and not any(r in invalid for r in rows[j1:j2]):
            _changed_at_place(news, olds, pairing)
    return blocks


def _changed_at_place(rows: Sequence[Candidate], olds: Sequence[Prior], pairing: _Pairing) -> None:
    """The one row left at the place of the one appointment left there, which a person changed
    in onOffice: however little they are alike now (the person moved it, the file changed the
    prospect), they are the same viewing; paired, the row is a conflict, never a second
    appointment beside the person's."""
    left = [c for c in rows if pairing.open(c.row)]
    free = [p for p in olds if pairing.takeable(p) and p.found is not None]
    if len(left) != 1 or len(free) != 1:
        return
    (row,), (prior,) = left, free
    if prior.condition == CHANGED and prior.found is not None and _fits(row, prior):
        pairing.take(row.row, prior, "place", likeness(row.params, prior.found).differing)


def _claimed(
    loose: Sequence[Loose], rows: Sequence[Candidate], ours: Sequence[Prior], pairing: _Pairing
) -> dict[int, int]:
    """The appointments an invalid row is (its key), or is plausibly, most like of all, and at
    least as much like as any valid row still open: kept for it, never given to another row (a
    date mistyped in the round a look-alike was inserted below it), by the invalid row."""
    out: dict[int, int] = {}
    olds = [p for p in ours if pairing.free(p) and p.found is not None]
    for lr in loose:
        best: list[tuple[Likeness, Prior]] = []
        for p in olds:
            assert p.found is not None
            if lr.identity is not None and p.ref == reference(lr.identity):
                out[p.appointment_id] = lr.row
            elif not p.keyed and p.appointment_id not in lr.beside:
                like = likeness(lr.params, p.found, lr.failed)
                if _plausible(like):
                    best.append((like, p))
        top = max((like.score / like.known for like, _p in best), default=0.0)
        for like, p in best:
            assert p.found is not None
            valid = [likeness(c.params, p.found) for c in rows if _fits(c, p)]
            if like.score / like.known == top and all(
                like.score * v.known >= v.score * like.known for v in valid
            ):
                out[p.appointment_id] = lr.row
    return out


def _plausible(like: Likeness) -> bool:
    """Enough of an invalid row reads to tell, and that much agrees: plausibly the viewing."""
    total = sum(WEIGHTS.values())
    return like.known * 2 >= total and like.score * total >= like.known * AT_PLACE


def _by_neighbours(
    candidates: Sequence[Candidate],
    loose: Sequence[Loose],
    ours: Sequence[Prior],
    pairing: _Pairing,
) -> None:
    """Rows still open whose two nearest recognised rows are the two that stood around an
    appointment (in either order: the list was re-sorted since) are at its place."""
    anchor = {row: prior.appointment_id for row, (prior, _h, _c) in pairing.found.items()}
    if not anchor:
        return
    rows = sorted({*(c.row for c in candidates), *(lr.row for lr in loose)})
    old = sorted(
        (p for p in ours if p.row is not None), key=lambda p: (p.row or 0, p.appointment_id)
    )
    by_place: dict[frozenset[int | None], tuple[list[Candidate], list[Prior]]] = {}
    valid = {c.row: c for c in candidates}
    for i, row in enumerate(rows):
        if row in valid and pairing.open(row):
            around = _around([anchor.get(r) for r in rows], i)
            by_place.setdefault(around, ([], []))[0].append(valid[row])
    held = [None if pairing.free(p) else p.appointment_id for p in old]
    for i, p in enumerate(old):
        if pairing.takeable(p) and (p.active or p.condition == CHANGED):
            by_place.setdefault(_around(held, i), ([], []))[1].append(p)
    for news, olds in by_place.values():
        active = [p for p in olds if p.active]
        if news and active:
            _pair_block(news, active, len(news) == len(active) == 1, pairing, True)
        _changed_at_place(news, olds, pairing)


def _changed_nearby(
    candidates: Sequence[Candidate],
    loose: Sequence[Loose],
    ours: Sequence[Prior],
    pairing: _Pairing,
) -> None:
    """An appointment a person changed, still without a row, and the one row still open beside
    one of the rows that stood beside it (its place as far as the rows known tell, whatever row
    numbers the stamps kept): paired when each is the other's only one and no invalid row
    stands there too, so the row is a conflict, never a second appointment."""
    anchor = {row: prior.appointment_id for row, (prior, _h, _c) in pairing.found.items()}
    rows = sorted({*(c.row for c in candidates), *(lr.row for lr in loose)})
    valid = {c.row: c for c in candidates}
    marks = [anchor.get(r) for r in rows]
    beside = {
        row: _around(marks, i) - {None}
        for i, row in enumerate(rows)
        if row not in anchor and (row not in valid or pairing.open(row))
    }
    old = sorted(
        (p for p in ours if p.row is not None), key=lambda p: (p.row or 0, p.appointment_id)
    )
    held = [None if pairing.free(p) else p.appointment_id for p in old]
    pairs = [
        (row, p)
        for i, p in enumerate(old)
        if pairing.takeable(p) and p.condition == CHANGED and p.found is not None
        for row, near in beside.items()
        if near & _around(held, i)
    ]
    for row, p in pairs:
        if (
            row in valid
            and sum(1 for r, _p in pairs if r == row) == 1
            and sum(1 for _r, q in pairs if q is p) == 1
            and _fits(valid[row], p)
            and pairing.open(row)
        ):
            assert p.found is not None
            pairing.take(row, p, "place", likeness(valid[row].params, p.found).differing)


def _around(anchors: Sequence[int | None], i: int) -> frozenset[int | None]:
    """The nearest anchors above and below place ``i`` (None at an end of the list)."""
    above = next((a for a in reversed(anchors[:i]) if a is not None), None)
    below = next((a for a in anchors[i + 1 :] if a is not None), None)
    return frozenset({above, below})


def _pair_block(
    rows: list[Candidate], olds: list[Prior], square: bool, pairing: _Pairing, anchored: bool
) -> None:
    """The best pairs of one stretch, by likeness; ties broken by place only where the
    stretch has as many rows as appointments (rows edited in place), else asked."""
    scored: dict[tuple[int, int], Likeness] = {}
    for c in rows:
        for p in olds:
            if p.found is not None and _fits(c, p):
                like = likeness(c.params, p.found)
                if like.score >= AT_PLACE if anchored else _same_slot(like):
                    scored[(c.row, p.appointment_id)] = like
    place = {c.row: i for i, c in enumerate(rows)} | {
        p.appointment_id: i for i, p in enumerate(olds)
    }
    by_id = {p.appointment_id: p for p in olds}
    while True:
        open_pairs = {
            k: v
            for k, v in scored.items()
            if pairing.open(k[0]) and k[1] not in pairing.used and k[0] not in pairing.asked
        }
        if not open_pairs:
            return
        best = max(v.score for v in open_pairs.values())
        top = [k for k, v in open_pairs.items() if v.score > best - CLEARLY]
        chosen = _untied(top, open_pairs, best)
        if chosen is None and square:
            chosen = next(
                (k for k in top if place[k[0]] == place[k[1]] and open_pairs[k].score == best), None
            )
        if chosen is None:
            _ask(_tied(top, open_pairs, best), pairing)
            continue
        row, appointment = chosen
        pairing.take(row, by_id[appointment], "place", open_pairs[chosen].differing)


def _untied(
    top: list[tuple[int, int]], scored: Mapping[tuple[int, int], Likeness], best: int
) -> tuple[int, int] | None:
    """The best pair when nothing comes close to it for its row or its appointment."""
    winners = [k for k in top if scored[k].score == best]
    for k in winners:
        rivals = [o for o in top if o != k and (o[0] == k[0] or o[1] == k[1])]
        if not rivals:
            return k
    return None


def _tied(
    top: list[tuple[int, int]], scored: Mapping[tuple[int, int], Likeness], best: int
) -> list[tuple[int, int]]:
    """The pairs tied with the best one, through shared rows or appointments."""
    start = next(k for k in top if scored[k].score == best)
    component, grew = {start}, True
    while grew:
        more = {
            o
            for o in top
            if o not in component and any(o[0] == k[0] or o[1] == k[1] for k in component)
        }
        component |= more
        grew = bool(more)
    return sorted(component)


def _ask(top: list[tuple[int, int]], pairing: _Pairing) -> None:
    """The rows and appointments of a tie become one question; none of them is paired."""
    rows = tuple(sorted({r for r, _a in top}))
    appointments = tuple(sorted({a for _r, a in top}))
    question = Question(rows, appointments)
    for r in rows:
        pairing.asked[r] = question
    pairing.used.update(appointments)


def _same_slot(like: Likeness) -> bool:
    """Clearly the same viewing, at the same day and time."""
    return like.score >= MOVED and not {"day", "time"} & set(like.differing)


def _by_likeness(
    candidates: Sequence[Candidate], ours: Sequence[Prior], pairing: _Pairing, anchored: bool
) -> None:
    """A row that moved and changed: the appointment clearly like it and like no other row."""
    rows = [c for c in candidates if pairing.open(c.row)]
    olds = [p for p in ours if pairing.takeable(p) and p.active and p.found is not None]
    scored = {
        (c.row, p.appointment_id): likeness(c.params, p.found)
        for c in rows
        for p in olds
        if p.found is not None and _fits(c, p)
    }
    strong = {k: v for k, v in scored.items() if (v.score >= MOVED if anchored else _same_slot(v))}
    if anchored:  # the only candidate, for the row and for the appointment: the same viewing
        plausible = [k for k, v in scored.items() if v.score >= AT_PLACE]
        rows_of = Counter(r for r, _a in plausible)
        olds_of = Counter(a for _r, a in plausible)
        strong |= {
            (r, a): scored[(r, a)] for r, a in plausible if rows_of[r] == 1 and olds_of[a] == 1
        }
    by_id = {p.appointment_id: p for p in olds}
    for (row, appointment), like in sorted(strong.items(), key=lambda kv: -kv[1].score):
        rivals = [
            v.score
            for (r, a), v in scored.items()
            if (r == row) != (a == appointment) and (r == row or a == appointment)
        ]
        if rivals and max(rivals) > like.score - CLEARLY:
            continue
        if pairing.open(row) and appointment not in pairing.used:
            pairing.take(row, by_id[appointment], "likeness", like.differing)


# --- actions -------------------------------------------------------------------------------------
def _steps(
    candidates: Sequence[Candidate],
    pairing: _Pairing,
    entries: Mapping[str, Entry],
    allow_duplicates: bool,
    force: bool,
    notes: Mapping[int, str],
) -> dict[int, Step]:
    steps: dict[int, Step] = {}
    # keys that name an appointment (or are some row's now) are not a new row's to take
    used_keys = {k for k, e in entries.items() if e.appointment_id is not None}
    for c in candidates:
        if c.row in pairing.found:
            prior, how, changed = pairing.found[c.row]
            step = decide(c, prior, how, force, changed)
        elif c.row in pairing.asked:
            step = Step(c.row, AMBIGUOUS, "", "", note=_ambiguous(pairing.asked[c.row]))
        elif c.row in notes:
            step = Step(c.row, AMBIGUOUS, "", "", note=notes[c.row])
        else:
            step = Step(c.row, CREATE, c.identity or "", "", content=c.content)
        steps[c.row] = step
        if step.key:
            used_keys.add(step.key)
    first: dict[str, int] = {}
    for c in candidates:
        step = steps[c.row]
        # a new row, or one edited into a copy of another: a duplicate (a row known as an
        # allowed duplicate stays what it is)
        fresh = (step.action == CREATE and step.prior is None) or step.action == UPDATE
        if c.identity is None and c.content in first and fresh and not allow_duplicates:
            steps[c.row] = Step(c.row, DUPLICATE, "", "", same_as=first[c.content])
            continue
        first.setdefault(c.content, c.row)
        if not step.key and step.action != AMBIGUOUS:
            key = _free_key(c.content, used_keys)
            used_keys.add(key)
            step = replace(step, key=key)
        steps[c.row] = _settled_first(step, entries)
    return steps


def _settled_first(step: Step, entries: Mapping[str, Entry]) -> Step:
    """A new row whose key has a create in the ledger that was sent but never answered is
    settled first (read back; sent again only when surely absent)."""
    entry = entries.get(step.key) if step.key else None
    ref = step.ref or (reference(step.key) if step.key else "")
    if step.action == CREATE and step.prior is None and entry is not None:
        action = SETTLE if entry.state in (jr.SENDING, jr.UNKNOWN) else CREATE
        return Step(
            step.row, action, step.key, reference(step.key), entry=entry, content=step.content
        )
    return step if ref == step.ref else replace(step, ref=ref)


def _free_key(content: str, used: set[str]) -> str:
    key, n = content, 1
    while key in used:
        n += 1
        key = f"{content}{OCCURRENCE}{n}"
    return key


def decide(
    c: Candidate, prior: Prior, how: str, force: bool = False, changed: tuple[str, ...] = ()
) -> Step:
    """What to do with a row and the appointment it is the row of (``how`` it was found)."""
    entry = prior.entry
    key = c.identity or (entry.fingerprint if entry is not None else "")
    ref = reference(c.identity) if c.identity else (prior.ref or "")

    def step(action: str, note: str = "") -> Step:
        return Step(c.row, action, key, ref, prior, entry, how, changed, note, content=c.content)

    appointment = prior.appointment_id
    if prior.condition == GONE:
        if (entry is not None and entry.state == jr.UNDONE) or force:
            return Step(c.row, CREATE, key, "", None, entry, how, content=c.content)  # sent anew
        return step(
            CONFLICT,
            _(
                "appointment {id} was deleted in onOffice; not created again (use --force to "
                "create it again)"
            ).format(id=appointment),
        )
    if prior.found is None:  # UNSURE: it could not be read
        return step(
            HOLD,
            _("whether appointment {id} still exists cannot be told now; run again").format(
                id=appointment
            ),
        )
    rekey = c.identity is not None and prior.ref != reference(c.identity)
    # the row may write over the import's last write: its list's, or chosen; a key of this
    # list's may also take an appointment imported before stamps named the list (another
    # list's that shares key values is that list's)
    said = prior.stamp is not None and prior.stamp.complete
    entitled = prior.ours or how == "choice" or (c.identity is not None and not said)
    if prior.condition == INTACT and prior.content is not None and entitled:
        if prior.cancelled and not cancels(c.params.get("data", {})):  # the import cancelled it
            return step(UPDATE, _("cancelled earlier by the import: active again"))
        same = prior.content == c.content[:12]
        return step(UNCHANGED if same and not rekey else UPDATE)
    if holds(prior.found, c.params) and not rekey:
        return step(UNCHANGED)  # whatever happened, it holds the row
    if (prior.condition == INTACT and entitled) or force:
        return step(UPDATE)
    return step(CONFLICT, _conflict(prior, keyed=c.identity is not None))


def _conflict(prior: Prior, keyed: bool = False) -> str:
    appointment = prior.appointment_id
    if prior.condition == INTACT and keyed:  # another list's, with this row's key
        return _(
            "appointment {id} has this row's key but was last written from another list; not "
            "overwritten: if this file is that list under a new name, run with --force; if "
            "the lists only share key values, give this list keys of its own"
        ).format(id=appointment)
    if prior.condition == INTACT:  # another list wrote it last
        return _(
            "appointment {id} was last written from another list; not overwritten (use --force "
            "to write this row over it)"
        ).format(id=appointment)
    if prior.cancelled:
        return _(
            "appointment {id} was cancelled in onOffice since the import; not overwritten (use "
            "--force to write the row over it)"
        ).format(id=appointment)
    if prior.condition == CHANGED:
        written = prior.entry.payload if prior.entry is not None else None
        changes = prior.changes
        if not changes and written and prior.found is not None:
            changes = differences(prior.found, written)
        if changes:
            return _(
                "appointment {id} was changed in onOffice since the import's last write "
                "({changes}); not overwritten (use --force to write the row over it)"
            ).format(id=appointment, changes=", ".join(changes))
        return _(
            "appointment {id} was changed in onOffice since the import's last write; not "
            "overwritten (use --force to write the row over it)"
        ).format(id=appointment)
    assert prior.condition == UNSURE
    return _(
        "appointment {id} holds something else, and nothing here tells whether the row or the "
        "appointment changed; not overwritten (use --force to write the row over it)"
    ).format(id=appointment)


def _ambiguous(question: Question) -> str:
    rows = ", ".join(str(r) for r in question.rows)
    ids = ", ".join(str(a) for a in question.appointments)
    return _(
        "rows {rows} could each be appointment {ids}: nothing tells which; say which (web app, "
        "or run --pair ROW=ID, or --pair ROW=new), or give the mapping a key"
    ).format(rows=rows, ids=ids)


# --- removed -------------------------------------------------------------------------------------
def _removed(
    ours: Sequence[Prior],
    pairing: _Pairing,
    loose: Sequence[Loose],
    blocks: _Blocks,
    recognised: int,
) -> list[Removed]:
    asked = {a for q in pairing.asked.values() for a in q.appointments}
    left = [
        p
        for p in ours
        if (pairing.free(p) or p.appointment_id in asked)
        and not (p.condition == INTACT and p.cancelled)
        and not (p.entry is not None and p.entry.state == jr.UNDONE)
    ]
    if not left:
        return []
    out = []
    for p in sorted(left, key=lambda p: (p.row or 0, p.appointment_id)):
        held = ""
        if p.appointment_id in asked:
            held = _("a row of the file may be its row (see the ambiguous rows)")
        elif not recognised and p.active:
            held = _(
                "no row of this file was imported before: it looks like another list saved "
                "under the same name, so nothing is cancelled"
            )
        elif rows := _invalid_rows_for(p, loose, blocks):
            held = _(
                "row {rows} of the file is invalid and may be its row; fix it, then run again"
            ).format(rows=", ".join(str(r) for r in rows))
        out.append(Removed(p, held))
    return out


def _invalid_rows_for(prior: Prior, loose: Iterable[Loose], blocks: _Blocks) -> list[int]:
    """Invalid rows that could be the row of an appointment whose row seems gone: its key, its
    place between the same anchors, or plausibly the same viewing as far as the row reads."""
    out = []
    block = blocks.of_prior.get(prior.appointment_id)
    for lr in loose:
        if lr.identity is not None and prior.ref == reference(lr.identity):
            out.append(lr.row)
            continue
        # a keyed appointment is its key's row's alone; one made without a key may be a keyed
        # row's (the mapping gained a key)
        if prior.keyed or prior.appointment_id in lr.beside:
            continue
        at_place = block is not None and blocks.of_row.get(lr.row) == block
        found = prior.found
        if at_place or (found is not None and _plausible(likeness(lr.params, found, lr.failed))):
            out.append(lr.row)
    return out
