"""The sandbox's own reading of the onOffice documentation: names, values, codes and limits.

Written from ``shared/onoffice-api.md`` (section numbers below) and deliberately *not* shared with
the importer's ``importer/core/contract.py``: two independent readings of the same pages that the
tests hold against each other. Where the documentation is silent the sandbox's choice is made
switchable in :mod:`importer.sandbox.dialects`; the values here are the documented ones.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from typing import Final

# §1.1, §1.3: one URL per channel, POST only, six action URNs.
API_PATHS: Final = ("/api/stable/api.php", "/api/latest/api.php")
URN_PREFIX: Final = "urn:onoffice-de-ns:smart:2.5:smartml:action:"
KINDS: Final = frozenset({"read", "create", "modify", "delete", "get", "do"})
WRITE_KINDS: Final = frozenset({"create", "modify", "delete", "do"})


def signature_v2(timestamp: str, token: str, resourcetype: str, actionid: str, secret: str) -> str:
    """§2.1: base64(HMAC-SHA256(secret, timestamp + token + resourcetype + actionid)).

    ``timestamp`` is the decimal text exactly as the client sent it (an int or a digit string).
    """
    digest = hmac.new(
        secret.encode("utf-8"),
        f"{timestamp}{token}{resourcetype}{actionid}".encode(),
        hashlib.sha256,
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def php_json(value: object) -> str:
    """PHP's json_encode: no spaces, `/` escaped as `\\/`, non-ASCII as lowercase \\u escapes."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/")


def signature_v1(action: dict[str, object], token: str, secret: str) -> str:
    """§2.4, legacy HMAC (no `hmac_version`), as the older PHP SDK computes it:
    md5hex(secret + md5hex(json(ksorted parameters) + "," + fields)), the fields being token,
    actionid, identifier, resourceid, secret, timestamp, resourcetype joined by ",".
    """
    parameters = action.get("parameters")
    if isinstance(parameters, dict):
        parameters = dict(sorted(parameters.items()))  # ksort: the first level only
    fields: tuple[object, ...] = (
        token,
        action.get("actionid"),
        action.get("identifier"),
        action.get("resourceid"),
        secret,
        action.get("timestamp"),
        action.get("resourcetype"),
    )
    bundled = php_json(parameters) + "," + ",".join("" if f is None else str(f) for f in fields)
    inner = hashlib.md5(bundled.encode("utf-8")).hexdigest()
    return hashlib.md5((secret + inner).encode("utf-8")).hexdigest()


TIMESTAMP_TOLERANCE: Final = 120  # §2.3: seconds either way

# §3.2 / §3.3 (codes from a third-party list: the sandbox's choice, never the client's basis).
E_BROKEN_JSON: Final = 4
E_EMPTY: Final = 9
E_TOKEN: Final = 13
E_REQUEST: Final = 14
E_ACTIONS: Final = 15
E_ACTIONID_MISSING: Final = 16
E_ACTIONID_EMPTY: Final = 17
E_RESOURCEID: Final = 18
E_RESOURCETYPE: Final = 19
E_PARAMETERS: Final = 20
E_NOT_AUTHENTICATED: Final = 22
E_NO_ACTION_CONFIG: Final = 23
E_NO_RESOURCE_CONFIG: Final = 25
E_UNKNOWN_FIELD: Final = 75
E_RECORD_ID: Final = 79
E_UNKNOWN_RECORD: Final = 80
E_START_MISSING: Final = 91
E_END_MISSING: Final = 92
E_START_AFTER_END: Final = 93
E_IN_ACTION: Final = 97
E_TIMESTAMP: Final = 136
E_HMAC: Final = 137
E_OPERATOR: Final = 142
E_CALENDAR_FIELD: Final = 154
E_NO_RIGHT_OTHERS: Final = 156
E_MISSING_PARAMETER: Final = 167
E_APPOINTMENT_NOT_FOUND: Final = 169
E_FILTER_NEEDS_PERIOD: Final = 241
E_UNKNOWN_USER_NAME: Final = 251
E_SELECT_VALUE: Final = 252
E_MANDATORY: Final = 254
E_INVALID_VALUE: Final = 255
E_PERIOD_MISSING: Final = 289
E_LOCATION: Final = 290
E_UNKNOWN_ADDRESS: Final = 292
E_UNKNOWN_ESTATE: Final = 293
E_GROUPS_ARRAY: Final = 295
E_USERS_ARRAY: Final = 301
E_TOO_MANY_IDS: Final = 302

