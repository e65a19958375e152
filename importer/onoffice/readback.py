"""Reading appointments back, in whichever shape the server answers.

Settling a create whose answer was lost and undoing an import both need to see what onOffice
holds. Two calls can tell (``contract.py`` says why ``read``/``calendar`` comes first); both are
read here into one :class:`Appointment`, with ids, flags and empty collections normalised, so
the callers compare values, never a server's typing habits.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..core import contract
from ..core.errors import ActionRefused, OutcomeUnknown
from ..core.i18n import _
from .client import Action, OnOfficeClient, Record
from .reference import note_without_reference

Id = int | str
_LIST_FIELDS = ["id", "modified", "subject", "notes", "type", "status", "date", "users", "groups"]
_LIST_FIELDS += ["resources", "contacts", "estate", "recurrence"]


@dataclass(frozen=True)
class Appointment:
    """One appointment as read back; times are local wall-clock text like the create format."""

    id: Id  # the record id; an occurrence of a series keeps its text id ("1234@2027-03-01")
    series: Id  # the id a create answered with (the occurrence's series, else ``id``)
    starts: frozenset[str]  # the start, read every way the answer allows (see from_list)
    ends: frozenset[str]
    subject: str
    note: str
    types: frozenset[str]  # key and label of `art`
    users: frozenset[Id] | None  # explicit participants; None when the answer cannot tell
    participants: frozenset[Id]  # everyone taking part, explicitly or through a group
    resources: frozenset[str]  # keys
    resource_names: frozenset[str]  # labels, where the answer gives them
    addresses: frozenset[Id]
    estates: frozenset[Id]
    modified: str | None  # UTC, "YYYY-MM-DD HH:MM:SS"
    cancelled: bool
    via: str  # "read calendar" or "appointmentList"
    # (start, end) as one reading of the answer (appointmentList's offsets allow two: the
    # reading the contract recommends first)
    readings: tuple[tuple[str, str], ...] = ()
    all_day: bool = False
    type_key: str = ""  # the key of `art` ("" when none, or when the read shows only a text)
    # What this read does not show (of FIELDS, and `modified`): a change there cannot be seen
    # in it. The documentation shows every one; a real account may leave some out (issue 30).
    unseen: frozenset[str] = frozenset()
    type_text: str = ""  # `art` as a plain string (its label or key: the account's form)
    # Whether it holds a reminder (`erinnerung`, which no modify can remove, §4.1): None where
    # the read does not tell (appointmentList's `timeBefore` 0 is "0 minutes" or none)
    reminder: bool | None = None
    # Whether its series leaves dates out (`rp_exception`, likewise): None where not shown
    skips: bool | None = None
    groups: frozenset[Id] = frozenset()  # the agent groups the read shows
    # the members of those groups as the account lists them (`get groups`, §6.5), where the
    # read cannot tell explicit participants from them (``users`` None); None: not known
    members: frozenset[Id] | None = None

    @property
    def people(self) -> frozenset[Id]:
        """The participants as the read lists them: the explicit ones where it tells them from
        group members, else everyone."""
        return self.users if self.users is not None else self.participants

    @property
    def beyond_groups(self) -> frozenset[Id]:
        """:attr:`people` but the members of its groups where a read lists them among the
        participants (:attr:`members` known): the ones surely taking part on their own."""
        if self.users is None and self.members is not None:
            return self.participants - self.members
        return self.people


# The fields a create sets and a read shows, as compared (and digested, one by one, into the
# import's stamp): the order is part of the stamp's format.
FIELDS: tuple[str, ...] = (
    "start",
    "end",
    "subject",
    "type",
    "participants",
    "resources",
    "contacts",
    "property",
    "note",
    "cancelled",
)


def _kind(value: Any) -> tuple[frozenset[str], str, str]:
    """`art`/`type` as read: its keys and labels, its key, and the plain text it may be."""
    if isinstance(value, str):
        return (frozenset({value}) if value else frozenset()), "", value
    kind = contract.as_map(value)
    if "value" in kind or "label" in kind:  # appointmentList's {value, label}
        pair = (kind.get("value"), kind.get("label"))
        return frozenset(str(v) for v in pair if v), str(kind.get("value") or ""), ""
    return frozenset({*kind, *(str(v) for v in kind.values())}), next(iter(kind), ""), ""


def _absent(e: dict[str, Any], **fields: tuple[str, ...]) -> frozenset[str]:
    """The fields none of whose elements the record has."""
    return frozenset(f for f, names in fields.items() if not any(n in e for n in names))


def _texts(items: Any, key: str | None) -> frozenset[str]:
    """A list's values (``key`` None) or one field of a list of objects, as text."""
    if not isinstance(items, list):
        return frozenset()
    if key is None:
        return frozenset(str(i) for i in items if i not in (None, ""))
    return frozenset(str(i[key]) for i in items if isinstance(i, dict) and i.get(key))


