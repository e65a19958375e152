"""calendar create/modify validation and the shapes the sandbox answers reads with (§4, §5).

This is an independent, per-request implementation of the server rules; the importer's
vectorised Pandera schema (``importer/schema.py``) checks the same rules before sending, and the
tests hold the two against each other.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from .. import contract
from .fixtures import Fixtures


class Refusal(Exception):
    """A per-action error: the errorcode and message the action's status carries."""

    def __init__(self, code: int, message: str) -> None:
        self.code, self.message = code, message
        super().__init__(f"{code}: {message}")


def _invalid(name: str) -> Refusal:
    return Refusal(255, f'Invalid value for parameter "{name}"')


def parse_datetime(value: Any, name: str) -> datetime:
    if not isinstance(value, str) or not contract.DATETIME_RE.match(value):
        raise _invalid(name)
    try:
        return datetime.strptime(value, contract.DATETIME_FORMAT)
    except ValueError:
        raise _invalid(name) from None


def _date(value: Any, name: str) -> date:
    if not isinstance(value, str) or not contract.DATE_RE.match(value):
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


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise _invalid(name)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise _invalid(name)


def _id_list(value: Any, name: str, code: int) -> list[int]:
    if not isinstance(value, list):
        raise Refusal(code, f"{name} must be an array of IDs")
    if len(value) > contract.MAX_IDS_PER_ACTION:
        raise Refusal(302, "Action supports only up to 500 ids")
    return [_int(v, name) for v in value]


def validate_data(data: Any, fixtures: Fixtures, *, creating: bool) -> dict[str, Any]:
    """Check ``parameters.data``; return the normalised fields that were sent."""
    if not isinstance(data, dict):
        raise _invalid("data")
    unknown = [k for k in data if k not in contract.DATA_FIELDS]
    if unknown:
        raise Refusal(154, f'Unknown calendar field "{unknown[0]}"')
    if creating:
        if data.get("start_dt") in (None, ""):
            raise Refusal(91, 'Start date missing: missing mandatory field "start_dt"')
        if data.get("end_dt") in (None, ""):
            raise Refusal(92, 'End date missing: missing mandatory field "end_dt"')
    out: dict[str, Any] = {}
    for name, value in data.items():
        if name in ("start_dt", "end_dt"):
            out[name] = parse_datetime(value, name).strftime(contract.DATETIME_FORMAT)
        elif name in contract.DATA_STRING_FIELDS:
            if not isinstance(value, str):
                raise _invalid(name)
            if len(value) > contract.MAX_TEXT_LENGTH[name]:
                raise Refusal(
                    255,
                    f'Invalid value for parameter "{name}": longer than '
                    f"{contract.MAX_TEXT_LENGTH[name]} characters",
                )
            out[name] = value
        elif name in contract.DATA_BOOL_FIELDS:
            out[name] = _bool(value, name)
        elif name in contract.DATA_DURATION_FIELDS:
            if not isinstance(value, str) or not contract.DURATION_RE.match(value):
                raise _invalid(name)
            out[name] = value
        elif name == "status":
            if value not in contract.STATUS_VALUES:
                raise _invalid(name)
            out[name] = value
        elif name == "erinnerung":
            if value not in contract.ERINNERUNG_VALUES:
                raise _invalid(name)
            out[name] = value
        elif name == "ressources":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise _invalid(name)
            for key in value:
                if key not in fixtures.resources:
                    raise Refusal(252, f'Unknown value in select field "ressources": {key}')
            out[name] = list(value)
        elif name == "rp_type":
            if value not in contract.RP_TYPES:
                raise _invalid(name)
            out[name] = value
        elif name == "rp_tage":
            tage = _int(value, name)
            low, high = contract.RP_TAGE_RANGE
            if not low <= tage <= high:
                raise _invalid(name)
            out[name] = tage
        elif name in ("rp_beginn_datum", "rp_ende_datum"):
            out[name] = _date(value, name).isoformat()
        elif name == "rp_ende_status":
            status = _int(value, name)
            if status not in contract.RP_ENDE_STATUS:
                raise _invalid(name)
            out[name] = status
        elif name == "rp_exception":
            if not isinstance(value, str) or not contract.RP_EXCEPTION_RE.match(value):
                raise _invalid(name)
            out[name] = [_date(d, name).isoformat() for d in value.split("#")[1:]]
    if "art" in out and out["art"] not in fixtures.appointment_types:
        raise Refusal(252, f'Unknown value in select field "art": {out["art"]}')
    if "von" in out and not any(u["username"] == out["von"] for u in fixtures.users):
        raise Refusal(251, f'Unknown user "{out["von"]}"')
    return out


def check_consistency(record: dict[str, Any]) -> None:
    """Cross-field rules over the complete (created or modified) appointment."""
    if record["end_dt"] < record["start_dt"]:
        raise Refusal(93, "Start date is greater than end date")
    if record.get("rp_flag"):
        for name in contract.RP_REQUIRED_WITH_FLAG:
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
        if not isinstance(types, list) or not all(t in contract.REMINDER_TYPES for t in types):
            raise _invalid("reminderTypes")
        out["reminder_types"] = list(dict.fromkeys(types))
    return out


def resolve_location(value: Any, record: dict[str, Any], fixtures: Fixtures) -> dict[str, Any]:
    """One location key; an unlinked user/group/address/estate becomes `sonstiges` (§4.3)."""
    if not isinstance(value, dict) or len(value) != 1:
        raise Refusal(290, "location holds wrong values: exactly one location key is needed")
    ((key, raw),) = value.items()
    if key not in contract.LOCATION_KEYS:
        raise Refusal(290, f'location holds wrong values: unknown key "{key}"')
    if key not in contract.LOCATION_ID_KEYS:
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
        return record["status"]
    return "canceled" if record.get("abgesagt") else "active"


