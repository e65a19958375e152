"""The onOffice API contract: documented constants and every UNDOCUMENTED assumption.

Everything the client, the validation schema and the sandbox need to agree on lives here, so
that an assumption that turns out wrong is changed in one place. Section numbers refer to
``shared/onoffice-api.md``. Names in ``ASSUMPTIONS``-style comments mark the UNDOCUMENTED points.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

# --- Endpoints and actions (§1.1, §1.3) ---------------------------------------------------------
STABLE_URL: Final = "https://api.onoffice.de/api/stable/api.php"
LATEST_URL: Final = "https://api.onoffice.de/api/latest/api.php"
API_PATHS: Final = ("/api/stable/api.php", "/api/latest/api.php")

ACTION_PREFIX: Final = "urn:onoffice-de-ns:smart:2.5:smartml:action:"
ACTION_KINDS: Final = ("read", "create", "modify", "delete", "get", "do")


def action_id(kind: str) -> str:
    """The full action URN for ``read``, ``create``, ``modify``, ``delete``, ``get`` or ``do``."""
    if kind not in ACTION_KINDS:
        raise ValueError(f"unknown action kind {kind!r}")
    return ACTION_PREFIX + kind


# --- Authentication (§2) -----------------------------------------------------------------------
HMAC_VERSION: Final = "2"
TIMESTAMP_WINDOW_SECONDS: Final = 120

# --- Errors (§3) --------------------------------------------------------------------------------
ERROR_IN_ACTION: Final = 97
# UNDOCUMENTED: numeric codes come from a third-party enumeration (§3.3). The client reads them
# only to classify configuration problems; everything else is reported with the server's text.
CODE_TOKEN_MISSING: Final = 13
CODE_NOT_AUTHENTICATED: Final = 22
CODE_TIMESTAMP: Final = 136
CODE_HMAC: Final = 137
CREDENTIAL_ERROR_CODES: Final = frozenset({13, 22, 28, 30, 40, 41, 42, 43, 45, 47, 48, 49, 137})
CLOCK_ERROR_CODES: Final = frozenset({CODE_TIMESTAMP})

# --- Transport (§1.1, §1.4, §7) -----------------------------------------------------------------
# UNDOCUMENTED: Content-Type. We send JSON; the sandbox reads the body whatever the header says.
CONTENT_TYPE: Final = "application/json; charset=utf-8"
# UNDOCUMENTED: maximum actions per request. One create per request keeps retries simple;
# look-ups are batched in groups of at most this many actions.
LOOKUP_ACTIONS_PER_REQUEST: Final = 50
CONNECT_TIMEOUT_SECONDS: Final = 5.0
READ_TIMEOUT_SECONDS: Final = 30.0

# --- Reads (§6) ---------------------------------------------------------------------------------
LISTLIMIT_DEFAULT: Final = 20
LISTLIMIT_MAX: Final = 500
MAX_IDS_PER_ACTION: Final = 500
FILTER_OPERATORS: Final = (
    "is",
    "=",
    ">",
    "<",
    ">=",
    "<=",
    "!=",
    "<>",
    "between",
    "like",
    "not like",
    "in",
    "not in",
)
# UNDOCUMENTED: operator case → case-insensitive; `like` case-insensitive; numeric comparison
# only when both sides are numeric (§5.3).

# --- calendar create (§4) -----------------------------------------------------------------------
DATETIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S"
DATE_FORMAT: Final = "%Y-%m-%d"
DATETIME_RE: Final = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
DATE_RE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DURATION_RE: Final = re.compile(r"^\d{2}:[0-5]\d:[0-5]\d$")
RP_EXCEPTION_RE: Final = re.compile(r"^(#\d{4}-\d{2}-\d{2})+$")

STATUS_VALUES: Final = ("active", "completed", "canceled", "participantsAvailable")
ERINNERUNG_VALUES: Final = (
    "0 minutes",
    "5 minutes",
    "15 minutes",
    "30 minutes",
    "1 hours",
    "2 hours",
    "3 hours",
    "12 hours",
    "15 hours",
    "1 days",
    "2 days",
    "3 days",
    "1 weeks",
    "3 weeks",
)
RP_TYPES: Final = ("t", "w", "m", "j")  # daily, weekly, monthly, yearly
RP_TAGE_RANGE: Final = (1, 999)
RP_ENDE_STATUS: Final = (1, 2)  # 1 = ends on rp_ende_datum, 2 = open-ended
REMINDER_TYPES: Final = ("email", "popup", "sms")
LOCATION_KEYS: Final = (
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
# Location keys whose value is a record id; unlinked ones fall back to `sonstiges` (§4.3).
LOCATION_ID_KEYS: Final = ("address", "estate", "user", "group", "userMeetingUrl")

DATA_STRING_FIELDS: Final = ("description", "note", "art", "von")
DATA_BOOL_FIELDS: Final = (
    "ganztags",
    "allowTransitTime",
    "abgesagt",
    "private",
    "origin",
    "rp_flag",
)
DATA_DURATION_FIELDS: Final = ("transitTime", "transitTimePre", "transitTimePost")
DATA_FIELDS: Final = (
    "start_dt",
    "end_dt",
    "description",
    "note",
    "art",
    "ganztags",
    "allowTransitTime",
    "transitTime",
    "transitTimePre",
    "transitTimePost",
    "abgesagt",
    "status",
    "private",
    "erinnerung",
    "origin",
    "ressources",
    "von",
    "rp_flag",
    "rp_type",
    "rp_tage",
    "rp_beginn_datum",
    "rp_ende_datum",
    "rp_ende_status",
    "rp_exception",
)
# UNDOCUMENTED (§5.4): how modify clears a field is not documented. A field an earlier version
# of a row set and the new version leaves empty is sent as the empty value of its kind (§4.1:
# durations are "HH:MM:SS"). The series goes with `rp_flag` false (the create page: "set to
# TRUE if the appointment is recurring"), the place with the location option `keine Angaben`
# ("not specified", §4.3). Fields without a documented empty value are left as they are
# (NOT_CLEARABLE): the type (`art` is a select field: "" is not one of its values), the reminder
# lead (`erinnerung` lists no "none"; "0 minutes" is a reminder at the start), the reminder
# channels (they need `erinnerung`) and a series' left-out dates (`rp_exception` is "#date"s,
# one at least in every example; a read shows `[]`: "" on every modify is a guess that, refused,
# would refuse every update). Where the file no longer sets one, the run says it stays.
CLEARED_VALUES: Final[dict[str, Any]] = {
    "description": "",
    "note": "",
    "ressources": [],
    "private": False,
    "ganztags": False,
    "allowTransitTime": False,
    "abgesagt": False,
    "transitTime": "00:00:00",
    "transitTimePre": "00:00:00",
    "transitTimePost": "00:00:00",
    "rp_flag": False,
}
CLEARED_LOCATION: Final[dict[str, Any]] = {"keine Angaben": ""}
NOT_CLEARABLE: Final = ("art", "erinnerung", "reminderTypes", "rp_exception")
# UNDOCUMENTED (§4.1): whether a monthly series on the 29th-31st (a yearly one on 29 February)
# skips the months without that day (RFC 5545) or moves it to the month's last day. Such a
# series is imported as written, with a warning naming the months (importer/source/ics.py).
# Parameters of calendar create beside `data` (§4.2).
CREATE_PARAMETERS: Final = (
    "data",
    "relatedAddressIds",
    "relatedEstateId",
    "location",
    "subscribers",
    "reminderTypes",
)

# UNDOCUMENTED: the server's maximum text lengths are not documented. Excel's cell limit is the
# hard ceiling for anything we write back; these are the lengths we accept for the API.
# The note keeps room for the import stamp the run appends ("\n\n" and two lines of at most 36
# and 165 characters, importer/onoffice/reference.py), so a note that passes `check` is never
# refused for its length.
REFERENCE_RESERVE: Final = 203
MAX_TEXT_LENGTH: Final = {
    "description": 255,
    "note": 32_767 - REFERENCE_RESERVE,
    "art": 255,
    "von": 255,
}

# UNDOCUMENTED (§4.1): start_dt/end_dt are the customer's local wall-clock time, no offset.
LOCAL_TIMEZONE: Final = "Europe/Berlin"


def local_now() -> datetime:
    """Now on the customer's wall clock (naive, like start_dt): "in the past" is decided in
    Berlin, not in the time zone of the machine that runs the import."""
    return datetime.now(ZoneInfo(LOCAL_TIMEZONE)).replace(tzinfo=None)


RP_FIELDS: Final = tuple(f for f in DATA_FIELDS if f.startswith("rp_"))  # the series fields
# UNDOCUMENTED (§4.1): end before start is refused (93); equal start and end is accepted.
# UNDOCUMENTED (§4.1): rp_flag true requires rp_type, rp_tage, rp_beginn_datum, rp_ende_status,
# and rp_ende_datum when rp_ende_status == 1.
RP_REQUIRED_WITH_FLAG: Final = ("rp_type", "rp_tage", "rp_beginn_datum", "rp_ende_status")

# --- Reading answers (§3.1, §5, §7) -------------------------------------------------------------
# UNDOCUMENTED: servers differ in how they type what they send back (ids as ints or digit
# strings, flags as booleans or "0"/"1", empty maps as [] or {}). Every answer the importer reads
# goes through these three functions, so no comparison depends on one server's habits.
OCCURRENCE_SEPARATOR: Final = "@"  # public code shows series occurrences as "1234@2027-03-01"


def record_id(value: object) -> int | str | None:
    """A record id as an int when it is one (``7``, ``"7"``), else its text; None when empty.

    Occurrence ids such as ``"1234@2027-03-01"`` stay text: they are never sent back as ids.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return int(text)
    return text