def from_read(record: Record) -> Appointment:
    """A `read`/`calendar` record (§5.2)."""
    e = contract.as_map(record.elements)
    types, type_key, type_text = _kind(e.get("art"))
    resources = contract.as_map(e.get("ressourcesWithKeys"))
    labels = _texts(e.get("ressources"), None)
    status = str(e.get("status") or "")
    rid = contract.record_id(record.id) or ""
    start, end = str(e.get("start_dt", "")), str(e.get("end_dt", ""))
    unseen = _absent(
        e,
        type=("art",),
        participants=("users", "user_ids"),
        contacts=("assignedaddressids",),
        property=("assignedobjectids",),
        modified=("modified",),
    )
    if "ressourcesWithKeys" not in e and labels:
        unseen |= {"resources"}  # labels only: keys once the account's list names them
    users = contract.id_set(e.get("users")) if "users" in e else None
    if users is None and e.get("groups") == []:  # no group: `user_ids` are the explicit ones
        users = contract.id_set(e.get("user_ids"))
    return Appointment(
        id=rid,
        series=contract.series_id(rid) or rid,
        starts=frozenset({start}),
        ends=frozenset({end}),
        subject=str(e.get("description") or ""),
        note=str(e.get("note") or ""),
        types=types,
        users=users,
        participants=contract.id_set(e.get("user_ids")) | contract.id_set(e.get("users")),
        resources=frozenset(resources),
        resource_names=labels,
        addresses=contract.id_set(e.get("assignedaddressids")),
        estates=contract.id_set(e.get("assignedobjectids")),
        modified=str(e["modified"]) if e.get("modified") else None,
        cancelled=status == "canceled" or (not status and contract.as_bool(e.get("abgesagt"))),
        via="read calendar",
        readings=((start, end),),
        all_day=contract.as_bool(e.get("ganztags")),
        type_key=type_key,
        unseen=unseen,
        type_text=type_text,
        reminder=bool(str(e.get("erinnerung") or "").strip()) if "erinnerung" in e else None,
        skips=bool(e.get("rp_exception")) if "rp_exception" in e else None,
        groups=contract.id_set(e.get("groups")),
    )


def _wall_clock(text: Any) -> tuple[str, ...]:
    """An ISO 8601 time with offset as local wall-clock text: converted, and as written.

    UNDOCUMENTED whether appointmentList's ``+00:00`` is real UTC (§5.1): both readings are
    kept (the recommended one, converted, first), and a row matches when either equals its
    time.
    """
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return ()
    written = moment.replace(tzinfo=None).strftime(contract.DATETIME_FORMAT)
    if moment.tzinfo is None:
        return (written,)
    local = moment.astimezone(ZoneInfo(contract.LOCAL_TIMEZONE)).replace(tzinfo=None)
    return tuple(dict.fromkeys((local.strftime(contract.DATETIME_FORMAT), written)))


def _utc(text: Any) -> str | None:
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    return moment.strftime(contract.DATETIME_FORMAT)