def _flag(value: Any) -> str:
    return "1" if value else "0"


def read_elements(record: dict[str, Any], fixtures: Fixtures) -> dict[str, Any]:
    """The elements of a `read calendar` record, with the documented mixed typing (§5.2)."""
    users = [fixtures.user(i) or {"id": i} for i in record.get("users", [])]
    location = record.get("location") or {}
    ort = ""
    if "sonstiges" in location:
        ort = location["sonstiges"]
    elif location:
        ((key, value),) = location.items()
        target = {
            "address": fixtures.address,
            "estate": fixtures.estate,
            "group": fixtures.group,
            "user": fixtures.user,
        }.get(key)
        found = target(value) if target and isinstance(value, int) else None
        ort = display_text(key, found) if found else str(value)
    art = record.get("art")
    resources = record.get("ressources", [])
    return {
        "start_dt": record["start_dt"],
        "end_dt": record["end_dt"],
        "description": record.get("description", ""),
        "note": record.get("note", ""),
        "ort": ort,
        "location": location,
        "art": {art: fixtures.appointment_types.get(art, art)} if art else {},
        "fuer": [
            f"{u.get('lastname', '')}, {u.get('firstname', '')} ({u.get('username', '')})"
            for u in users
        ],
        "groups": list(record.get("groups", [])),
        "emails": {u.get("username", ""): u.get("email", "") for u in users},
        "user_ids": list(record.get("users", [])),
        "ressources": [fixtures.resources.get(k, k) for k in resources],
        "ressourcesWithKeys": {k: fixtures.resources.get(k, k) for k in resources},
        "erinnerung": record.get("erinnerung", ""),
        "reminderTypes": list(record.get("reminder_types", [])),
        "ganztags": _flag(record.get("ganztags")),
        "rp_flag": _flag(record.get("rp_flag")),
        "abgesagt": _flag(effective_status(record) == "canceled"),
        "status": effective_status(record),
        "assignedaddressids": list(record.get("address_ids", [])),
        "assignedobjectids": [record["estate_id"]] if record.get("estate_id") else [],
        "rp_type": record.get("rp_type", ""),
        "rp_tage": record.get("rp_tage", 0),
        "rp_beginn_datum": record.get("rp_beginn_datum", "0000-00-00"),
        "rp_ende_datum": record.get("rp_ende_datum", "0000-00-00"),
        "rp_ende_status": str(record.get("rp_ende_status", 0)),
        "rp_exception": list(record.get("rp_exception", [])),
        "allowTransitTime": _flag(record.get("allowTransitTime")),
        "transitTime": record.get("transitTime"),
        "transitTimePre": record.get("transitTimePre", "00:00:00"),
        "transitTimePost": record.get("transitTimePost", "00:00:00"),
        "ProjektNr": None,
        "von": record.get("von", ""),
        "private": _flag(record.get("private")),
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


def _iso(local: str, tz: ZoneInfo) -> str:
    return datetime.strptime(local, contract.DATETIME_FORMAT).replace(tzinfo=tz).isoformat()


def list_elements(record: dict[str, Any], fixtures: Fixtures) -> dict[str, Any]:
    """The elements of an `appointmentList` record: ISO-8601 with offset (§5.1)."""
    tz = ZoneInfo(contract.LOCAL_TIMEZONE)
    utc = ZoneInfo("UTC")
    status = effective_status(record)
    art = record.get("art")
    modified = datetime.strptime(record["modified"], contract.DATETIME_FORMAT).replace(tzinfo=utc)
    return {
        "id": str(record["id"]),
        "createdBy": record.get("von", ""),
        "modified": modified.isoformat(),
        "subject": record.get("description", ""),
        "notes": record.get("note", ""),
        "type": {"value": art or "", "label": fixtures.appointment_types.get(art or "", "")},
        "status": {"value": status, "label": status},
        "private": bool(record.get("private")),
        "date": {
            "start": _iso(record["start_dt"], tz),
            "end": _iso(record["end_dt"], tz),
            "allDay": bool(record.get("ganztags")),
        },
        "location": _list_location(record.get("location") or {}),
        "recurrence": {
            "type": record["rp_type"],
            "interval": record.get("rp_tage"),
            "start": record.get("rp_beginn_datum"),
            "end": record.get("rp_ende_datum"),
            "exceptions": record.get("rp_exception", []),
        }
        if record.get("rp_flag")
        else None,
        "reminder": {
            "timeBefore": record.get("erinnerung"),
            "types": record.get("reminder_types", []),
        },
        "groups": [
            {"id": g, "name": (fixtures.group(g) or {}).get("name", "")}
            for g in record.get("groups", [])
        ],
        "users": [
            {
                "id": u,
                "userName": (fixtures.user(u) or {}).get("username", ""),
                "firstName": (fixtures.user(u) or {}).get("firstname", ""),
                "lastName": (fixtures.user(u) or {}).get("lastname", ""),
                "email": (fixtures.user(u) or {}).get("email", ""),
            }
            for u in record.get("users", [])
        ],
        "resources": [
            {"id": k, "name": fixtures.resources.get(k, k)} for k in record.get("ressources", [])
        ],
        "contacts": [
            {"id": a, "confirmationStatus": "not-set"} for a in record.get("address_ids", [])
        ],
        "estate": {"id": record["estate_id"]} if record.get("estate_id") else None,
        "project": None,
    }


def _list_location(location: dict[str, Any]) -> dict[str, Any] | None:
    if not location:
        return None
    ((key, value),) = location.items()
    return {"type": key, "value": value}
