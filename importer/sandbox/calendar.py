"""calendar create/modify validation and the shapes the sandbox answers reads with (§4, §5).

This is an independent, per-request implementation of the server rules; the importer's
vectorised Pandera schema (``importer/rules/schema.py``) checks the same rules before sending, and
the tests hold the two against each other.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from . import spec
from .dialects import Dialect
from .fixtures import Fixtures


class Refusal(Exception):
    """A per-action error: the errorcode and message the action's status carries."""

    def __init__(self, code: int, message: str) -> None:
        self.code, self.message = code, message
        super().__init__(f"{code}: {message}")


def _invalid(name: str) -> Refusal:
    return Refusal(255, f'Invalid value for parameter "{name}"')


def parse_datetime(value: Any, name: str) -> datetime:
    if not isinstance(value, str) or not spec.STAMP_RE.match(value):
        raise _invalid(name)
    try:
        return datetime.strptime(value, spec.STAMP)
    except ValueError:
        raise _invalid(name) from None


def _date(value: Any, name: str) -> date:
    if not isinstance(value, str) or not spec.DAY_RE.match(value):
        raise _invalid(name)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _invalid(name) from None


def _bool(value: Any, name: str) -> bool:
    # §4.1: JSON booleans; older revisions sent 0/1, which is accepted as well.
    if isinstance(value, bool):
        return value
    if value in (0, 1, "0", "1"):
        return bool(int(value))
    raise _invalid(name)


MAX_NUMBER = 2**31 - 1  # ids and counts beyond this are refused, not passed to SQLite


