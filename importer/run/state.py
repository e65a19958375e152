"""What onOffice holds of a list: the previous version of the list, rebuilt before a run.

The state that decides lives in onOffice, where every computer sees it: each appointment an
import wrote carries its stamp (:mod:`importer.onoffice.reference`: the row's identity, the list
and row it was written from, what was written, and by which run). :func:`read_state` reads

- every appointment on the days of the file's rows (one period read, split by the 500 cap):
  the list's appointments there, any import's appointment a row's reference names, and the
  calendar the double-booking check compares with;
- the list's appointments on other days (a read filtered on the list's stamp, a year either
  side): rows deleted from the file whose appointments lie outside the rows' days;
- the appointments this computer's ledger knows of the list and neither read showed, by id.

Each of the list's appointments becomes a :class:`Prior`: where it stands now, whether it still
holds the import's last write (``intact``: its read gives the stamp's digest, on any computer)
or was changed in onOffice (``changed``), was deleted (``gone``), or cannot be told (``unsure``).
The ledger adds what only this computer knows: writes in flight, and the payload last written
where the stamp is of an earlier version (or ``options.reference`` is off).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

from ..core import contract
from ..core.errors import ActionRefused, ApiError, OutcomeUnknown
from ..onoffice.client import OnOfficeClient
from ..onoffice.form import form_of, learn_types, normalised, unseen_notice
from ..onoffice.readback import (
    Appointment,
    Who,
    changed_fields,
    days_of,
    find_appointment,
    holds,
    read_ids,
    read_period,
    seen_digests,
    shown_field_digests,
    stamp_holds,
    with_field,
    written_among,
)
from ..onoffice.reference import (
    Stamp,
    list_filter,
    list_tag,
    read_stamp,
    reference,
    with_stamp,
)
from ..rules.keys import KEY_PREFIX
from .journal import CREATED, SENDING, UNDONE, UNKNOWN, Entry, entry_content, entry_list

INTACT, CHANGED, GONE, UNSURE = "intact", "changed", "gone", "unsure"
# How far either side of the rows' days the list's other appointments are looked for.
LIST_WINDOW_DAYS: Final = 400
# Another run of the list counts as running while it wrote within this many seconds.
RUNNING_WITHIN_SECONDS: Final = 120


@dataclass(frozen=True)
class Prior:
    """An appointment an import wrote for a row, as it stands now."""

    appointment_id: int
    found: Appointment | None  # as read now; None when it is gone (or could not be read)
    stamp: Stamp | None  # the import's stamp in its note
    entry: Entry | None  # this computer's ledger entry for it, when there is one
    condition: str  # INTACT, CHANGED, GONE or UNSURE
    ours: bool  # written from this list (else another list's, named by a row's reference)

    @property
    def ref(self) -> str | None:
        if self.stamp is not None:
            return self.stamp.ref
        return reference(self.entry.fingerprint) if self.entry is not None else None

    @property
    def keyed(self) -> bool:
        """Its reference comes from a mapping's key columns."""
        if self.stamp is not None and self.stamp.complete:
            return self.stamp.keyed
        return self.entry is not None and self.entry.fingerprint.startswith(KEY_PREFIX)

    @property
    def content(self) -> str | None:
        """The fingerprint (12 hex) of the row content the import last wrote, when known."""
        if self.stamp is not None and self.stamp.complete:
            return self.stamp.content
        content = entry_content(self.entry) if self.entry is not None else None
        return content[:12] if content else None

    @property
    def row(self) -> int | None:
        """Where its row stood when it was last written (or seen, by this computer)."""
        entry, stamp = self.entry, self.stamp
        if entry is not None and (
            stamp is None
            or not stamp.complete
            or (entry_content(entry) or "")[:12] == stamp.content
        ):
            return entry.source_row
        return stamp.row if stamp is not None else None

    @property
    def changes(self) -> list[str]:
        """The fields a person changed, as the stamp's field digests tell ([] when unknown)."""
        if self.found is None or self.stamp is None or not self.stamp.fields:
            return []
        return changed_fields(self.found, self.stamp.fields) or []

    @property
    def cancelled(self) -> bool:
        return self.found is not None and self.found.cancelled

    @property
    def active(self) -> bool:
        return self.found is not None and not self.found.cancelled