# §4.1: the fields of calendar create/modify `data`.
TEXT_FIELDS: Final = ("description", "note", "art", "von")
BOOLEAN_FIELDS: Final = ("ganztags", "allowTransitTime", "abgesagt", "private", "origin", "rp_flag")
DURATION_FIELDS: Final = ("transitTime", "transitTimePre", "transitTimePost")
CALENDAR_FIELDS: Final = frozenset(
    {
        "start_dt",
        "end_dt",
        *TEXT_FIELDS,
        *BOOLEAN_FIELDS,
        *DURATION_FIELDS,
        "status",
        "erinnerung",
        "ressources",
        "rp_type",
        "rp_tage",
        "rp_beginn_datum",
        "rp_ende_datum",
        "rp_ende_status",
        "rp_exception",
    }
)
STATUSES: Final = ("active", "completed", "canceled", "participantsAvailable")
# §4.1 reminder leads, and their length in minutes (appointmentList's `reminder.timeBefore`).
REMINDERS: Final = {
    "0 minutes": 0,
    "5 minutes": 5,
    "15 minutes": 15,
    "30 minutes": 30,
    "1 hours": 60,
    "2 hours": 120,
    "3 hours": 180,
    "12 hours": 720,
    "15 hours": 900,
    "1 days": 1440,
    "2 days": 2880,
    "3 days": 4320,
    "1 weeks": 10080,
    "3 weeks": 30240,
}
SERIES_KINDS: Final = ("t", "w", "m", "j")  # daily, weekly, monthly, yearly
SERIES_INTERVAL: Final = range(1, 1000)
SERIES_END: Final = (1, 2)  # 1 ends on rp_ende_datum, 2 open-ended
REMINDER_CHANNELS: Final = ("email", "popup", "sms")
# §4.3: location keys; those naming a record fall back to `sonstiges` when not linked.
PLACE_KEYS: Final = (
    "address",
    "estate",
    "user",
    "group",
    "mandant",
    "sonstiges",
    "customVideoUrl",
    "userMeetingUrl",
    "keine Angaben",
)
PLACE_RECORD_KEYS: Final = ("address", "estate", "user", "group", "userMeetingUrl")
# UNDOCUMENTED text limits: the sandbox refuses longer values.
TEXT_LIMITS: Final = {"description": 255, "note": 32_767, "art": 255, "von": 255}

STAMP: Final = "%Y-%m-%d %H:%M:%S"  # every datetime of §4/§5.2
STAMP_RE: Final = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
DAY_RE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
DURATION_RE: Final = re.compile(r"\d{2}:[0-5]\d:[0-5]\d")
EXCEPTIONS_RE: Final = re.compile(r"(#\d{4}-\d{2}-\d{2})+")
UNSET_DAY: Final = "0000-00-00"  # §5.2: unset series dates on read
WALL_CLOCK_ZONE: Final = "Europe/Berlin"  # UNDOCUMENTED: start_dt/end_dt are local time

# §6, §5.3: lists and filters.
DEFAULT_LISTLIMIT: Final = 20
MAX_LISTLIMIT: Final = 500
MAX_IDS: Final = 500
OPERATORS: Final = frozenset(
    {"is", "=", ">", "<", ">=", "<=", "!=", "<>", "between", "like", "not like", "in", "not in"}
)