def whole_number(value: Any) -> int | None:
    """An int, or a text of ASCII digits, within 0..2^31-1; None for anything else."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10:
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_NUMBER:
        return value
    return None


def _int(value: Any, name: str) -> int:
    number = whole_number(value)
    if number is None:
        raise _invalid(name)
    return number


def _id_list(value: Any, name: str, code: int) -> list[int]:
    if not isinstance(value, list):
        raise Refusal(code, f"{name} must be an array of IDs")
    if len(value) > spec.MAX_IDS:
        raise Refusal(302, "Action supports only up to 500 ids")
    return [_int(v, name) for v in value]


def _select_key(value: str, options: dict[str, str], accepts: str, name: str) -> str:
    """A singleselect value: its key, or (when this dialect accepts labels) its label."""
    if value in options:
        return value
    if accepts == "labels":
        for key, label in options.items():
            if label == value:
                return key
    raise Refusal(spec.E_SELECT_VALUE, f'Unknown value in select field "{name}": {value}')


def _type_key(value: str, fixtures: Fixtures, dialect: Dialect) -> str:
    """`art`: its key (or label, see ``art_values``); an unknown one refused as this dialect
    refuses it (``art_refusal``: 252 as other select fields, or 255 naming the parameter)."""
    try:
        return _select_key(value, fixtures.appointment_types, dialect.art_values, "art")
    except Refusal:
        if dialect.art_refusal == "255":
            raise Refusal(spec.E_INVALID_VALUE, "Invalid value for parameter art") from None
        raise


def validate_data(
    data: Any, fixtures: Fixtures, *, creating: bool, dialect: Dialect
) -> dict[str, Any]:
    """Check ``parameters.data``; return the normalised fields that were sent."""
    if not isinstance(data, dict):
        raise _invalid("data")
    unknown = [k for k in data if k not in spec.CALENDAR_FIELDS]
    if unknown:
        raise Refusal(154, f'Unknown calendar field "{unknown[0]}"')
    if creating:
        if data.get("start_dt") in (None, ""):
            raise Refusal(91, 'Start date missing: missing mandatory field "start_dt"')
        if data.get("end_dt") in (None, ""):
            raise Refusal(92, 'End date missing: missing mandatory field "end_dt"')
    out = {
        name: _field_value(name, value, fixtures, dialect)
        for name, value in data.items()
        if name in spec.CALENDAR_FIELDS
    }
    out = {name: value for name, value in out.items() if value is not _UNCHECKED}
    if "art" in out:
        out["art"] = _type_key(out["art"], fixtures, dialect)
    if "von" in out and not any(u["username"] == out["von"] for u in fixtures.users):
        raise Refusal(251, f'Unknown user "{out["von"]}"')
    return out


_UNCHECKED = object()  # a field sent as it came (its checks are elsewhere, or none)


def _field_value(name: str, value: Any, fixtures: Fixtures, dialect: Dialect) -> Any:
    """One field of ``data``, checked as §4.1 describes it, normalised."""
    if name in ("start_dt", "end_dt"):
        return parse_datetime(value, name).strftime(spec.STAMP)
    if name in spec.TEXT_FIELDS:
        if not isinstance(value, str):
            raise _invalid(name)
        if len(value) > spec.TEXT_LIMITS[name]:
            raise Refusal(
                255,
                f'Invalid value for parameter "{name}": longer than '
                f"{spec.TEXT_LIMITS[name]} characters",
            )
        return value
    if name in spec.BOOLEAN_FIELDS:
        return _bool(value, name)
    if name in spec.DURATION_FIELDS:
        if not isinstance(value, str) or not spec.DURATION_RE.match(value):
            raise _invalid(name)
        return value
    choices = {"status": spec.STATUSES, "erinnerung": spec.REMINDERS, "rp_type": spec.SERIES_KINDS}
    if name in choices:
        if not isinstance(value, str) or value not in choices[name]:
            raise _invalid(name)
        return value
    if name == "ressources":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _invalid(name)
        return [_select_key(v, fixtures.resources, dialect.resource_values, name) for v in value]
    return _series_value(name, value)


def _series_value(name: str, value: Any) -> Any:
    """A series field (rp_*), checked and normalised."""
    if name in ("rp_tage", "rp_ende_status"):
        number = _int(value, name)
        if number not in (spec.SERIES_INTERVAL if name == "rp_tage" else spec.SERIES_END):
            raise _invalid(name)
        return number
    if name in ("rp_beginn_datum", "rp_ende_datum"):
        return _date(value, name).isoformat()
    if name == "rp_exception":
        if not isinstance(value, str) or not spec.EXCEPTIONS_RE.match(value):
            raise _invalid(name)
        return [_date(d, name).isoformat() for d in value.split("#")[1:]]
    return _UNCHECKED


def check_consistency(record: dict[str, Any]) -> None:
    """Cross-field rules over the complete (created or modified) appointment."""
    if record["end_dt"] < record["start_dt"]:
        raise Refusal(93, "Start date is greater than end date")
    if record.get("rp_flag"):
        for name in ("rp_type", "rp_tage", "rp_beginn_datum", "rp_ende_status"):
            if record.get(name) in (None, ""):
                raise Refusal(167, f'Missing parameter "{name}"')
        if record["rp_ende_status"] == 1:
            if not record.get("rp_ende_datum"):
                raise Refusal(167, 'Missing parameter "rp_ende_datum"')
            if record["rp_ende_datum"] < record["rp_beginn_datum"]:
                raise _invalid("rp_ende_datum")
    if record.get("reminder_types") and not record.get("erinnerung"):
        raise Refusal(255, 'Invalid value for parameter "reminderTypes": needs data.erinnerung')


def validate_links(parameters: dict[str, Any], fixtures: Fixtures) -> dict[str, Any]:
    """relatedAddressIds, relatedEstateId, subscribers and reminderTypes (§4.2)."""
    out: dict[str, Any] = {}
    if "relatedAddressIds" in parameters:
        ids = _id_list(parameters["relatedAddressIds"], "relatedAddressIds", 255)
        for i in ids:
            if fixtures.address(i) is None:
                raise Refusal(292, f"Unknown address record id {i}")
        out["address_ids"] = ids
    if "relatedEstateId" in parameters:
        value = parameters["relatedEstateId"]
        estate_id = 0 if value in (None, 0, "0", "") else _int(value, "relatedEstateId")
        if estate_id and fixtures.estate(estate_id) is None:
            raise Refusal(293, f"Unknown estate record id {estate_id}")
        out["estate_id"] = estate_id or None
    if "subscribers" in parameters:
        subscribers = parameters["subscribers"]
        if not isinstance(subscribers, dict) or set(subscribers) - {"users", "groups"}:
            raise _invalid("subscribers")
        users = _id_list(subscribers.get("users", []), "users", 301)
        groups = _id_list(subscribers.get("groups", []), "groups", 295)
        for i in users:
            if fixtures.user(i) is None:
                raise Refusal(80, f"Unknown record: user {i}")
        for i in groups:
            if fixtures.group(i) is None:
                raise Refusal(80, f"Unknown record: group {i}")
        out["users"], out["groups"] = users, groups
    if "reminderTypes" in parameters:
        types = parameters["reminderTypes"]
        if not isinstance(types, list) or not all(t in spec.REMINDER_CHANNELS for t in types):
            raise _invalid("reminderTypes")
        out["reminder_types"] = list(dict.fromkeys(types))
    return out


def resolve_location(value: Any, record: dict[str, Any], fixtures: Fixtures) -> dict[str, Any]:
    """One location key; an unlinked user/group/address/estate becomes `sonstiges` (§4.3)."""
    if not isinstance(value, dict) or len(value) != 1:
        raise Refusal(290, "location holds wrong values: exactly one location key is needed")
    ((key, raw),) = value.items()
    if key not in spec.PLACE_KEYS:
        raise Refusal(290, f'location holds wrong values: unknown key "{key}"')
    if key not in spec.PLACE_RECORD_KEYS:
        if key == "mandant":
            return {key: _bool(raw, "location")}
        if not isinstance(raw, str):
            raise Refusal(290, f"location holds wrong values: {key} must be text")
        return {key: raw}
    try:
        record_id = _int(raw, "location")
    except Refusal:
        raise Refusal(290, f"location holds wrong values: {key} must be an integer id") from None
    lookup = {
        "address": fixtures.address,
        "estate": fixtures.estate,
        "group": fixtures.group,
        "user": fixtures.user,
        "userMeetingUrl": fixtures.user,
    }[key]
    target = lookup(record_id)
    if target is None:
        raise Refusal(290, f"location holds wrong values: unknown {key} {record_id}")
    linked = {
        "address": record_id in record.get("address_ids", []),
        "estate": record_id == record.get("estate_id"),
        "user": record_id in record.get("users", []),
        "group": record_id in record.get("groups", []),
        "userMeetingUrl": True,
    }[key]
    if linked:
        return {key: record_id}
    return {"sonstiges": display_text(key, target)}


def display_text(kind: str, target: dict[str, Any]) -> str:
    if kind == "estate":
        street = f"{target.get('strasse', '')} {target.get('hausnummer', '')}".strip()
        return ", ".join(
            p for p in (street, f"{target.get('plz', '')} {target.get('ort', '')}".strip()) if p
        )
    if kind == "address":
        name = f"{target.get('Vorname', '')} {target.get('Name', '')}".strip()
        return name or str(target.get("Firma", ""))
    if kind == "group":
        return str(target.get("name", ""))
    return f"{target.get('firstname', '')} {target.get('lastname', '')}".strip()


def effective_status(record: dict[str, Any]) -> str:
    """`status` overrides `abgesagt` (§4.1); neither means active."""
    if record.get("status"):
        return str(record["status"])
    return "canceled" if record.get("abgesagt") else "active"


def group_members(record: dict[str, Any], fixtures: Fixtures) -> list[int]:
    """Every participant: the users added explicitly, then the members of the groups added."""
    members = list(record.get("users", []))
    for g in record.get("groups", []):
        members += (fixtures.group(g) or {}).get("userIds", [])
    return list(dict.fromkeys(members))


def _place_text(location: dict[str, Any], fixtures: Fixtures) -> str:
    if not location:
        return ""
    ((key, value),) = location.items()
    if key == "sonstiges":
        return str(value)
    target = {
        "address": fixtures.address,
        "estate": fixtures.estate,
        "group": fixtures.group,
        "user": fixtures.user,
    }.get(key)
    found = target(value) if target and isinstance(value, int) else None
    if found:
        return display_text(key, found)
    return "" if key in ("keine Angaben", "mandant") else str(value)


def read_elements(record: dict[str, Any], fixtures: Fixtures, dialect: Dialect) -> dict[str, Any]:
    """The elements of a `read calendar` record, typed as the documentation shows them (§5.2)."""
    users = [fixtures.user(i) or {"id": i} for i in record.get("users", [])]
    art = record.get("art")
    resources = record.get("ressources", [])
    elements: dict[str, Any] = {
        "start_dt": record["start_dt"],
        "end_dt": record["end_dt"],
        "description": record.get("description", ""),
        "note": record.get("note", ""),
        "ort": _place_text(record.get("location") or {}, fixtures),
        "art": dialect.key_map({art: fixtures.appointment_types.get(art, art)} if art else {}),
        "fuer": [
            f"{u.get('lastname', '')}, {u.get('firstname', '')} ({u.get('username', '')})"
            for u in users
        ],
        "groups": [dialect.id(g) for g in record.get("groups", [])],
        "emails": dialect.key_map({u.get("username", ""): u.get("email", "") for u in users}),
        "user_ids": [dialect.id(u) for u in group_members(record, fixtures)],
        "ressources": [fixtures.resources.get(k, k) for k in resources],
        "ressourcesWithKeys": dialect.key_map({k: fixtures.resources.get(k, k) for k in resources}),
        "erinnerung": record.get("erinnerung", ""),
        "ganztags": dialect.flag(record.get("ganztags")),
        "rp_flag": dialect.flag(record.get("rp_flag")),
        "abgesagt": dialect.flag(effective_status(record) == "canceled"),
        "status": effective_status(record),
        "assignedaddressids": [dialect.id(a) for a in record.get("address_ids", [])],
        "assignedobjectids": [dialect.id(record["estate_id"])] if record.get("estate_id") else [],
        "rp_type": record.get("rp_type", ""),
        "rp_tage": record.get("rp_tage", 0),
        "rp_beginn_datum": record.get("rp_beginn_datum", spec.UNSET_DAY),
        "rp_ende_datum": record.get("rp_ende_datum", spec.UNSET_DAY),
        "rp_ende_status": str(record.get("rp_ende_status", 0)),
        "rp_exception": list(record.get("rp_exception", [])),
        "allowTransitTime": dialect.flag(record.get("allowTransitTime")),
        "transitTime": record.get("transitTime"),
        "transitTimePre": record.get("transitTimePre", "00:00:00"),
        "transitTimePost": record.get("transitTimePost", "00:00:00"),
        "ProjektNr": None,
        "von": record.get("von", ""),
        "private": "1" if record.get("private") else "0",
        "modified": record["modified"],
        "users": [
            {
                "id": str(u.get("id")),
                "username": u.get("username", ""),
                "firstName": u.get("firstname", ""),
                "lastName": u.get("lastname", ""),
                "email": u.get("email", ""),
            }
            for u in users
        ],
    }
    if dialect.read_status == "absent":
        del elements["status"]
    if art and dialect.read_art != "object":
        elements["art"] = art if dialect.read_art == "key" else fixtures.appointment_types[art]
    return _omitted(elements, dialect, users="users", groups="groups")


def _omitted(elements: dict[str, Any], dialect: Dialect, **names: str) -> dict[str, Any]:
    """The elements this dialect's reads leave out (users, groups, resource keys, modified)."""
    gone = {
        names["users"]: dialect.read_users == "omitted",
        names["groups"]: dialect.read_groups == "omitted",
        "ressourcesWithKeys": dialect.resource_keys == "omitted",
        "modified": dialect.read_modified == "missing",
    }
    return {k: v for k, v in elements.items() if not gone.get(k)}