def from_list(record: Record) -> Appointment:
    """A `get`/`appointmentList` record (§5.1)."""
    e = contract.as_map(record.elements)
    when = contract.as_map(e.get("date"))
    types, type_key, type_text = _kind(e.get("type"))
    status = contract.as_map(e.get("status"))
    groups = contract.id_set(e.get("groups"))
    users = contract.id_set(e.get("users"))
    estate = contract.as_map(e.get("estate"))
    rid = contract.record_id(e.get("id", record.id)) or contract.record_id(record.id) or ""
    starts, ends = _wall_clock(when.get("start")), _wall_clock(when.get("end"))
    return Appointment(
        id=rid,
        series=contract.series_id(rid) or rid,
        starts=frozenset(starts),
        ends=frozenset(ends),
        subject=str(e.get("subject") or ""),
        note=str(e.get("notes") or ""),
        types=types,
        # UNDOCUMENTED whether `users` holds group members: with groups it cannot tell.
        users=None if groups or "users" not in e or "groups" not in e else users,
        participants=users,
        resources=_texts(e.get("resources"), "id"),
        resource_names=_texts(e.get("resources"), "name"),
        addresses=contract.id_set(e.get("contacts")),
        estates=contract.id_set(estate.get("id")),
        modified=_utc(e.get("modified")) if e.get("modified") else None,
        cancelled=str(status.get("value") or "") == "canceled",
        via="appointmentList",
        # one reading takes both times the same way
        readings=tuple(zip(starts, ends, strict=False)),
        all_day=contract.as_bool(when.get("allDay")),
        type_key=type_key,
        unseen=_absent(
            e,
            type=("type",),
            participants=("users",),
            resources=("resources",),
            contacts=("contacts",),
            property=("estate",),
            modified=("modified",),
        ),
        type_text=type_text,
        reminder=_list_reminder(e.get("reminder")),
        groups=groups,
    )


def _list_reminder(value: Any) -> bool | None:
    """appointmentList's `reminder {timeBefore …}`: a lead over 0 is a reminder; 0 or none
    cannot tell "0 minutes" from no reminder (UNDOCUMENTED, §5.1)."""
    before = contract.as_map(value).get("timeBefore")
    if isinstance(before, int | float) and not isinstance(before, bool) and before > 0:
        return True
    return None


@dataclass(frozen=True)
class Period:
    """What a period read found, and whether that is everything (no read hit the 500 cap)."""

    appointments: list[Appointment]
    complete: bool
    reads: int


def _day(when: date) -> str:
    return when.isoformat()


def calendar_read(
    first: date, last: date, *, note_contains: str | None = None, identifier: str = ""
) -> Action:
    """The `read calendar` action for every appointment (every user's, cancelled ones too) on
    the days ``first``..``last``, optionally only those whose note contains a text.

    A bare day in datestart is UNDOCUMENTED (§5.2): the documented form has a time part.
    Whether `dateend` includes its day is UNDOCUMENTED too: the day after is named, so ``last``
    is read either way (the callers compare times themselves).
    """
    parameters: dict[str, Any] = {
        "datestart": f"{_day(first)} 00:00:00",
        "dateend": f"{_day(last + timedelta(days=1))} 00:00:00",
        "allusers": True,
        "showcancelled": True,
    }
    if note_contains is not None:
        parameters["filter"] = {"note": [{"op": "like", "val": _like(note_contains)}]}
    return Action("read", "calendar", parameters, identifier=identifier)


def _like(pattern: str) -> str:
    """A `like` value: a pattern as given, a plain text as "contains"."""
    return pattern if "%" in pattern else f"%{pattern}%"


def _read_calendar(
    client: OnOfficeClient, first: date, last: date, note_like: str | None
) -> list[Record]:
    return client.call(calendar_read(first, last, note_contains=note_like)).records


@dataclass(frozen=True)
class Who:
    """Whose appointments a read must see: the row's agents, else its groups."""

    users: frozenset[Id] = frozenset()
    groups: frozenset[Id] = frozenset()

    @classmethod
    def of(cls, params: dict[str, Any]) -> Who:
        subscribers = params.get("subscribers") or {}
        return cls(
            contract.id_set(subscribers.get("users")), contract.id_set(subscribers.get("groups"))
        )

    def __bool__(self) -> bool:
        return bool(self.users or self.groups)

    @classmethod
    def of_all(cls, payloads: Iterable[dict[str, Any]]) -> Who:
        """Everyone any of ``payloads`` is for."""
        everyone = [cls.of(p) for p in payloads]
        return cls(
            frozenset().union(*(w.users for w in everyone)),
            frozenset().union(*(w.groups for w in everyone)),
        )


