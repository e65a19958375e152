"""What each supported (action, resource type) pair does in the sandbox.

A handler takes the :class:`Context` and the action's parameters and returns the result records
and ``cntabsolute``, or raises :class:`~importer.sandbox.calendar.Refusal` for a per-action error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from . import calendar, spec
from .calendar import Refusal
from .dialects import MODIFIED_LAG_SECONDS, Dialect
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
    dialect: Dialect = field(default_factory=Dialect)

    @property
    def modified(self) -> str:
        """What `modified` says after a write now (automation may touch it a little later)."""
        lag = MODIFIED_LAG_SECONDS if self.dialect.modified_lag == "late" else 0
        return (self.now + timedelta(seconds=lag)).strftime(spec.STAMP)


def _params(raw: Any) -> dict[str, Any]:
    return raw if isinstance(raw, dict) else {}  # `[]` is PHP's empty parameters (§1.2)


def _record_id(ctx: Context) -> int:
    if not str(ctx.resourceid):
        raise Refusal(spec.E_RECORD_ID, "Missing record id")
    number = calendar.whole_number(str(ctx.resourceid))
    if number is None:
        raise Refusal(spec.E_APPOINTMENT_NOT_FOUND, "Appointment not found")
    return number


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
    data = calendar.validate_data(
        parameters.get("data", {}), ctx.fixtures, creating=True, dialect=ctx.dialect
    )
    record: dict[str, Any] = {"von": ctx.fixtures.api_user}
    _store_fields(record, data)
    record.update(calendar.validate_links(parameters, ctx.fixtures))
    _may(ctx, "create", record.get("users", []))
    if "location" in parameters:
        record["location"] = calendar.resolve_location(parameters["location"], record, ctx.fixtures)
    calendar.check_consistency(record)
    record["created"] = ctx.modified
    new_id = ctx.store.insert_appointment(record, ctx.modified)
    return [{"id": ctx.dialect.id(new_id), "type": "calendar", "elements": []}], None


def modify_calendar(ctx: Context, raw: Any) -> Records:
    parameters = _params(raw)
    record = ctx.store.appointment(_record_id(ctx))
    if record is None:
        raise Refusal(169, "Appointment not found")
    data = calendar.validate_data(
        parameters.get("data", {}), ctx.fixtures, creating=False, dialect=ctx.dialect
    )
    _may(ctx, "modify", record.get("users", []))
    _store_fields(record, data)
    links = calendar.validate_links(parameters, ctx.fixtures)
    _may(ctx, "modify", links.get("users", []))
    if "address_ids" in links and not parameters.get("replaceAddressIds"):
        links["address_ids"] = list(
            dict.fromkeys(record.get("address_ids", []) + links["address_ids"])
        )
    if ctx.dialect.modify_subscribers == "merge":  # UNDOCUMENTED (§5.4): added, not replaced
        for kind in ("users", "groups"):
            if kind in links:
                links[kind] = list(dict.fromkeys(record.get(kind, []) + links[kind]))
    record.update(links)
    if "location" in parameters:
        record["location"] = calendar.resolve_location(parameters["location"], record, ctx.fixtures)
    calendar.check_consistency(record)
    ctx.store.update_appointment(record, ctx.modified)
    return [{"id": 0, "type": "calendar", "elements": {"success": "success"}}], None


def _may(ctx: Context, action: str, users: list[int]) -> None:
    """An appointment of users whose appointments the API user may not write: refused."""
    if not all(ctx.fixtures.may(action, u) for u in users):
        raise Refusal(spec.E_NO_RIGHT_OTHERS, "No right to edit appointments of other users")


def delete_calendar(ctx: Context, raw: Any) -> Records:
    if not ctx.store.delete_appointment(_record_id(ctx)):
        raise Refusal(169, "Appointment not found")
    return [{"id": 0, "type": "calendar", "elements": {"success": "success"}}], None


def _day(value: Any, name: str, *, bare: bool = True) -> date:
    """A date parameter: `YYYY-MM-DD HH:MM:SS` (time ignored), or a bare day when ``bare``."""
    text = value if isinstance(value, str) else ""
    if spec.STAMP_RE.fullmatch(text) or (bare and spec.DAY_RE.fullmatch(text)):
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            pass
    raise Refusal(spec.E_INVALID_VALUE, f'Invalid value for parameter "{name}"')


def _ids(value: Any, name: str) -> set[int]:
    """A list of record ids (ints or digit strings) from a read parameter."""
    if value in (None, "", []):
        return set()
    numbers = [calendar.whole_number(v) for v in (value if isinstance(value, list) else [value])]
    if any(n is None for n in numbers):
        raise Refusal(spec.E_INVALID_VALUE, f'Invalid value for parameter "{name}": ids expected')
    return {n for n in numbers if n is not None}


def _involves(record: dict[str, Any], users: set[int], groups: set[int], fx: Fixtures) -> bool:
    """A participant user, a participant group, or a member of a participant group."""
    if groups & set(record.get("groups", [])):
        return True
    return bool(users & set(calendar.group_members(record, fx)))


def _truthy(value: Any) -> bool:
    return value in (True, 1, "1", "true")


def _visible(parameters: dict[str, Any], fx: Fixtures) -> Callable[[dict[str, Any]], bool]:
    if _truthy(parameters.get("allusers")):
        return lambda r: True
    users, groups = _ids(parameters.get("users"), "users"), _ids(parameters.get("groups"), "groups")
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


def _in_period(ctx: Context, first: date, last: date) -> list[dict[str, Any]]:
    """Appointments overlapping whole days; series once or per occurrence (dialect `series`)."""
    start, end = f"{first.isoformat()} 00:00:00", f"{last.isoformat()} 23:59:59"
    records = ctx.store.appointments_overlapping(start, end)
    if ctx.dialect.series == "once":
        return records
    out = [r for r in records if not r.get("rp_flag")]
    for r in ctx.store.all_appointments():
        if r.get("rp_flag") and r["start_dt"] <= end:
            out += [o for o in calendar.occurrences(r, first, last) if o["end_dt"] >= start]
    return sorted(out, key=lambda r: (r["start_dt"], str(r["id"])))


def read_calendar(ctx: Context, raw: Any) -> Records:
    if ctx.dialect.calendar_read == "removed":
        raise Refusal(spec.E_NO_ACTION_CONFIG, 'Missing configuration for actionId "read"')
    parameters = _params(raw)
    fx = ctx.fixtures
    if ctx.resourceid not in ("", None):
        record = ctx.store.appointment(_record_id(ctx))
        if record is None:
            raise Refusal(spec.E_APPOINTMENT_NOT_FOUND, "Appointment not found")
        return [
            {
                "id": ctx.dialect.id(record["id"]),
                "type": "calendar",
                "elements": calendar.read_elements(record, fx, ctx.dialect),
            }
        ], 1
    has_period = bool(parameters.get("datestart")) and bool(parameters.get("dateend"))
    if has_period:
        bare = ctx.dialect.bare_dates == "accept"
        first = _day(parameters["datestart"], "datestart", bare=bare)
        last = _day(parameters["dateend"], "dateend", bare=bare)
        if ctx.dialect.dateend == "exclusive":  # the period ends where dateend begins
            last -= timedelta(days=1)
        records = _in_period(ctx, first, last) if last >= first else []
    elif parameters.get("modifiedstart") or parameters.get("modifiedend"):
        # §5.2: "can be used alone or in combination"
        records = ctx.store.appointments_modified(
            str(
                (ctx.dialect.modifiedstart == "honoured" and parameters.get("modifiedstart"))
                or "0000-00-00 00:00:00"
            ),
            str(parameters.get("modifiedend") or "9999-12-31 23:59:59"),
        )
    else:
        raise Refusal(spec.E_PERIOD_MISSING, "Missing date period")
    if not has_period and (
        parameters.get("filter") or parameters.get("users") or parameters.get("groups")
    ):
        raise Refusal(
            spec.E_FILTER_NEEDS_PERIOD, "Filters only when reading appointments of a period"
        )
    keep = compile_filter(parameters.get("filter"), _CALENDAR_FILTER_FIELDS)
    visible = _visible(parameters, fx)
    show_cancelled = _truthy(parameters.get("showcancelled"))
    found = [
        r
        for r in records
        if visible(r)
        and keep(r, _calendar_field)
        and (show_cancelled or calendar.effective_status(r) != "canceled")
    ]
    limited = found[: spec.MAX_LISTLIMIT]
    return [
        {
            "id": ctx.dialect.id(r["id"]),
            "type": "calendar",
            "elements": calendar.read_elements(r, fx, ctx.dialect),
        }
        for r in limited
    ], len(found)


def _filter_value(value: Any) -> Any:
    """appointmentList filters take plain values or a one-element op/val list."""
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return value[0].get("val")
    return value


def _list_flag(conditions: dict[str, Any], name: str) -> bool | None:
    if name not in conditions:
        return None
    value = _filter_value(conditions[name])
    if value in (True, 1, "1", "true"):
        return True
    if value in (False, 0, "0", "false"):
        return False
    raise Refusal(spec.E_INVALID_VALUE, f'Invalid value for filter "{name}"')


def appointment_list(ctx: Context, raw: Any) -> Records:
    parameters = _params(raw)
    conditions = parameters.get("filter") or {}
    if (
        not isinstance(conditions, dict)
        or not conditions.get("startDate")
        or not conditions.get("endDate")
    ):
        raise Refusal(
            spec.E_PERIOD_MISSING,
            "Missing date period: filter.startDate and filter.endDate are mandatory",
        )
    first = _day(_filter_value(conditions["startDate"]), "startDate")
    last = _day(_filter_value(conditions["endDate"]), "endDate")
    fx = ctx.fixtures
    users = _ids(conditions.get("userIds"), "userIds")
    groups = _ids(conditions.get("groupIds"), "groupIds")
    text_fields = {"notes": "note", "createdBy": "von", "type": "art", "subject": "description"}
    text_conditions = {text_fields[k]: v for k, v in conditions.items() if k in text_fields}
    keep = compile_filter(text_conditions, text_fields.values())
    flags: dict[str, tuple[bool | None, Callable[[str], bool]]] = {
        "isCancelled": (_list_flag(conditions, "isCancelled"), lambda r: r == "canceled"),
        "isDone": (_list_flag(conditions, "isDone"), lambda r: r == "completed"),
    }
    recurrent = _list_flag(conditions, "isRecurrent")
    if not users and not groups and ctx.dialect.list_scope == "own":
        me = int(fx.api_user_record["id"])
        users = {me}
        groups = {int(g["id"]) for g in fx.groups if me in g.get("userIds", [])}
    if "isCancelled" not in conditions and ctx.dialect.list_cancelled == "hidden":
        flags["isCancelled"] = (False, flags["isCancelled"][1])
    found = []
    for r in _in_period(ctx, first, last):
        status = calendar.effective_status(r)
        if (users or groups) and not _involves(r, users, groups, fx):
            continue
        if any(want is not None and test(status) != want for want, test in flags.values()):
            continue
        if recurrent is not None and bool(r.get("rp_flag")) != recurrent:
            continue
        if keep(r, _calendar_field):
            found.append(r)
    wanted = parameters.get("data")
    chosen, total = page(found, {"listlimit": spec.MAX_LISTLIMIT, **parameters})
    out = []
    for r in chosen:
        elements = calendar.list_elements(r, fx, ctx.dialect)
        if isinstance(wanted, list) and wanted:
            elements = {k: v for k, v in elements.items() if k in wanted or k == "id"}
        out.append({"id": ctx.dialect.id(r["id"]), "type": "calendar", "elements": elements})
    return out, total


def appointment_conflicts(ctx: Context, raw: Any) -> Records:
    """Who and what an appointment at that time would double-book (§5.6)."""
    if ctx.dialect.conflicts == "unconfigured":
        raise Refusal(
            spec.E_NO_RESOURCE_CONFIG,
            'Missing configuration for resourceType "appointmentConflicts" with action "get"',
        )
    parameters = _params(raw)
    sent = parameters.get("data")
    data: dict[str, Any] = sent if isinstance(sent, dict) else parameters
    start, end = data.get("start_dt"), data.get("end_dt")
    if not start or not end:
        raise Refusal(
            spec.E_START_MISSING if not start else spec.E_END_MISSING,
            "Start date missing" if not start else "End date missing",
        )
    start = calendar.parse_datetime(start, "start_dt").strftime(spec.STAMP)
    end = calendar.parse_datetime(end, "end_dt").strftime(spec.STAMP)
    subscribers = parameters.get("subscribers") or {}
    if not isinstance(subscribers, dict):
        raise Refusal(spec.E_INVALID_VALUE, 'Invalid value for parameter "subscribers"')
    users = _ids(subscribers.get("users") or parameters.get("users"), "users")
    resources = data.get("ressources") or []
    if not isinstance(resources, list) or not all(isinstance(k, str) for k in resources):
        raise Refusal(spec.E_INVALID_VALUE, 'Invalid value for parameter "ressources"')
    addresses = _ids(parameters.get("relatedAddressIds"), "relatedAddressIds")
    estates = _ids(parameters.get("relatedEstateId"), "relatedEstateId")
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
        hits["conflictedUsers"] |= users & set(calendar.group_members(r, ctx.fixtures))
        hits["conflictedResources"] |= set(resources) & set(r.get("ressources", []))
        hits["conflictedAddresses"] |= addresses & set(r.get("address_ids", []))
        hits["conflictedEstates"] |= estates & {r.get("estate_id")}
    return [
        {
            "id": k,
            "type": "",
            "elements": [
                {"id": i if k == "conflictedResources" else ctx.dialect.id(i)}
                for i in sorted(v, key=str)
            ],
        }
        for k, v in hits.items()
    ], 4


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
    wanted = parameters.get("data")
    asks_id = isinstance(wanted, list) and "Id" in wanted
    return [
        {
            "id": e["id"],
            "type": "estate",
            # §6.1: `Id` (the record id as a string) only when it is asked for
            "elements": _select(e, wanted, {"Id": str(e["id"])} if asks_id else {}),
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
        wanted_ids = _ids(ids, "recordids")
        addresses = [a for a in addresses if a["id"] in wanted_ids]
    fields = {k for a in addresses for k in a} | {"email", "Email", "Id", "KdNr"}
    keep = compile_filter(parameters.get("filter"), fields)
    addresses = [a for a in addresses if keep(a, _address_field)]
    addresses = _sorted(addresses, parameters.get("sortby"), parameters.get("sortorder"))
    chosen, total = page(addresses, parameters)
    out = []
    for a in chosen:
        extra: dict[str, Any] = {"id": ctx.dialect.id(a["id"])}
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
        group_id = calendar.whole_number(parameters.get("groupId"))
        group = fx.group(group_id) if group_id is not None else None
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
        {
            "id": u["id"],
            "type": None,
            "elements": {k: ctx.dialect.id(u["id"]) if k == "id" else u.get(k, "") for k in keys},
        }
        for u in users
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
    return [
        {
            "id": g["id"],
            "type": None,
            "elements": {
                "id": ctx.dialect.id(g["id"]),
                **{k: g.get(k) for k in ("name", "abr", "groupType")},
                "userIds": [ctx.dialect.id(u) for u in g.get("userIds", [])],
                "leaders": [ctx.dialect.id(u) for u in g.get("leaders", [])],
            },
        }
        for g in groups
    ], None


def get_calendar_resources(ctx: Context, raw: Any) -> Records:
    return [
        {"id": n, "type": "", "elements": {key: label}}
        for n, (key, label) in enumerate(ctx.fixtures.resources.items(), 1)
    ], None


# --- settings -------------------------------------------------------------------------------------
def _calendar_fields(ctx: Context) -> dict[str, Any]:
    """The calendar module's fields as `get fields` describes them (§6.6, [R:wp] shape)."""

    def field(kind: str, label: str, permitted: Any = None) -> dict[str, Any]:
        return {
            "type": kind,
            "length": None,
            "permittedvalues": permitted,
            "default": None,
            "label": label,
            "tablename": "termine",
            "content": "",
        }

    fx = ctx.fixtures
    types = dict(fx.appointment_types) if ctx.dialect.fields == "permitted" else None
    fields: dict[str, Any] = {
        "start_dt": field("datetime", "Beginn"),
        "end_dt": field("datetime", "Ende"),
        "description": field("varchar", "Betreff"),
        "note": field("text", "Bemerkung"),
        "art": field("singleselect", "Terminart", types),
        "ressources": field("multiselect", "Ressourcen", dict(fx.resources) or None),
        "erinnerung": field("singleselect", "Erinnerung", {r: r for r in spec.REMINDERS}),
        "status": field("singleselect", "Terminstatus", {s: s for s in spec.STATUSES}),
        "ganztags": field("boolean", "ganztägig"),
        "private": field("boolean", "privat"),
        "abgesagt": field("boolean", "abgesagt"),
    }
    if ctx.dialect.fields == "absent":
        del fields["art"]
    return {"label": "Termine", **fields}


