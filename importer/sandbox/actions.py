"""What each supported (action, resource type) pair does in the sandbox.

A handler takes the :class:`Context` and the action's parameters and returns the result records
and ``cntabsolute``, or raises :class:`~importer.sandbox.calendar.Refusal` for a per-action error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from .. import contract
from . import calendar
from .calendar import Refusal
from .filters import compile_filter, page
from .fixtures import Fixtures
from .store import Store

Records = tuple[list[dict[str, Any]], int | None]


@dataclass
class Context:
    fixtures: Fixtures
    store: Store
    now: datetime  # the server's clock, UTC
    resourceid: str

    @property
    def modified(self) -> str:
        return self.now.strftime(contract.DATETIME_FORMAT)


def _params(raw: Any) -> dict[str, Any]:
    return raw if isinstance(raw, dict) else {}  # `[]` is PHP's empty parameters (§1.2)


def _record_id(ctx: Context) -> int:
    if not str(ctx.resourceid).isdigit():
        raise Refusal(79, "Missing record id")
    return int(ctx.resourceid)


def _store_fields(record: dict[str, Any], data: dict[str, Any]) -> None:
    """Merge validated data into a stored record: `status` overrides `abgesagt` (§4.1)."""
    record.update({k: v for k, v in data.items() if k != "abgesagt"})
    if "status" in data:
        record["status"] = data["status"]
    elif "abgesagt" in data:
        record["status"] = "canceled" if data["abgesagt"] else "active"


# --- calendar ----------------------------------------------------------------------------------
def create_calendar(ctx: Context, raw: Any) -> Records:
    parameters = _params(raw)
    data = calendar.validate_data(parameters.get("data", {}), ctx.fixtures, creating=True)
    record: dict[str, Any] = {"von": ctx.fixtures.api_user}
    _store_fields(record, data)
    record.update(calendar.validate_links(parameters, ctx.fixtures))
    if "location" in parameters:
        record["location"] = calendar.resolve_location(parameters["location"], record, ctx.fixtures)
    calendar.check_consistency(record)
    record["created"] = ctx.modified
    new_id = ctx.store.insert_appointment(record, ctx.modified)
    return [{"id": new_id, "type": "calendar", "elements": []}], None


def modify_calendar(ctx: Context, raw: Any) -> Records:
    parameters = _params(raw)
    record = ctx.store.appointment(_record_id(ctx))
    if record is None:
        raise Refusal(169, "Appointment not found")
    data = calendar.validate_data(parameters.get("data", {}), ctx.fixtures, creating=False)
    _store_fields(record, data)
    links = calendar.validate_links(parameters, ctx.fixtures)
    if "address_ids" in links and not parameters.get("replaceAddressIds"):
        links["address_ids"] = list(
            dict.fromkeys(record.get("address_ids", []) + links["address_ids"])
        )
    record.update(links)
    if "location" in parameters:
        record["location"] = calendar.resolve_location(parameters["location"], record, ctx.fixtures)
    calendar.check_consistency(record)
    ctx.store.update_appointment(record, ctx.modified)
    return [{"id": 0, "type": "calendar", "elements": {"success": "success"}}], None


def delete_calendar(ctx: Context, raw: Any) -> Records:
    if not ctx.store.delete_appointment(_record_id(ctx)):
        raise Refusal(169, "Appointment not found")
    return [{"id": 0, "type": "calendar", "elements": {"success": "success"}}], None


def _day(value: Any, name: str) -> date:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise Refusal(255, f'Invalid value for parameter "{name}"') from None


def _involves(record: dict[str, Any], users: set[int], groups: set[int], fx: Fixtures) -> bool:
    """A participant user, a participant group, or a member of a participant group."""
    if users & set(record.get("users", [])) or groups & set(record.get("groups", [])):
        return True
    members = {u for g in record.get("groups", []) for u in (fx.group(g) or {}).get("userIds", [])}
    return bool(users & members)


def _visible(parameters: dict[str, Any], fx: Fixtures) -> Callable[[dict[str, Any]], bool]:
    if parameters.get("allusers") in (True, 1, "1", "true"):
        return lambda r: True
    users, groups = set(parameters.get("users") or []), set(parameters.get("groups") or [])
    if not users and not groups:  # default: the API user's and their groups' appointments
        me = int(fx.api_user_record["id"])
        users = {me}
        groups = {int(g["id"]) for g in fx.groups if me in g.get("userIds", [])}
    return lambda r: _involves(r, users, groups, fx)


_CALENDAR_FILTER_FIELDS = (
    "start_dt",
    "end_dt",
    "rp_flag",
    "description",
    "von",
    "erledigt",
    "note",
    "art",
)


def _calendar_field(record: dict[str, Any], name: str) -> Any:
    if name == "erledigt":
        return "1" if record.get("status") == "completed" else "0"
    if name == "rp_flag":
        return "1" if record.get("rp_flag") else "0"
    return record.get(name, "")


def read_calendar(ctx: Context, raw: Any) -> Records:
    parameters = _params(raw)
    fx = ctx.fixtures
    if ctx.resourceid not in ("", None):
        record = ctx.store.appointment(_record_id(ctx))
        if record is None:
            raise Refusal(169, "Appointment not found")
        return [
            {"id": record["id"], "type": "calendar", "elements": calendar.read_elements(record, fx)}
        ], 1
    has_period = bool(parameters.get("datestart")) and bool(parameters.get("dateend"))
    if has_period:
        start = _day(parameters["datestart"], "datestart").isoformat() + " 00:00:00"
        end = _day(parameters["dateend"], "dateend").isoformat() + " 23:59:59"
        records = ctx.store.appointments_overlapping(start, end)
    elif parameters.get("modifiedstart") and parameters.get("modifiedend"):
        records = ctx.store.appointments_modified(
            str(parameters["modifiedstart"]), str(parameters["modifiedend"])
        )
    else:
        raise Refusal(289, "Missing date period")
    if not has_period and (
        parameters.get("filter") or parameters.get("users") or parameters.get("groups")
    ):
        raise Refusal(241, "Filters only when reading appointments of a period")
    keep = compile_filter(parameters.get("filter"), _CALENDAR_FILTER_FIELDS)
    visible = _visible(parameters, fx)
    show_cancelled = parameters.get("showcancelled") in (True, 1, "1", "true")
    found = [
        r
        for r in records
        if visible(r)
        and keep(r, _calendar_field)
        and (show_cancelled or calendar.effective_status(r) != "canceled")
    ]
    limited = found[: contract.LISTLIMIT_MAX]
    return [
        {"id": r["id"], "type": "calendar", "elements": calendar.read_elements(r, fx)}
        for r in limited
    ], len(found)


def _filter_value(value: Any) -> Any:
    """appointmentList filters take plain values or a one-element op/val list."""
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return value[0].get("val")
    return value


def appointment_list(ctx: Context, raw: Any) -> Records:
    parameters = _params(raw)
    spec = parameters.get("filter") or {}
    if not isinstance(spec, dict) or not spec.get("startDate") or not spec.get("endDate"):
        raise Refusal(289, "Missing date period: filter.startDate and filter.endDate are mandatory")
    start = _day(_filter_value(spec["startDate"]), "startDate").isoformat() + " 00:00:00"
    end = _day(_filter_value(spec["endDate"]), "endDate").isoformat() + " 23:59:59"
    fx = ctx.fixtures
    users = {int(u) for u in spec.get("userIds") or []}
    groups = {int(g) for g in spec.get("groupIds") or []}
    text_fields = {"notes": "note", "createdBy": "von", "type": "art", "subject": "description"}
    text_spec = {text_fields[k]: v for k, v in spec.items() if k in text_fields}
    keep = compile_filter(text_spec, text_fields.values())
    found = []
    for r in ctx.store.appointments_overlapping(start, end):
        status = calendar.effective_status(r)
        if (users or groups) and not _involves(r, users, groups, fx):
            continue
        if "isCancelled" in spec and (status == "canceled") != bool(spec["isCancelled"]):
            continue
        if "isDone" in spec and (status == "completed") != bool(spec["isDone"]):
            continue
        if "isRecurrent" in spec and bool(r.get("rp_flag")) != bool(spec["isRecurrent"]):
            continue
        if keep(r, _calendar_field):
            found.append(r)
    wanted = parameters.get("data")
    out = []
    for r in found[: contract.LISTLIMIT_MAX]:
        elements = calendar.list_elements(r, fx)
        if isinstance(wanted, list) and wanted:
            elements = {k: v for k, v in elements.items() if k in wanted or k == "id"}
        out.append({"id": r["id"], "type": "calendar", "elements": elements})
    return out, len(found)


def appointment_conflicts(ctx: Context, raw: Any) -> Records:
    """Who and what an appointment at that time would double-book (§5.6)."""
    parameters = _params(raw)
    data = parameters.get("data") if isinstance(parameters.get("data"), dict) else parameters
    start, end = data.get("start_dt"), data.get("end_dt")
    if not start or not end:
        raise Refusal(
            91 if not start else 92, "Start date missing" if not start else "End date missing"
        )
    start = calendar.parse_datetime(start, "start_dt").strftime(contract.DATETIME_FORMAT)
    end = calendar.parse_datetime(end, "end_dt").strftime(contract.DATETIME_FORMAT)
    subscribers = parameters.get("subscribers") or {}
    users = set(subscribers.get("users") or parameters.get("users") or [])
    resources = set(data.get("ressources") or [])
    addresses = set(parameters.get("relatedAddressIds") or [])
    estate = parameters.get("relatedEstateId")
    hits: dict[str, set[Any]] = {
        "conflictedUsers": set(),
        "conflictedResources": set(),
        "conflictedAddresses": set(),
        "conflictedEstates": set(),
    }
    for r in ctx.store.appointments_overlapping(start, end):
        # Touching ends (10:00-11:00 then 11:00-12:00) do not conflict.
        if r["start_dt"] >= end or r["end_dt"] <= start or r.get("status") == "canceled":
            continue
        hits["conflictedUsers"] |= users & set(r.get("users", []))
        hits["conflictedResources"] |= resources & set(r.get("ressources", []))
        hits["conflictedAddresses"] |= addresses & set(r.get("address_ids", []))
        if estate and r.get("estate_id") == estate:
            hits["conflictedEstates"].add(estate)
    return [
        {"id": k, "type": "", "elements": [{"id": i} for i in sorted(v, key=str)]}
        for k, v in hits.items()
    ], None


# --- look-ups -----------------------------------------------------------------------------------
def _select(record: dict[str, Any], wanted: Any, extra: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(wanted, list) or not wanted:
        return {**{k: v for k, v in record.items() if k != "emails"}, **extra}
    out = dict(extra)
    for name in wanted:
        if name not in record and name not in extra:
            raise Refusal(75, f'Unknown field "{name}"')
        if name in record:
            out[name] = record[name]
    return out


def _sorted(records: list[dict[str, Any]], sortby: Any, sortorder: Any) -> list[dict[str, Any]]:
    if isinstance(sortby, dict) and sortby:
        ((field, order),) = list(sortby.items())[:1]
    elif isinstance(sortby, str) and sortby:
        field, order = sortby, sortorder or "ASC"
    else:
        return records
    return sorted(
        records,
        key=lambda r: str(r.get(field, "")).casefold(),
        reverse=str(order).upper() == "DESC",
    )


def read_estate(ctx: Context, raw: Any) -> Records:
    parameters = _params(raw)
    estates = ctx.fixtures.estates
    if ctx.resourceid not in ("", None):
        estates = [e for e in estates if str(e["id"]) == str(ctx.resourceid)]
    else:
        fields = {k for e in estates for k in e} | {"Id"}
        keep = compile_filter(parameters.get("filter"), fields)
        estates = [
            e for e in estates if keep(e, lambda r, n: str(r["id"]) if n == "Id" else r.get(n))
        ]
    estates = _sorted(estates, parameters.get("sortby"), parameters.get("sortorder"))
    chosen, total = page(estates, parameters)
    return [
        {
            "id": e["id"],
            "type": "estate",
            "elements": _select(e, parameters.get("data"), {"Id": str(e["id"])}),
        }
        for e in chosen
    ], total


def _address_field(record: dict[str, Any], name: str) -> Any:
    if name == "email":  # every e-mail of the address (§6.3)
        return record.get("emails") or [record.get("Email", "")]
    if name == "Id":
        return record["id"]
    return record.get(name, "")


def read_address(ctx: Context, raw: Any) -> Records:
    parameters = _params(raw)
    addresses = ctx.fixtures.addresses
    ids = parameters.get("recordids")
    if ids:
        wanted_ids = {int(i) for i in ids if str(i).isdigit()}
        addresses = [a for a in addresses if a["id"] in wanted_ids]
    fields = {k for a in addresses for k in a} | {"email", "Email", "Id", "KdNr"}
    keep = compile_filter(parameters.get("filter"), fields)
    addresses = [a for a in addresses if keep(a, _address_field)]
    addresses = _sorted(addresses, parameters.get("sortby"), parameters.get("sortorder"))
    chosen, total = page(addresses, parameters)
    out = []
    for a in chosen:
        extra: dict[str, Any] = {"id": a["id"]}
        if isinstance(parameters.get("data"), list) and "email" in parameters["data"]:
            extra.update({f"email__{n}": e for n, e in enumerate(a.get("emails", []), 1)})
        data = [d for d in parameters.get("data") or [] if d != "email"] or None
        out.append({"id": a["id"], "type": "address", "elements": _select(a, data, extra)})
    return out, total


def get_users(ctx: Context, raw: Any) -> Records:
    parameters = _params(raw)
    fx = ctx.fixtures
    users = fx.users
    mode = parameters.get("userfilter")
    me = fx.api_user_record
    if mode == "onlyOwn":
        users = [me]
    elif mode == "byGroupId":
        group = fx.group(int(parameters.get("groupId") or 0))
        if group is None:
            raise Refusal(80, "Unknown record: group")
        users = [u for u in users if u["id"] in group.get("userIds", [])]
    elif mode == "ownOfficeGroupOrAll":
        mine = [
            g
            for g in fx.groups
            if g.get("groupType") == "GroupOffice" and me["id"] in g.get("userIds", [])
        ]
        if mine:
            members = {u for g in mine for u in g.get("userIds", [])}
            users = [u for u in users if u["id"] in members]
    keys = ("id", "username", "firstname", "lastname", "email", "meetingurl")
    return [
        {"id": u["id"], "type": None, "elements": {k: u.get(k, "") for k in keys}} for u in users
    ], None


def read_user(ctx: Context, raw: Any) -> Records:
    parameters = _params(raw)
    rename = {
        "Nr": "id",
        "Name": "username",
        "Vorname": "firstname",
        "Nachname": "lastname",
        "email": "email",
    }
    users = [{k: u.get(v, "") for k, v in rename.items()} for u in ctx.fixtures.users]
    keep = compile_filter(parameters.get("filter"), rename)
    users = [u for u in users if keep(u, lambda r, n: r.get(n))]
    chosen, total = page(users, parameters)
    return [
        {"id": u["Nr"], "type": "user", "elements": _select(u, parameters.get("data"), {})}
        for u in chosen
    ], total


def get_groups(ctx: Context, raw: Any) -> Records:
    parameters = _params(raw)
    groups = ctx.fixtures.groups
    mode = parameters.get("groupfilter")
    if mode == "officeGroups":
        groups = [g for g in groups if g.get("groupType") == "GroupOffice"]
    elif mode == "noRegionGroups":
        groups = [g for g in groups if g.get("groupType") != "GroupRegion"]
    keys = ("id", "name", "abr", "userIds", "groupType", "leaders")
    return [
        {"id": g["id"], "type": None, "elements": {k: g.get(k) for k in keys}} for g in groups
    ], None


def get_calendar_resources(ctx: Context, raw: Any) -> Records:
    return [
        {"id": n, "type": "", "elements": {key: label}}
        for n, (key, label) in enumerate(ctx.fixtures.resources.items(), 1)
    ], None


Handler = Callable[[Context, Any], Records]

HANDLERS: dict[tuple[str, str], Handler] = {
    ("create", "calendar"): create_calendar,
    ("read", "calendar"): read_calendar,
    ("modify", "calendar"): modify_calendar,
    ("delete", "calendar"): delete_calendar,
    ("delete", "appointments"): delete_calendar,  # the doc header's name for it (§5.5)
    ("get", "appointmentList"): appointment_list,
    ("get", "appointmentConflicts"): appointment_conflicts,
    ("read", "estate"): read_estate,
    ("read", "address"): read_address,
    ("read", "user"): read_user,
    ("get", "users"): get_users,
    ("get", "groups"): get_groups,
    ("get", "calendarResources"): get_calendar_resources,
}

WRITE_KINDS = frozenset({"create", "modify", "delete", "do"})


def utc_now(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)