def _appointment_list(
    client: OnOfficeClient, first: date, last: date, who: Who, note_like: str | None
) -> list[Record]:
    """UNDOCUMENTED (§5.1): its scope without userIds/groupIds, and whether cancelled ones are
    listed without isCancelled. So it asks for the row's agents (or groups), and once more for
    the cancelled ones; the answers are merged by id."""
    period: dict[str, Any] = {"startDate": _day(first), "endDate": _day(last)}
    if note_like is not None:
        period["notes"] = [{"op": "like", "val": _like(note_like)}]
    scopes = []
    if who.users:
        scopes.append({"userIds": sorted(str(u) for u in who.users)})
    if who.groups:
        scopes.append({"groupIds": sorted(str(g) for g in who.groups)})
    records: list[Record] = []
    for scope in scopes or [{}]:
        for extra in ({}, {"isCancelled": True}):
            parameters = {
                "data": _LIST_FIELDS,
                "filter": {**period, **scope, **extra},
                # UNDOCUMENTED paging of appointmentList; reads default to 20 (§6): ask for the
                # most, and a full page counts as capped.
                "listlimit": contract.READ_PAGE_CAP,
            }
            page = client.call(Action("get", "appointmentList", parameters)).records
            if len(page) >= contract.READ_PAGE_CAP:
                return page  # capped: the caller splits the period
            records += page
    return records


def _one_read(
    client: OnOfficeClient, first: date, last: date, who: Who, note_like: str | None = None
) -> tuple[list[Appointment], bool]:
    """One read of a period, through read calendar or (once it is known missing) the list;
    and whether its scope is surely everyone's (the list's is not when nobody is named)."""
    if "read calendar" not in client.unsupported:
        try:
            return [from_read(r) for r in _read_calendar(client, first, last, note_like)], True
        except ActionRefused as exc:
            if exc.errorcode not in contract.UNKNOWN_ACTION_CODES:
                raise
            client.unsupported.add("read calendar")
    found = [from_list(r) for r in _appointment_list(client, first, last, who, note_like)]
    return found, bool(who.users or who.groups)


def read_period(
    client: OnOfficeClient,
    first: date,
    last: date,
    who: Who = Who(),
    *,
    note_like: str | None = None,
    margin: bool = True,
) -> Period:
    """Every appointment overlapping the days ``first``..``last``, cancelled ones included
    (``note_like``: only those whose note is like this pattern; a hint the callers check).

    UNDOCUMENTED whether `dateend` is inclusive (§5.2): a day of margin is read on both sides
    (``margin``) and the callers compare times themselves. A read that returns the 500 cap is
    split in halves until it fits; a single day that still fills the cap is reported as
    incomplete, never as proof that something is absent.
    """
    found: dict[Id, Appointment] = {}
    reads, complete = 0, True
    pad = timedelta(days=1 if margin else 0)
    todo = [(first - pad, last + pad)]
    while todo:
        a, b = todo.pop()
        page, everyone = _one_read(client, a, b, who, note_like)
        complete = complete and everyone
        reads += 1
        if len(page) >= contract.READ_PAGE_CAP:
            if a == b:
                complete = False
            else:
                middle = a + (b - a) // 2
                todo += [(a, middle), (middle + timedelta(days=1), b)]
                continue
        for appointment in page:
            found.setdefault(appointment.id, appointment)
    return Period(list(found.values()), complete, reads)