@dataclass
class State:
    """The previous version of a list, and what else the rows' days hold."""

    list_name: str
    list_tag: str
    priors: list[Prior]  # the list's appointments, and other imports' a row's reference names
    by_ref: dict[str, list[Prior]]  # every import appointment read, by its reference
    calendar: list[Appointment]  # every appointment of the rows' days (double bookings)
    complete: bool  # the rows' days were read completely: a reference not seen is absent
    list_complete: bool  # every appointment of the list was seen
    reads: int
    since: datetime  # the server's time (UTC) when the reads began: later changes are new
    running: dict[str, str] = field(default_factory=dict)  # other runs writing it: run -> when
    unseen: str | None = None  # which kinds of change this account's reads cannot show

    def prior(self, appointment_id: int) -> Prior | None:
        return next((p for p in self.priors if p.appointment_id == appointment_id), None)


def condition(found: Appointment | None, stamp: Stamp | None, entry: Entry | None) -> str:
    """Whether an import's appointment still holds the import's last write (see the module)."""
    if found is None:
        return GONE
    if entry is not None and entry.state == UNDONE and found.cancelled:
        return INTACT  # cancelled by an undo or by a run (its row had left the file)
    untold = False
    if stamp is not None and stamp.complete:
        held = stamp_holds(found, stamp.fields, stamp.seen)
        if held is not None:
            return INTACT if held else CHANGED
        untold = True  # group members listed among the participants (§5.1)
    if entry is not None and entry.payload:
        written = [p for p in (entry.payload, entry.pending) if p]
        if not any(holds(found, p) for p in written):
            return CHANGED
        # where the stamp cannot tell, the payload's participants are only found among the
        # listed ones: a participant a person added is not seen (README, Limits)
        return UNSURE if untold else INTACT
    return UNSURE


def restamped(found: Appointment, *, cancelled: bool, run: str, at: int) -> dict[str, Any]:
    """The `data` of a modify that cancels (or makes active again) an import's appointment,
    with its stamp saying that the import did: no computer takes it for a person's change."""
    data: dict[str, Any] = {"status": "canceled" if cancelled else "active"}
    stamp = read_stamp(found.note)
    if stamp is not None and stamp.complete:
        seen = min(seen_digests(replace(found, cancelled=cancelled)), default=stamp.seen)
        each = with_field(stamp.fields, "cancelled", cancelled)
        data["note"] = _restamped_note(
            found, replace(stamp, seen=seen, run=run, at=at, fields=each)
        )
    return data


def _restamped_note(found: Appointment, stamp: Stamp) -> str:
    """The appointment's note with ``stamp`` in place of the one it has."""
    return str(with_stamp({"data": {"note": found.note}}, stamp)["data"]["note"])


RETIRED_CONTENT: Final = "0" * 12  # the content of a stamp no row's content ever equals


def retired(found: Appointment, *, run: str, at: int) -> dict[str, Any]:
    """The `data` of a modify that cancels an import's appointment that no row is to take
    again (its row was given a new one): its stamp keeps the list, with a reference and a
    content of its own, and says what it holds now, so that no computer takes it for a row's
    or for a person's change (and undo still finds it by the list)."""
    stamp = read_stamp(found.note)
    if stamp is None or not stamp.complete:
        return {"status": "canceled"}
    cancelled = replace(found, cancelled=True)
    retiring = replace(
        stamp,
        ref=reference(f"retired:{found.series}"),
        content=RETIRED_CONTENT,
        seen=min(seen_digests(cancelled), default=stamp.seen),
        run=run,
        at=at,
        fields=shown_field_digests(cancelled),
    )
    return {"status": "canceled", "note": _restamped_note(found, retiring)}


