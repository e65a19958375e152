"""What an onOffice account answers, and what follows from it: the account report.

    found = survey(client)            # read calls only
    for label, text in account_lines(found): print(f"{label}: {text}")

:func:`survey` asks the account who the API user is, its users, the rights to create and to
change their appointments, a read of the calendar, the appointment types and the resources;
every part it is not answered is kept with the reason, never raised (only credentials that do
not work are). :func:`account_lines` says it in words, with what a check and a run will not
check or not see because of it. `onoffice-import account`, the web app's connection step and
the Summary sheets of a check and a run show the same lines.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TypeVar

from ..core import contract
from ..core.errors import ApiError, AuthenticationError, PermissionRefused
from ..core.i18n import _, ngettext
from .client import OnOfficeClient, display_url
from .form import normalised, read_shape
from .readback import Appointment, Who, read_period

T = TypeVar("T")

# The days the report reads around today when no run has read the calendar for it.
PROBE_DAYS = 14
SHOWN = 12  # names shown in a line before "…"


@dataclass
class AccountSurvey:
    """The account's answers; a part it did not answer has its ``*_why`` and no values."""

    url: str
    user_id: int | None = None
    users: dict[int, str] = field(default_factory=dict)  # id -> "mmueller (Maria Müller)"
    users_why: str = ""
    may_create: frozenset[int] | None = None  # of ``users``; None: not asked or not answered
    create_why: str = ""
    # agent -> whether the API user may change the appointment of theirs that was read
    may_modify: dict[int, bool] = field(default_factory=dict)
    modify_why: str = ""
    read_via: str = ""  # "read calendar", "appointmentList" or "" (not read)
    read_why: str = ""
    seen: int = 0  # appointments read
    seen_types: dict[str, str] = field(default_factory=dict)  # key -> label, from the reads
    types: dict[str, str] = field(default_factory=dict)  # listed by `get fields`
    types_why: str = ""
    resources: dict[str, str] = field(default_factory=dict)
    resources_why: str = ""
    shape: list[str] = field(default_factory=list)  # the read shape observed, in words


def survey(
    client: OnOfficeClient, *, seen: Sequence[Appointment] | None = None, today: date | None = None
) -> AccountSurvey:
    """Ask the account (read calls only). ``seen``: the appointments a run already read (its
    calendar is then not read again); else the days around ``today`` are read.

    Raises :class:`~importer.core.errors.AuthenticationError` when the credentials do not work.
    """
    found = AccountSurvey(display_url(client.url))
    if client.user_id is None:
        client.account()  # the API user (credentials that do not work raise here)
    found.user_id = client.user_id
    users, found.users_why = _asked(lambda: _user_names(client))
    found.users = users or {}
    if seen is None:
        seen = _read_days(client, found, today or contract.local_now().date())
    else:
        found.read_via = _via(client, seen)
    found.seen = len(seen)
    found.seen_types = _seen_types(client, seen)
    found.shape = read_shape_lines(client, seen)
    _rights(client, found, seen)
    types, found.types_why = _asked(lambda: _types(client))
    found.types = types or {}
    if not found.types and not found.types_why:
        found.types_why = _("onOffice lists no appointment types")
    resources, found.resources_why = _asked(lambda: _resources(client))
    found.resources = resources or {}
    return found


def read_shape_lines(client: OnOfficeClient, seen: Sequence[Appointment]) -> list[str]:
    """The read shape observed (how `art`, participants, resources and `modified` come back),
    in words (:func:`importer.onoffice.form.read_shape`)."""
    return [" ".join(read_shape(client, seen))]


def _asked(ask: Callable[[], T]) -> tuple[T | None, str]:
    """A part's answer, or None and why there is none (refused, or not answered)."""
    try:
        return ask(), ""
    except ApiError as exc:  # credentials that stopped working are not a part's answer
        if isinstance(exc, AuthenticationError) and not isinstance(exc, PermissionRefused):
            raise
        return None, str(exc)