def read_modified(
    client: OnOfficeClient,
    since: datetime,
    until: datetime,
    max_reads: int | None = None,
    now: datetime | None = None,
) -> Period:
    """Every appointment (everyone's, cancelled ones too) last edited between two moments (UTC,
    as `modified` is kept, §5.2): what changed in onOffice while a run was sending. A window
    that fills the 500 cap is split in halves (first at ``now``, where it reaches past it: the
    edits lie before, and halving the time ahead would spend reads on nothing); a single second
    that still fills it, or a read past ``max_reads`` (a server that ignores the window fills
    every half), is reported as incomplete. Raises :class:`ActionRefused` where the server has
    no read calendar."""
    found: dict[Id, Appointment] = {}
    reads, complete = 0, True
    todo = [(since, until)]
    while todo:
        if max_reads is not None and reads >= max_reads:
            return Period(list(found.values()), False, reads)
        a, b = todo.pop()
        parameters = {
            "modifiedstart": a.strftime(contract.DATETIME_FORMAT),
            "modifiedend": b.strftime(contract.DATETIME_FORMAT),
            "allusers": True,
            "showcancelled": True,
        }
        page = client.call(Action("read", "calendar", parameters)).records
        reads += 1
        for record in page:  # a full page's too: what it shows tells a window ignored
            appointment = from_read(record)
            found.setdefault(appointment.id, appointment)
        if len(page) >= contract.READ_PAGE_CAP:
            if (b - a).total_seconds() <= 1:
                complete = False
            else:
                middle = now if now is not None and a < now < b else a + (b - a) / 2
                todo += [(a, middle), (middle, b)]
    return Period(list(found.values()), complete, reads)


def read_ids(client: OnOfficeClient, ids: Sequence[int]) -> dict[int, Appointment | None]:
    """Appointments by id through read calendar, 50 to a request; None for those the server
    does not know (any more). Raises :class:`ActionRefused` with an unknown-action code where
    the server has no read calendar (the caller then looks for each on its days)."""
    out: dict[int, Appointment | None] = {}
    size = contract.LOOKUP_ACTIONS_PER_REQUEST
    for i in range(0, len(ids), size):
        chunk = ids[i : i + size]
        actions = [
            Action("read", "calendar", [], resourceid=str(n), identifier=f"id-{n}") for n in chunk
        ]
        for n, outcome in zip(chunk, client.send(actions), strict=True):
            if isinstance(outcome, ActionRefused):
                if outcome.errorcode in contract.NOT_FOUND_CODES:
                    out[n] = None
                    continue
                if outcome.errorcode in contract.UNKNOWN_ACTION_CODES:
                    client.unsupported.add("read calendar")
                raise outcome
            out[n] = from_read(outcome.records[0]) if outcome.records else None
    return out


def read_one(
    client: OnOfficeClient, appointment_id: int, day: date | None, who: Who = Who()
) -> Appointment | None:
    """One appointment by id; None when the server surely does not know it (any more).

    Without read calendar, appointmentList is searched around ``day`` (the day it was created
    for) among the appointments of ``who``; where that read cannot see everything, raises
    :class:`OutcomeUnknown` rather than answering "gone".
    """
    if "read calendar" not in client.unsupported:
        try:
            result = client.call(Action("read", "calendar", [], resourceid=str(appointment_id)))
        except ActionRefused as exc:
            if exc.errorcode in contract.NOT_FOUND_CODES:
                return None
            if exc.errorcode not in contract.UNKNOWN_ACTION_CODES:
                raise
            client.unsupported.add("read calendar")
        else:
            return from_read(result.records[0]) if result.records else None
    if day is None:
        raise OutcomeUnknown(
            _("appointment {id}: no day to look for it on").format(id=appointment_id)
        )
    period = read_period(client, day, day, who)
    for appointment in period.appointments:
        if appointment.series == appointment_id:
            return appointment
    if not period.complete:  # not seen, but not every appointment could be seen either
        raise OutcomeUnknown(
            _("appointment {id}: cannot tell whether it still exists").format(id=appointment_id)
        )
    return None