def occurrences(record: dict[str, Any], first: date, last: date) -> list[dict[str, Any]]:
    """The occurrences of a series between two days, each as a record of its own (id@day)."""
    start = datetime.strptime(record["start_dt"], spec.STAMP)
    length = datetime.strptime(record["end_dt"], spec.STAMP) - start
    step, kind = int(record.get("rp_tage") or 1), record.get("rp_type", "t")
    until = (
        date.fromisoformat(record["rp_ende_datum"])
        if record.get("rp_ende_status") == 1 and record.get("rp_ende_datum")
        else last
    )
    skipped = set(record.get("rp_exception", []))
    out = []
    for n in range(0, 10_000):
        if kind == "t":
            day = start.date() + timedelta(days=n * step)
        elif kind == "w":
            day = start.date() + timedelta(weeks=n * step)
        else:
            months = n * step * (12 if kind == "j" else 1)
            year, month = divmod(start.month - 1 + months, 12)
            try:
                day = date(start.year + year, month + 1, start.day)
            except ValueError:  # the 31st in a shorter month: no occurrence that month
                continue
        if day > min(until, last):
            break
        begin = datetime.combine(day, start.time())
        if (begin + length).date() < first or day.isoformat() in skipped:
            continue  # over before the period (one that overlaps its start is kept)
        out.append(
            {
                **record,
                "id": f"{record['id']}@{day.isoformat()}",
                "start_dt": begin.strftime(spec.STAMP),
                "end_dt": (begin + length).strftime(spec.STAMP),
            }
        )
    return out