def collapse(appointments: Iterable[Appointment]) -> dict[int, Appointment]:
    """One appointment per id: a series read once per occurrence is its first occurrence."""
    out: dict[int, Appointment] = {}
    for a in appointments:
        if not isinstance(a.series, int):
            continue
        kept = out.get(a.series)
        if kept is None or min(a.starts, default="") < min(kept.starts, default=""):
            out[a.series] = a
    return out


@dataclass(frozen=True)
class Wanted:
    """What a state read is asked about: the list, and the rows of the file."""

    list_name: str
    run: str  # this run's id (8 hex)
    payloads: Sequence[dict[str, Any]]  # the valid rows' parameters (their days, agents)
    entries: Mapping[str, Entry]  # this computer's ledger of the account
    named: Sequence[int] = ()  # appointment ids a results workbook names
    today: date | None = None
    # the valid rows' parameters by their fingerprint (12 hex, as stamped): what was written
    # to an appointment whose row is unchanged, to learn the account's form from
    written: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    # appointments this computer deleted (undo, a twin, or found gone): known gone, not looked
    # for (without read calendar a look could only say "not on its day", never "gone")
    deleted: frozenset[int] = frozenset()


def read_state(client: OnOfficeClient, wanted: Wanted) -> State:
    """Read what onOffice holds of the list and of the rows' days (see the module's doc).

    Transport and API errors propagate: without this state a run could double rows.
    """
    since = datetime.fromtimestamp(client.server_now(), UTC).replace(tzinfo=None)
    tag = list_tag(wanted.list_name)
    today = wanted.today or contract.local_now().date()
    first, last = days_of(wanted.payloads) if wanted.payloads else (today, today)
    who = Who.of_all(wanted.payloads)  # whose appointments the reads must see (§5.1)
    span = read_period(client, first, last, who)
    reads, list_complete = span.reads, True
    if "read calendar" in client.unsupported:
        # appointmentList shows only the users it is asked for (§5.1): the list's
        # appointments of an agent no row names any more are read too
        wider = _with_every_user(client, who)
        list_complete = wider is not None
        if wider is not None and wider != who:
            who = wider
            span = read_period(client, first, last, who)
            reads += span.reads
    seen = collapse(span.appointments)
    calendar = list(seen.values())
    window = timedelta(days=LIST_WINDOW_DAYS)
    for a, b in (
        (first - window, first - timedelta(days=2)),
        (last + timedelta(days=2), last + window),
    ):
        part = read_period(client, a, b, who, note_like=list_filter(tag), margin=False)
        reads += part.reads
        list_complete = list_complete and part.complete
        for n, appointment in collapse(part.appointments).items():
            stamp = read_stamp(appointment.note)
            if stamp is not None and stamp.list_tag == tag:
                seen.setdefault(n, appointment)
    by_id = _entries_by_appointment(wanted.entries.values())
    missing = sorted(
        {
            n
            for n, e in by_id.items()
            if n not in seen and entry_list(e) == wanted.list_name and e.state in (CREATED, UNDONE)
        }
        | {n for n in wanted.named if n not in seen}
    )
    looked = [n for n in missing if n not in wanted.deleted]
    extra, unsure, more = _read_missing(client, looked, by_id)
    reads += more
    seen.update(extra)
    seen = _calibrated(client, seen, wanted, by_id)
    # creates this computer sent whose answer never came: their appointment carries the ref
    lost = {
        reference(e.fingerprint): e
        for e in wanted.entries.values()
        if e.appointment_id is None and e.state in (SENDING, UNKNOWN)
    }
    priors, by_ref, running = _priors(wanted, seen, by_id, lost, tag, since)
    priors += _missing_priors(wanted, missing, seen, by_id, unsure)
    return State(
        wanted.list_name,
        tag,
        priors,
        by_ref,
        calendar,
        span.complete,
        list_complete,
        reads,
        since,
        running,
        unseen_notice(p.found for p in priors if p.found is not None and p.ours),
    )