def find_appointment(
    client: OnOfficeClient, appointment_id: int, payloads: Sequence[dict[str, Any]]
) -> Appointment | None:
    """An appointment we wrote, by id; None only when the server surely no longer has it.

    Without read calendar it is looked for on the day of each payload written to it, among
    their agents and groups; not seen on any of them raises :class:`OutcomeUnknown` (a person
    may have moved it), never "gone".
    """
    days: list[date | None] = [*sorted({d for p in payloads if (d := first_day(p)) is not None})]
    who = Who.of_all(payloads)
    for day in days or [None]:
        found = read_one(client, appointment_id, day, who)
        if found is not None or "read calendar" not in client.unsupported:
            return found
    raise OutcomeUnknown(
        _("appointment {id} is on none of the days it was written for").format(id=appointment_id)
    )


def _sent(params: dict[str, Any]) -> tuple[dict[str, Any], frozenset[Id]]:
    subscribers = params.get("subscribers") or {}
    return params.get("data", {}), contract.id_set(subscribers.get("users"))


def resembles(found: Appointment, params: dict[str, Any]) -> bool:
    """Same start and subject: it may be this row's appointment, or a person's look-alike."""
    data = params.get("data", {})
    return data.get("start_dt") in found.starts and found.subject == (data.get("description") or "")


def differences(found: Appointment, params: dict[str, Any], note: bool = False) -> list[str]:
    """What of the payload the appointment does not hold, among the fields a create sets and a
    read shows (``note``: the note too), named as on the onOffice appointment form. A field
    this read does not show (``found.unseen``) is never named: nothing can be told of it."""
    data, users = _sent(params)
    resources = set(data.get("ressources") or [])
    named = {
        "start": data.get("start_dt") not in found.starts,
        "end": data.get("end_dt") not in found.ends,
        "subject": found.subject != (data.get("description") or ""),
        "type": bool(data.get("art")) and data.get("art") not in found.types,
        "participants": found.users != users
        if found.users is not None
        else not users <= found.participants,
        "resources": len(found.resources) != len(resources)
        or not resources <= (found.resources | found.resource_names),
        "contacts": found.addresses != contract.id_set(params.get("relatedAddressIds")),
        "property": found.estates != contract.id_set(params.get("relatedEstateId")),
        "note": note and plain(found.note) != plain(str(data.get("note") or "")),
        "cancelled": found.cancelled != cancels(data),
    }
    return [name for name, differs in named.items() if differs and name not in found.unseen]


def cancels(data: dict[str, Any]) -> bool:
    """Whether a payload cancels its appointment (`status` wins over `abgesagt`, §4.1)."""
    if data.get("status"):
        return bool(data["status"] == "canceled")
    return bool(data.get("abgesagt"))


def plain(note: str) -> str:
    """A note as compared: without the import's stamp (:func:`text`)."""
    return text(note_without_reference(note))


def text(value: Any) -> str:
    """Text as compared: NFC, line breaks as ``\\n``, no blanks at the ends of lines or of the
    whole (a server may store line breaks or trailing blanks its own way)."""
    normal = unicodedata.normalize("NFC", str(value or "")).replace("\r\n", "\n")
    return "\n".join(line.rstrip() for line in normal.replace("\r", "\n").split("\n")).strip()