def _iso(local: str, tz: ZoneInfo, zone: str) -> str:
    moment = datetime.strptime(local, spec.STAMP).replace(tzinfo=tz)
    return moment.astimezone(UTC).isoformat() if zone == "utc" else moment.isoformat()


def list_elements(record: dict[str, Any], fixtures: Fixtures, dialect: Dialect) -> dict[str, Any]:
    """The elements of an `appointmentList` record: ISO 8601, nested ids as strings (§5.1)."""
    tz = ZoneInfo(spec.WALL_CLOCK_ZONE)
    status = effective_status(record)
    art = record.get("art")
    modified = datetime.strptime(record["modified"], spec.STAMP).replace(tzinfo=UTC)
    user_ids = (
        group_members(record, fixtures)
        if dialect.list_users == "members"
        else record.get("users", [])
    )
    kind: Any = {"value": art or "", "label": fixtures.appointment_types.get(art or "", "")}
    if art and dialect.read_art != "object":
        kind = kind["value" if dialect.read_art == "key" else "label"]
    elements = {
        "id": str(record["id"]),
        "createdBy": record.get("von", ""),
        "modified": modified.isoformat()
        if dialect.list_times == "utc"
        else modified.astimezone(tz).isoformat(),
        "subject": record.get("description", ""),
        "notes": record.get("note", ""),
        "type": kind,
        "status": {"value": status, "label": status},
        "confirmationStatus": "not-set",
        "private": bool(record.get("private")),
        "date": {
            "start": _iso(record["start_dt"], tz, dialect.list_times),
            "end": _iso(record["end_dt"], tz, dialect.list_times),
            "allDay": bool(record.get("ganztags")),
        },
        "travelTime": None,
        "location": _list_location(record.get("location") or {}, fixtures),
        "recurrence": {
            "type": record["rp_type"],
            "interval": record.get("rp_tage"),
            "start": record.get("rp_beginn_datum"),
            "end": record.get("rp_ende_datum"),
        }
        if record.get("rp_flag")
        else None,
        "reminder": {
            "timeBefore": spec.REMINDERS.get(record.get("erinnerung", ""), 0),
            "recipients": "",
            "types": record.get("reminder_types", []),
            "confirmedOnly": False,
        },
        "groups": [
            {"id": str(g), "name": (fixtures.group(g) or {}).get("name", "")}
            for g in record.get("groups", [])
        ],
        "users": [
            {
                "id": str(u),
                "userName": (fixtures.user(u) or {}).get("username", ""),
                "firstName": (fixtures.user(u) or {}).get("firstname", ""),
                "lastName": (fixtures.user(u) or {}).get("lastname", ""),
                "email": (fixtures.user(u) or {}).get("email", ""),
            }
            for u in user_ids
        ],
        "resources": [
            {"id": k, "name": fixtures.resources.get(k, k)} for k in record.get("ressources", [])
        ],
        "contacts": [
            {"id": str(a), "confirmationStatus": "not-set"} for a in record.get("address_ids", [])
        ],
        "estate": {"id": str(record["estate_id"])} if record.get("estate_id") else None,
        "project": None,
    }
    return _omitted(elements, dialect, users="users", groups="groups")


def _list_location(location: dict[str, Any], fixtures: Fixtures) -> dict[str, Any] | None:
    if not location:
        return None
    ((key, _value),) = location.items()
    return {"type": key, "value": _place_text(location, fixtures)}