def series_id(value: object) -> int | str | None:
    """The id of the appointment an occurrence id belongs to (``"1234@2027-03-01"`` -> 1234)."""
    rid = record_id(value)
    if isinstance(rid, str) and OCCURRENCE_SEPARATOR in rid:
        return record_id(rid.split(OCCURRENCE_SEPARATOR, 1)[0])
    return rid


def id_set(value: object) -> frozenset[int | str]:
    """Ids from a list, a single value, or a list of ``{"id": ...}`` objects."""
    if value in (None, "", [], {}):
        return frozenset()
    values = value if isinstance(value, list) else [value]
    out = set()
    for v in values:
        rid = record_id(v.get("id") if isinstance(v, dict) else v)
        if rid is not None and rid != 0:
            out.add(rid)
    return frozenset(out)


def as_bool(value: object) -> bool:
    """A flag sent as a JSON boolean, 0/1 or "0"/"1" (also "true"/"false")."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true")
    return bool(value) if isinstance(value, bool | int) else False


def as_map(value: object) -> dict[str, object]:
    """A key -> label object; an empty one may come as [] (§7), anything else as {}."""
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}


# --- Reading appointments back (§5.0-§5.2) -------------------------------------------------------
# Decision: `read`/`calendar` first, `get`/`appointmentList` when the server does not know it.
# - read calendar returns start_dt/end_dt in exactly the create format and the same wall-clock
#   time, while appointmentList gives ISO 8601 with an offset whose meaning is UNDOCUMENTED
#   (real UTC, or local time labelled +00:00): comparing our row's time needs no guess there.
# - it tells explicit participants (`users`) from group members (`user_ids`); whether
#   appointmentList's `users` holds group members is UNDOCUMENTED.
# - where a read lists a group's members among the participants (`user_ids`; appointmentList's
#   `users` with groups), they are the group's members as `get groups` lists them now (§6.5
#   `userIds`): UNDOCUMENTED whether a read follows the group's current members or those at
#   the write (a member who left since stands out as a participant nobody wrote: a conflict,
#   never an overwrite). The shape of read calendar's `groups` is UNDOCUMENTED (`[]` in every
#   example): ids or `{id: …}` objects are taken (contract.id_set); anything else tells no
#   group, and such an appointment's participants stay unsure (importer/onoffice/form.py).
# - a reminder is held where read calendar's `erinnerung` is not "" (§5.2), or appointmentList's
#   `reminder.timeBefore` is over 0 (its unit is UNDOCUMENTED; 0 cannot tell "0 minutes" from
#   none, so it tells nothing); a series leaves dates out where `rp_exception` is not empty
#   (its non-empty read shape is UNDOCUMENTED). Both only to say what a modify cannot clear.
# - resources come back with their keys (`ressourcesWithKeys`), the value we send.
# - it is marked deprecated, so a server may one day answer "unknown action" (23/25): then
#   appointmentList is used, reading both interpretations of its offsets.
UNKNOWN_ACTION_CODES: Final = frozenset({23, 25})
# "Appointment not found" (169) and "unknown record, absent or no rights" (80) (§3.3).
NOT_FOUND_CODES: Final = frozenset({169, 80})
# Reads return at most this many appointments; a full page means "there may be more".
READ_PAGE_CAP: Final = LISTLIMIT_MAX
# UNDOCUMENTED: record ids grow in the order the server processes creates (§4 shows ids, not
# their order; the sandbox's grow). Two runs that created one row at the same moment keep the
# lower id: its creator was first, so the other, reading after its own create, surely sees it
# (importer/run/watch.py). Were it not so, a twin could stay; a later run would then ask.
IDS_GROW_WITH_CREATES: Final = True
# How far `modified` may run ahead of our own record of a write (clock differences, follow-up
# automation touching the appointment right after it was written).
CLOCK_MARGIN_SECONDS: Final = 300

# --- Refusals that concern the whole account, not one row -----------------------------------
# 156: "no right to edit other users' appointments" (§3.3). A permission refusal comes back for
# every row alike, so the run stops with one line instead of failing each row.
PERMISSION_ERROR_CODES: Final = frozenset({156})
PERMISSION_WORDS: Final = re.compile(
    r"\b(no (access )?rights?|not allowed|permission|keine (Berechtigung|Rechte))\b", re.IGNORECASE
)
# Codes that name one row's unknown or unreadable record ("absent or no rights"): row errors.
ROW_RECORD_CODES: Final = frozenset({80, 184, 251, 252, 272, 292, 293})


# --- What the account allows (§6.6, §6.7) --------------------------------------------------
# The appointment types come from `get fields` for the calendar module: `art`'s permittedvalues
# (key -> label). UNDOCUMENTED whether they are included for the calendar ("for some modules,
# information on the permitted values is missing"): where they are not, the types are not
# checked, and the check says so once. A row may give a type by its key or its label; it is
# sent as the key.
CALENDAR_MODULE: Final = "calendar"
FIELDS_LANGUAGE: Final = "DEU"
TYPE_FIELD: Final = "art"


def permitted_types(records: Iterable[Any]) -> dict[str, str]:
    """`art`'s permitted values in a `get fields` answer for the calendar (§6.6), key -> label
    (a label missing or empty: the key); {} where the answer lists none."""
    fields = next((as_map(r.elements) for r in records if str(r.id) == CALENDAR_MODULE), {})
    art = as_map(fields.get(TYPE_FIELD))
    return {str(k): str(v or k) for k, v in as_map(art.get("permittedvalues")).items()}


# Rights: `get checkuserrecordsright` tells, of record ids, those a user may act on. UNDOCUMENTED
# what the record ids of `create` are in the calendar module: read as the ids of the users the
# appointments are created for (the right that 156 "no right to edit other users' appointments"
# names). `modify` takes the appointment ids. Where the call is not answered, the rights are not
# checked before the run, and the check says so once.


def is_permission_refusal(code: int, message: str) -> bool:
    if code in PERMISSION_ERROR_CODES:
        return True
    return code not in ROW_RECORD_CODES and PERMISSION_WORDS.search(message) is not None