def _user_names(client: OnOfficeClient) -> dict[int, str]:
    out = {}
    for record in client.get_users():
        e = contract.as_map(record.elements)
        number = contract.record_id(e.get("id", record.id))
        if isinstance(number, int):
            name = " ".join(str(e.get(k) or "") for k in ("firstname", "lastname")).strip()
            user = str(e.get("username") or number)
            out[number] = f"{user} ({name})" if name else user
    return out


def _read_days(client: OnOfficeClient, found: AccountSurvey, today: date) -> list[Appointment]:
    """The calendar around today, every user's (appointmentList sees only those it names)."""
    who = Who(frozenset(found.users))
    first, last = today - timedelta(days=PROBE_DAYS), today + timedelta(days=PROBE_DAYS)
    period, found.read_why = _asked(lambda: read_period(client, first, last, who))
    if period is None:
        return []
    found.read_via = _via(client, period.appointments)
    return period.appointments


def _via(client: OnOfficeClient, seen: Sequence[Appointment]) -> str:
    if seen:
        return seen[0].via
    return "appointmentList" if "read calendar" in client.unsupported else "read calendar"


def _seen_types(client: OnOfficeClient, seen: Sequence[Appointment]) -> dict[str, str]:
    """The types the reads show, key -> label; a type shown as a plain text whose key neither
    the account's list nor its learned form tells, as that text."""
    out: dict[str, str] = {}
    for found in seen:
        told = normalised(client, found) if found.type_text else found
        if told.type_key:
            out[told.type_key] = _label(told)
        elif found.type_text:
            out.setdefault(found.type_text, found.type_text)
    return out


def _label(found: Appointment) -> str:
    others = sorted(t for t in found.types if t != found.type_key)
    return others[0] if others else found.type_key


def _rights(client: OnOfficeClient, found: AccountSurvey, seen: Sequence[Appointment]) -> None:
    """Whom the API user may create appointments for, and change them of (one appointment
    read per agent: `modify` takes appointment ids, §6.7)."""
    user = found.user_id
    if user is None:
        found.create_why = found.modify_why = _("the API user is not known")
        return
    if not found.users:
        found.create_why = found.modify_why = _("the users are not known")
        return
    agents = sorted(found.users)
    allowed, found.create_why = _asked(
        lambda: client.rights("create", contract.CALENDAR_MODULE, user, agents)
    )
    found.may_create = None if allowed is None else frozenset(allowed)
    if allowed is None:  # the same call for appointments: not asked again
        found.modify_why = found.create_why
        return
    one: dict[int, int] = {}  # agent -> one appointment of theirs
    for a in seen:
        for agent in a.users or a.participants:
            if isinstance(agent, int) and isinstance(a.series, int) and agent in found.users:
                one.setdefault(agent, a.series)
    if not one:
        return
    ids = sorted(set(one.values()))
    may, found.modify_why = _asked(
        lambda: client.rights("modify", contract.CALENDAR_MODULE, user, ids)
    )
    if may is not None:
        found.may_modify = {agent: appointment in may for agent, appointment in one.items()}


def _types(client: OnOfficeClient) -> dict[str, str]:
    """`art`'s permitted values (§6.6), key -> label."""
    return contract.permitted_types(client.get_fields(contract.CALENDAR_MODULE))


def _resources(client: OnOfficeClient) -> dict[str, str]:
    out: dict[str, str] = {}
    for record in client.get_calendar_resources():
        out.update({str(k): str(v) for k, v in contract.as_map(record.elements).items()})
    return out


# --- in words ------------------------------------------------------------------------------------
def account_lines(found: AccountSurvey) -> list[tuple[str, str]]:
    """The report: (what, what the account answered and what follows), in the user's language."""
    lines = [
        (_("onOffice"), found.url),
        (_("API user"), _user_line(found)),
        (_("Creating appointments"), _create_line(found)),
        (_("Changing appointments"), _modify_line(found)),
        (_("Reading the calendar"), _read_line(found)),
        (_("Appointment types"), _types_line(found)),
        (_("Resources"), _resources_line(found)),
    ]
    lines += [(_("Read shape"), line) for line in found.shape]
    return lines


def _names(found: AccountSurvey, ids: Sequence[int]) -> str:
    words = [found.users.get(i, str(i)) for i in ids]
    return ", ".join(words[:SHOWN]) + (" …" if len(words) > SHOWN else "")