def get_fields(ctx: Context, raw: Any) -> Records:
    """`get fields` (§6.6): one record per requested module, the module name as its id; the
    sandbox describes the calendar module (the one the importer writes)."""
    if ctx.dialect.fields == "unconfigured":
        raise Refusal(
            spec.E_NO_RESOURCE_CONFIG,
            'Missing configuration for resourceType "fields" with action "get"',
        )
    parameters = _params(raw)
    modules = parameters.get("modules") or ["calendar"]
    if not isinstance(modules, list):
        raise Refusal(spec.E_INVALID_VALUE, 'Invalid value for parameter "modules"')
    wanted = parameters.get("fieldList")
    labels = _truthy(parameters.get("labels"))
    records = []
    for module in modules:
        if module != "calendar":
            continue
        elements = _calendar_fields(ctx)
        if isinstance(wanted, list) and wanted:
            elements = {k: v for k, v in elements.items() if k in wanted or k == "label"}
        if not labels:
            elements = {
                k: {n: x for n, x in v.items() if n != "label"} if isinstance(v, dict) else v
                for k, v in elements.items()
                if k != "label"
            }
        records.append({"id": module, "type": "", "elements": elements})
    return records, None


def check_rights(ctx: Context, raw: Any) -> Records:
    """`get checkuserrecordsright` (§6.7): of ``recordIds``, those the user has the right to
    ``action`` on. UNDOCUMENTED what the record ids of `create` are: the sandbox reads them, for
    the calendar, as the ids of the users the appointments would be created for; for the
    others, as appointment ids."""
    if ctx.dialect.rights_check == "unconfigured":
        raise Refusal(
            spec.E_NO_RESOURCE_CONFIG,
            'Missing configuration for resourceType "checkuserrecordsright" with action "get"',
        )
    parameters = _params(raw)
    action, module = parameters.get("action"), parameters.get("module")
    if action not in ("read", "modify", "delete", "create") or not isinstance(module, str):
        raise Refusal(spec.E_INVALID_VALUE, 'Invalid value for parameter "action"')
    ids = parameters.get("recordIds")
    if not isinstance(ids, list):
        raise Refusal(spec.E_INVALID_VALUE, 'Invalid value for parameter "recordIds"')
    allowed = []
    for raw_id in ids:
        number = calendar.whole_number(raw_id)
        if number is None:
            continue
        if module != "calendar" or action == "read":
            permitted = True
        elif action == "create":
            permitted = ctx.fixtures.may("create", number)
        else:
            record = ctx.store.appointment(number)
            users = record.get("users", []) if record is not None else []
            permitted = record is not None and all(ctx.fixtures.may("modify", u) for u in users)
        if permitted:
            allowed.append(str(number))
    return [{"id": 0, "type": "", "elements": allowed}], len(allowed)


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
    ("get", "fields"): get_fields,
    ("get", "checkuserrecordsright"): check_rights,
}

WRITE_KINDS = frozenset({"create", "modify", "delete", "do"})


def utc_now(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)