def _digest(parts: list[Any], size: int = 12) -> str:
    encoded = json.dumps(parts, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()[:size]


def _sorted_ids(ids: Iterable[Id]) -> list[str]:
    return sorted(str(i) for i in ids)


# Each field's digest in the stamp: 6 hex digits (a person's change to one field goes unseen
# with odds of 1 in 16.7 million).
FIELD_DIGEST_SIZE = 6


def _written(params: dict[str, Any], before: Appointment | None) -> list[Any]:
    """The values of FIELDS a payload writes, as compared."""
    data, users = _sent(params)
    kind = str(data.get("art") or (before.type_key if before is not None else ""))
    return [
        str(data.get("start_dt") or ""),
        str(data.get("end_dt") or ""),
        text(data.get("description")),
        kind,
        _sorted_ids(users),
        sorted(str(r) for r in data.get("ressources") or []),
        _sorted_ids(contract.id_set(params.get("relatedAddressIds"))),
        _sorted_ids(contract.id_set(params.get("relatedEstateId"))),
        plain(str(data.get("note") or "")),
        cancels(data),
    ]


def seen_digest(params: dict[str, Any], before: Appointment | None = None) -> str:
    """What a read of an appointment written with ``params`` shows in the documented shape, as
    12 hex digits: start, end, subject, type, participants, resources, contacts, property, note
    (without the stamp) and whether it is cancelled. The import stamps it into the note
    (:mod:`importer.onoffice.reference`) with :func:`field_digests`.

    ``before``: the appointment a modify writes over; a type it has and ``params`` does not set
    stays (the documentation names no empty type, ``contract.CLEARED_VALUES``)."""
    return _digest(_written(params, before))


def field_digests(params: dict[str, Any], before: Appointment | None = None) -> str:
    """:data:`FIELDS` as written by ``params``, each digested on its own (6 hex digits each, in
    that order): a read is compared field by field, so a field an account shows in a form of
    its own, or not at all, leaves the others comparable (issue 30)."""
    return "".join(
        _digest([name, value], FIELD_DIGEST_SIZE)
        for name, value in zip(FIELDS, _written(params, before), strict=True)
    )


def _shown(found: Appointment, *, as_listed: bool = False) -> dict[str, list[Any]]:
    """Every value of each field a payload may have written to be read as ``found`` (times and
    type may be read more than one way); no entry for a field that cannot be told."""
    users = found.people
    values: dict[str, list[Any]] = {
        # the recommended reading first (contract: appointmentList's times as UTC)
        "start": list(dict.fromkeys(start for start, _ in found.readings)),
        "end": list(dict.fromkeys(end for _, end in found.readings)),
        "subject": [text(found.subject)],
        "type": sorted(found.types) or [""],
        "participants": [_sorted_ids(users)],
        "resources": [sorted(found.resources)],
        "contacts": [_sorted_ids(found.addresses)],
        "property": [_sorted_ids(found.estates)],
        "note": [plain(found.note)],
        "cancelled": [found.cancelled],
    }
    if found.users is None and not as_listed:
        del values["participants"]
    return {name: v for name, v in values.items() if name not in found.unseen}


def changed_fields(found: Appointment, digests: str) -> list[str] | None:
    """The fields whose stamped digest (:func:`field_digests`) a read of ``found`` does not
    show: what a person changed. Fields the read does not show are not named. None when it
    cannot tell: participants listed with group members (appointmentList with groups, §5.1)
    that differ from those written."""
    shown = _shown(found, as_listed=True)
    size = FIELD_DIGEST_SIZE
    out = []
    for i, name in enumerate(FIELDS):
        if name not in shown:
            continue
        stamped = digests[i * size : (i + 1) * size]
        if stamped not in {_digest([name, v], size) for v in shown[name]}:
            out.append(name)
    if "participants" in out and found.users is None:
        told = _explicit_told(found, digests)
        if told is None:
            return None  # group members may stand beside the explicit ones
        if told:
            out.remove("participants")
    return out


# Subsets of the listed group members tried as explicit participants as well: every one of up
# to 8 members (256 digests: a person's change goes unseen with odds of 1 in 65,000 at most),
# of more members none or one (the explicit participants of a group appointment are few)
MEMBERS_TRIED = 8
MEMBERS_LISTED = 255


def _explicit_told(found: Appointment, digests: str) -> bool | None:
    """Whether the participants the stamp's digest names may be the explicit ones of a read
    that lists the groups' members among them: they are the listed ones who are no members,
    and any of the listed members (the explicit ones a read lists either way). None where the
    members are not known, or too many are listed to try every choice and none tried fits."""
    if found.members is None:
        return None
    listed = found.participants
    sure, maybe = listed - found.members, sorted(listed & found.members, key=str)
    every = len(maybe) <= MEMBERS_TRIED
    if every:
        choices = [{m for i, m in enumerate(maybe) if n >> i & 1} for n in range(1 << len(maybe))]
    elif len(maybe) <= MEMBERS_LISTED:
        choices = [set(), *({m} for m in maybe)]
    else:
        return None
    candidates = (_sorted_ids(sure | chosen) for chosen in choices)
    if written_among(digests, "participants", candidates) is not None:
        return True
    return False if every else None


def fields_as_written(params: dict[str, Any], digests: str) -> frozenset[str]:
    """The :data:`FIELDS` in which ``params`` writes what a stamp's digests (:func:`field_digests`)
    say the import wrote last: how like a row is its appointment as the import left it, whatever
    a person changed since (none without digests)."""
    if not digests:
        return frozenset()
    size, mine = FIELD_DIGEST_SIZE, field_digests(params)
    return frozenset(
        name
        for i, name in enumerate(FIELDS)
        if mine[i * size : (i + 1) * size] == digests[i * size : (i + 1) * size]
    )


def shown_field_digests(found: Appointment) -> str:
    """:func:`field_digests` of what a read shows (the first reading of each field): the stamp
    of an appointment the import leaves as it is now."""
    shown = _shown(found, as_listed=True)
    size = FIELD_DIGEST_SIZE
    return "".join(
        _digest([name, shown[name][0]], size) if name in shown else "0" * size for name in FIELDS
    )


def written_among(digests: str, name: str, candidates: Iterable[Any]) -> Any | None:
    """Which of ``candidates`` the stamp's digest of field ``name`` was made of (None: none of
    them): what was written, told back from the stamp alone."""
    if not digests:
        return None
    size, i = FIELD_DIGEST_SIZE, FIELDS.index(name)
    stamped = digests[i * size : (i + 1) * size]
    return next((c for c in candidates if _digest([name, c], size) == stamped), None)


def with_field(digests: str, name: str, value: Any) -> str:
    """Stamped field digests with one field as now written (a cancel, a restore)."""
    if not digests:
        return ""
    size, i = FIELD_DIGEST_SIZE, FIELDS.index(name)
    return digests[: i * size] + _digest([name, value], size) + digests[(i + 1) * size :]


def seen_digests(found: Appointment, *, as_listed: bool = False) -> frozenset[str]:
    """The digests (:func:`seen_digest`) a payload may have had to be read as ``found``: one
    per reading of its times and of its type (key or label); none where the read does not
    show a field (compare field by field then, :func:`changed_fields`).

    None where the answer cannot tell explicit participants from group members
    (appointmentList with groups, §5.1). ``as_listed`` takes the participants as listed for
    the explicit ones there: a match then proves the appointment unchanged (right where the
    server lists only explicit ones); no match proves nothing."""
    shown = _shown(found, as_listed=as_listed)
    if len(shown) < len(FIELDS):
        return frozenset()
    rest = [shown[name][0] for name in FIELDS[4:]]
    return frozenset(
        _digest([start, end, text(found.subject), kind, *rest])
        for start, end in found.readings
        for kind in shown["type"]
    )


def stamp_holds(found: Appointment, fields: str, seen: str) -> bool | None:
    """Whether ``found`` still holds the import's last write, by its stamp's field digests
    (``fields``) or, in stamps before them, its whole digest (``seen``); None where the read
    cannot tell."""
    if fields:
        changed = changed_fields(found, fields)
        if changed is not None:
            return not changed
    digests = seen_digests(found)
    if digests:
        return seen in digests
    if seen in seen_digests(found, as_listed=True):
        return True
    return None


def same_content(found: Appointment, params: dict[str, Any]) -> bool:
    """Every field a create sets and a read shows agrees with the row's payload."""
    return not differences(found, params)


def holds(found: Appointment, params: dict[str, Any]) -> bool:
    """The appointment holds exactly what the payload wrote, note included."""
    return not differences(found, params, note=True)


def first_day(params: dict[str, Any]) -> date | None:
    """The day a payload's appointment starts on (to find it again without read calendar)."""
    try:
        return date.fromisoformat(str(params["data"]["start_dt"])[:10])
    except (KeyError, TypeError, ValueError):
        return None


def days_of(params: Iterable[dict[str, Any]]) -> tuple[date, date]:
    """The first and last day the payloads' appointments touch."""
    starts = [p["data"]["start_dt"][:10] for p in params]
    ends = [p["data"]["end_dt"][:10] for p in params]
    return date.fromisoformat(min(starts)), date.fromisoformat(max(ends))