def _calibrated(
    client: OnOfficeClient,
    seen: Mapping[int, Appointment],
    wanted: Wanted,
    by_id: Mapping[int, Entry],
) -> dict[int, Appointment]:
    """The appointments read, with what the account's own lists say (:mod:`..onoffice.form`);
    types the account shows as texts of its own are learned first from the import's
    appointments whose stamp says what was written to them: a row of the file as the row is
    now, this computer's ledger entry of the same content, or the stamp's digest of the type
    (which of the types the file, the ledger or the account's form know)."""
    arts = {str(p.get("data", {}).get("art") or "") for p in wanted.payloads}
    arts |= {str(e.payload.get("data", {}).get("art") or "") for e in by_id.values()}
    arts |= set(form_of(client).shown_as)
    written: dict[int, str] = {}  # appointment -> the type key written to it ("" unknown)
    for n, found in seen.items():
        stamp = read_stamp(found.note)
        if found.type_text and stamp is not None and stamp.complete:
            params = wanted.written.get(stamp.content)
            entry = by_id.get(n)
            if params is None and entry is not None:
                same = (entry_content(entry) or "")[:12] == stamp.content
                params = entry.payload if same else None
            art = str((params or {}).get("data", {}).get("art") or "")
            # else the stamp's digest of the type tells which of the known types was written
            written[n] = art or written_among(stamp.fields, "type", sorted(arts)) or ""
    learn_types(client, [(seen[n], art) for n, art in written.items()], arts - {""})
    out = {n: normalised(client, found) for n, found in seen.items()}
    form = form_of(client)
    # the types whose form is known: learned, or shown as the key itself by one of them
    known = set(form.shown_as) | {a for n, a in written.items() if a == seen[n].type_text}
    for n, art in written.items():
        found = out[n]
        if not form.types and art not in known and found.type_text not in arts:
            # no list, neither the key written nor its form is known, and the text is no type
            # the file writes: it cannot be told whether the type is still the import's (a
            # removed row's type no row writes now)
            out[n] = replace(found, unseen=found.unseen | {"type"})
    return _one_time_reading(out)


def _one_time_reading(seen: dict[int, Appointment]) -> dict[int, Appointment]:
    """appointmentList's times read the one way the import's own appointments show them.

    Whether its ``+00:00`` is real UTC is UNDOCUMENTED (§5.1), so a read keeps both readings;
    but then an appointment a person moved by exactly the offset (1 h in winter, 2 h in
    summer) still matched its stamp and the move was never a conflict. The reading under which
    more of the list's stamped appointments (two at least) show the start and end written is
    the account's; a tie keeps both."""
    votes = [0, 0]
    for found in seen.values():
        stamp = read_stamp(found.note)
        if len(found.readings) != 2 or stamp is None or not stamp.fields:
            continue
        for i, (start, end) in enumerate(found.readings):
            if written_among(stamp.fields, "start", [start]) is not None and (
                written_among(stamp.fields, "end", [end]) is not None
            ):
                votes[i] += 1
    if max(votes) < 2 or votes[0] == votes[1]:
        return dict(seen)
    k = votes.index(max(votes))
    return {
        n: found
        if len(found.readings) != 2
        else replace(
            found,
            readings=(found.readings[k],),
            starts=frozenset({found.readings[k][0]}),
            ends=frozenset({found.readings[k][1]}),
        )
        for n, found in seen.items()
    }


def _priors(
    wanted: Wanted,
    seen: Mapping[int, Appointment],
    by_id: Mapping[int, Entry],
    lost: Mapping[str, Entry],
    tag: str,
    since: datetime,
) -> tuple[list[Prior], dict[str, list[Prior]], dict[str, str]]:
    """The import's appointments among those read (the list's, and any named), by stamp
    reference, and the other runs of the list that wrote lately (run -> when)."""
    priors: list[Prior] = []
    by_ref: dict[str, list[Prior]] = {}
    running: dict[str, str] = {}
    for n, found in sorted(seen.items()):
        stamp = read_stamp(found.note)
        entry = by_id.get(n) or (lost.get(stamp.ref) if stamp is not None else None)
        if stamp is None and entry is None:
            continue  # not an import's
        ours = _ours(stamp, entry, tag, wanted.list_name)
        prior = Prior(n, found, stamp, entry, condition(found, stamp, entry), ours)
        if stamp is not None:
            by_ref.setdefault(stamp.ref, []).append(prior)
            if ours and stamp.run and stamp.run != wanted.run and _recent(found, since):
                running[stamp.run] = found.modified or ""
        if ours or n in wanted.named:
            priors.append(prior)
    return priors, by_ref, running


