"""Settling a create whose outcome is unknown: read the calendar back, never guess.

A request that may have been processed (read timeout, dropped connection, HTTP 5xx) is not
sent again blindly. The calendar of that day is read (``allusers``, cancelled ones included,
filtered on the exact start) and an appointment is adopted when start, end, subject, linked
addresses, estate and users all match, it was modified after the row's intent was recorded, and
no other row owns it already. Only a successful read that finds nothing proves the row absent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from . import contract
from .client import Action, OnOfficeClient

# Appointments modified this long before the intent still count (clock differences).
CLOCK_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True)
class Settled:
    """``appointment_id`` when found; ``absent`` when proven absent; neither: cannot tell."""

    appointment_id: int | None = None
    absent: bool = False


def _ids(value: Any) -> set[int]:
    if value in (None, "", []):
        return set()
    values = value if isinstance(value, list) else [value]
    return {int(v) for v in values if str(v).isdigit()}


def matches(elements: dict[str, Any], params: dict[str, Any]) -> bool:
    data = params.get("data", {})
    users = params.get("subscribers", {}).get("users", [])
    return (
        elements.get("start_dt") == data.get("start_dt")
        and elements.get("end_dt") == data.get("end_dt")
        and (elements.get("description") or "") == (data.get("description") or "")
        and _ids(elements.get("assignedaddressids")) == _ids(params.get("relatedAddressIds"))
        and _ids(elements.get("assignedobjectids")) == _ids(params.get("relatedEstateId"))
        and (not users or _ids(elements.get("user_ids")) == _ids(users))
    )


def find_created(
    client: OnOfficeClient, params: dict[str, Any], intent_at: str | None, claimed: set[int]
) -> Settled:
    """Read back; transport or API errors propagate (the caller keeps the row unknown)."""
    data = params["data"]
    start, end = data["start_dt"], data["end_dt"]
    result = client.call(
        Action(
            "read",
            "calendar",
            {
                "datestart": start[:10],
                "dateend": end[:10],
                "allusers": True,
                "showcancelled": True,
                "filter": {"start_dt": [{"op": "=", "val": start}]},
            },
        )
    )
    since = None
    if intent_at:
        since = (
            datetime.strptime(intent_at, contract.DATETIME_FORMAT).replace(tzinfo=UTC)
            - CLOCK_MARGIN
        ).strftime(contract.DATETIME_FORMAT)
    found = sorted(
        int(r.id)
        for r in result.records
        if isinstance(r.elements, dict)
        and int(r.id) not in claimed
        and matches(r.elements, params)
        and (since is None or str(r.elements.get("modified", "")) >= since)
    )
    if found:
        return Settled(appointment_id=found[0])
    complete = result.cntabsolute is None or result.cntabsolute <= len(result.records)
    return Settled(absent=complete)