def _pairs(values: dict[str, str]) -> str:
    words = [label if label == key else f"{label} ({key})" for key, label in values.items()]
    return ", ".join(words[:SHOWN]) + (" …" if len(words) > SHOWN else "")


def _user_line(found: AccountSurvey) -> str:
    if found.user_id is None:
        return _(
            "onOffice does not say which user the API key belongs to: the rights cannot be "
            "checked before a run"
        )
    name = found.users.get(found.user_id, str(found.user_id))
    return _("{user}, user id {id}").format(user=name, id=found.user_id)


def _create_line(found: AccountSurvey) -> str:
    if found.may_create is None:
        return _(
            "not checked ({why}): a missing right shows only when onOffice refuses a row as it "
            "is sent"
        ).format(why=found.create_why)
    denied = [i for i in sorted(found.users) if i not in found.may_create]
    if not denied:
        return ngettext(
            "allowed for the one user of the account",
            "allowed for all {n} users of the account",
            len(found.users),
        ).format(n=len(found.users))
    allowed = [i for i in sorted(found.users) if i in found.may_create]
    return _(
        "allowed for {allowed}; not for {denied}: rows for them are invalid in the check and "
        "are not sent"
    ).format(allowed=_names(found, allowed) or "-", denied=_names(found, denied))


def _modify_line(found: AccountSurvey) -> str:
    if found.modify_why:
        return _(
            "not checked ({why}): a missing right shows only when onOffice refuses an update"
        ).format(why=found.modify_why)
    if not found.may_modify:
        return _(
            "not known: no appointment of a user was read; a run checks each appointment "
            "before it changes it"
        )
    allowed = sorted(a for a, may in found.may_modify.items() if may)
    denied = sorted(a for a, may in found.may_modify.items() if not may)
    unknown = sorted(set(found.users) - set(found.may_modify))
    parts = []
    if allowed:
        parts.append(_("allowed for {names}").format(names=_names(found, allowed)))
    if denied:
        parts.append(_("not for {names}").format(names=_names(found, denied)))
    if unknown:
        parts.append(
            _("not known for {names} (none of their appointments was read)").format(
                names=_names(found, unknown)
            )
        )
    return _(
        "{parts}; a run checks each appointment before it changes it (tried on one "
        "appointment per user)"
    ).format(parts="; ".join(parts))


def _read_line(found: AccountSurvey) -> str:
    if not found.read_via:
        return _(
            "onOffice does not answer ({why}): a run cannot tell which rows exist already and "
            "sends nothing"
        ).format(why=found.read_why)
    read = ngettext("{n} appointment read", "{n} appointments read", found.seen).format(
        n=found.seen
    )
    if found.read_via == "read calendar":
        return _("through read calendar ({read}): a run sees every appointment of a day").format(
            read=read
        )
    return _(
        "read calendar is not available, only appointmentList ({read}): a run asks it user by "
        "user and group by group; an appointment nobody of the account takes part in is not "
        "seen, as a double booking or as an import's own appointment"
    ).format(read=read)


def _types_line(found: AccountSurvey) -> str:
    if found.types:
        return ngettext(
            "{n} listed by onOffice: {types}",
            "{n} listed by onOffice: {types}",
            len(found.types),
        ).format(n=len(found.types), types=_pairs(found.types))
    seen = (
        _("seen in the appointments read: {types}").format(types=_pairs(found.seen_types))
        if found.seen_types
        else _("none seen in the appointments read")
    )
    return _(
        "not listed ({why}); {seen}. Types are not checked against a list of the account: "
        "onOffice may refuse one as it is sent"
    ).format(why=found.types_why, seen=seen)


def _resources_line(found: AccountSurvey) -> str:
    if found.resources:
        return ngettext(
            "{n} listed: {resources}", "{n} listed: {resources}", len(found.resources)
        ).format(n=len(found.resources), resources=_pairs(found.resources))
    if found.resources_why:
        return _("not listed ({why}): resource names in a file cannot be looked up").format(
            why=found.resources_why
        )
    return _("none: a row that names a resource is invalid")