def _missing_priors(
    wanted: Wanted,
    missing: Sequence[int],
    seen: Mapping[int, Appointment],
    by_id: Mapping[int, Entry],
    unsure: set[int],
) -> list[Prior]:
    """The import's appointments no read showed: gone (or unsure where a read could not
    tell)."""
    priors: list[Prior] = []
    for n in missing:
        if n in seen:
            continue
        entry = by_id.get(n)
        gone = UNSURE if n in unsure else GONE
        if entry is None:  # a results workbook's, that this ledger never knew: it was there
            priors.append(Prior(n, None, None, None, gone, True))
            continue
        if entry.state == UNDONE and gone == GONE:
            continue  # deleted by undo: its row is sent anew
        priors.append(Prior(n, None, None, entry, gone, entry_list(entry) == wanted.list_name))
    return priors


def _with_every_user(client: OnOfficeClient, who: Who) -> Who | None:
    """``who`` and every user of the account; None when the users cannot be listed."""
    users = every_user(client)
    return None if users is None else Who(who.users | users, who.groups)


def every_user(client: OnOfficeClient) -> frozenset[int] | None:
    """The ids of the account's users; None when they cannot be listed."""
    try:
        users = client.get_users()
    except ApiError:
        return None
    ids = {contract.record_id(contract.as_map(u.elements).get("id", u.id)) for u in users}
    return frozenset(n for n in ids if isinstance(n, int))


def _entries_by_appointment(entries: Iterable[Entry]) -> dict[int, Entry]:
    """The ledger's entry for each appointment id (the one written last, should two name it)."""
    out: dict[int, Entry] = {}
    for e in sorted(entries, key=lambda e: e.intent_at or ""):
        if e.appointment_id is not None:
            out[e.appointment_id] = e
    return out


def _read_missing(
    client: OnOfficeClient, ids: list[int], entries: Mapping[int, Entry]
) -> tuple[dict[int, Appointment], set[int], int]:
    """The appointments of ``ids`` that still exist; the ids whose fate cannot be told (no
    read calendar, and not where they were written); the reads it took."""
    if not ids:
        return {}, set(), 0
    if "read calendar" not in client.unsupported:
        try:
            by_id = read_ids(client, ids)
            reads = -(-len(ids) // contract.LOOKUP_ACTIONS_PER_REQUEST)
            return {n: a for n, a in by_id.items() if a is not None}, set(), reads
        except ActionRefused as exc:
            if exc.errorcode not in contract.UNKNOWN_ACTION_CODES:
                raise
    out: dict[int, Appointment] = {}
    unsure: set[int] = set()
    for n in ids:
        entry = entries.get(n)
        written = [p for p in (entry.payload, entry.pending) if p] if entry is not None else []
        try:
            appointment = find_appointment(client, n, written)
        except OutcomeUnknown:
            unsure.add(n)
            continue
        if appointment is not None:
            out[n] = appointment
    return out, unsure, len(ids)


def _ours(stamp: Stamp | None, entry: Entry | None, tag: str, name: str) -> bool:
    """Written from this list: its stamp says so, or (stamps of earlier versions, or none) this
    computer's ledger does."""
    if stamp is not None and stamp.complete:
        return stamp.list_tag == tag
    return entry is not None and entry_list(entry) == name


def _recent(found: Appointment, now: datetime) -> bool:
    if not found.modified:
        return False
    try:
        moment = datetime.strptime(found.modified, contract.DATETIME_FORMAT)
    except ValueError:
        return False
    return abs((now - moment).total_seconds()) <= RUNNING_WITHIN_SECONDS
