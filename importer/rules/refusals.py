"""What onOffice's refusal of one row means, in the user's words.

A refused create or modify comes back with a numeric code and the server's own English text
(§3.2). The codes are not on the documentation's pages: they are the third-party list of §3.3,
which the sandbox follows too. :data:`MEANINGS` turns the codes a row can get into a sentence in
the user's language and the fields (so the columns) it concerns; an unknown code still gets a
sentence around the server's text. The server's own code and text are kept apart for support
(the results' column "onOffice answer").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from ..core.i18n import N_, NP_, _, pgettext
from ..core.problems import Level, RowProblem, shown

Fields = tuple[str, ...]


@dataclass(frozen=True)
class Meaning:
    fields: Fields  # the API fields the code concerns (a field the server names comes first)
    text: str  # N_: what is wrong
    fix: str  # N_: what to do


LINKS: Final = ("subscribers.users", "subscribers.groups", "relatedAddressIds", "relatedEstateId")
SERIES: Final = ("rp_type", "rp_tage", "rp_beginn_datum", "rp_ende_datum", "rp_ende_status")

# Codes a create or modify of one row can get, from §3.3 ([3P] codes).
MEANINGS: Final[dict[int, Meaning]] = {
    75: Meaning((), N_("onOffice does not know a field the row sends"), N_("check the mapping")),
    77: Meaning(
        (),
        N_("a value is not one onOffice offers for its field"),
        N_("write one of the field's values"),
    ),
    78: Meaning(
        (),
        N_("onOffice did not create the appointment"),
        N_("run again; if it is refused again, give onOffice's answer to their support"),
    ),
    80: Meaning(
        LINKS,
        N_(
            "an agent, group, contact or property of the row is unknown to onOffice, or the "
            "API user may not see it"
        ),
        N_("check the value, or the API user's rights"),
    ),
    88: Meaning(
        (),
        N_("onOffice did not change the appointment"),
        N_("run again; if it is refused again, give onOffice's answer to their support"),
    ),
    91: Meaning(("start_dt",), N_("the start is missing"), N_("fill in the start")),
    92: Meaning(("end_dt",), N_("the end is missing"), N_("fill in the end")),
    93: Meaning(("start_dt", "end_dt"), N_("the end is before the start"), N_("fix the times")),
    154: Meaning((), N_("onOffice does not know a field the row sends"), N_("check the mapping")),
    156: Meaning(
        ("subscribers.users",),
        N_(
            "the API user may not write appointments of this agent in onOffice (a right is missing)"
        ),
        N_("ask for the right, or give the row another agent"),
    ),
    167: Meaning(SERIES, N_("a value the series needs is missing"), N_("complete the series")),
    169: Meaning(
        (),
        N_("the appointment is not in onOffice any more"),
        N_("run again: the row is then created anew"),
    ),
    184: Meaning(
        ("subscribers.users",),
        N_("an agent of the row is unknown to onOffice or inactive"),
        N_("give the row an active agent"),
    ),
    251: Meaning(("von",), N_("onOffice knows no user of this name"), N_("check the user name")),
    252: Meaning(
        ("art", "ressources"),
        N_("the value is not one onOffice offers for this field"),
        N_("write one of its values"),
    ),
    254: Meaning((), N_("a value onOffice requires is missing"), N_("fill it in")),
    255: Meaning((), N_("onOffice does not take this value"), N_("fix the value")),
    272: Meaning(
        ("subscribers.groups",), N_("onOffice knows no such group"), N_("check the group")
    ),
    290: Meaning(("location",), N_("the place is not one onOffice takes"), N_("fix the place")),
    292: Meaning(
        ("relatedAddressIds",),
        N_("a contact of the row is unknown to onOffice, or the API user may not see it"),
        N_("check the contact"),
    ),
    293: Meaning(
        ("relatedEstateId",),
        N_("the property is unknown to onOffice, or the API user may not see it"),
        N_("check the property"),
    ),
    295: Meaning(("subscribers.groups",), N_("the groups are not a list"), N_("check the mapping")),
    301: Meaning(("subscribers.users",), N_("the agents are not a list"), N_("check the mapping")),
    302: Meaning(LINKS, N_("more than 500 records are linked"), N_("link fewer")),
}

# A field the server's text names: 'Unknown value in select field "art": Kaffee',
# 'Invalid value for parameter "transitTime"', 'Missing parameter "rp_ende_datum"', and
# without quotes: 'Invalid value for parameter art' (UNDOCUMENTED which form onOffice writes).
_NAMED = re.compile(
    r"\"([A-Za-z_][A-Za-z_.]*)\"|(?:parameter|field)\s+'?([A-Za-z_][A-Za-z_.]*[A-Za-z_])"
)
# Codes that refuse the value of the field they name (§3.3): the message names the field, the
# value the row sent and the values the account offers.
VALUE_CODES: Final = frozenset({77, 252, 255})
# The fields in the user's words ("Terminart"), shown with pgettext(FIELD_CONTEXT, word).
FIELD_CONTEXT: Final = "field"
FIELD_WORDS: Final[dict[str, str]] = {
    "art": NP_("field", "appointment type"),
    "ressources": NP_("field", "resources"),
    "erinnerung": NP_("field", "reminder"),
    "status": NP_("field", "status"),
    "description": NP_("field", "subject"),
    "note": NP_("field", "note"),
    "start_dt": NP_("field", "start"),
    "end_dt": NP_("field", "end"),
    "von": NP_("field", "creator"),
    "location": NP_("field", "place"),
    "reminderTypes": NP_("field", "reminder channels"),
    "transitTime": NP_("field", "travel time"),
    "transitTimePre": NP_("field", "travel time before"),
    "transitTimePost": NP_("field", "travel time after"),
}


@dataclass(frozen=True)
class Explained:
    """A refusal in the user's words, the cells it concerns, and the server's own answer."""

    message: str
    problems: tuple[RowProblem, ...]
    answer: str  # "252: Unknown value in select field "art": Kaffee" (for support)


def explain(
    row: int,
    code: int,
    server_text: str,
    sources: Mapping[str, tuple[str, ...]],
    allowed: Mapping[str, str] | None = None,
    sent: Mapping[str, Any] | None = None,
) -> Explained:
    """One refusal of ``row``; ``sources``: the columns each field came from; ``allowed``: the
    values the account offers per field, as words (named where the refusal concerns one);
    ``sent``: the row's parameters, to name the value refused."""
    meaning = MEANINGS.get(code)
    named = [
        f
        for f in dict.fromkeys(a or b for a, b in _NAMED.findall(server_text))
        if f in sources or f in _ALL_FIELDS
    ]
    fields = tuple(dict.fromkeys([*named, *(meaning.fields if meaning else ())]))
    # the field the server names, where the row has it; else every field the code concerns
    concerned = (
        [f for f in named if sources.get(f)] or [f for f in fields if sources.get(f)] or named
    )
    columns = tuple(dict.fromkeys(c for f in concerned for c in sources.get(f, ())))
    answer = f"{code}: {server_text}" if server_text else str(code)
    choices = [allowed[f] for f in concerned if allowed and allowed.get(f)]
    if named and code in VALUE_CODES:
        message = _value_refused(named[0], _value(named[0], sent), choices)
    else:
        if meaning is None:
            message = _("onOffice refused the row ({answer})").format(answer=answer)
        else:
            message = f"{_(meaning.text)}; {_(meaning.fix)}"
        if choices:
            message += " " + _("(onOffice offers: {values})").format(values=choices[0])
    field = named[0] if named else None
    problem = RowProblem(row, columns, f"onoffice-{code}", message, None, Level.ERROR, field)
    return Explained(message, (problem,), answer)


def _value_refused(name: str, value: Any, choices: list[str]) -> str:
    """ "onOffice does not take 'Kaffee' as the appointment type; write one of: …"."""
    field = pgettext(FIELD_CONTEXT, FIELD_WORDS[name]) if name in FIELD_WORDS else name
    if value is None:
        text = _("onOffice does not take the value of the field {field}").format(field=field)
    else:
        text = _("onOffice does not take {value} as the {field}").format(
            value=shown(value), field=field
        )
    if choices:
        refused = "" if value is None else str(value)  # never offered: as sent, nor by label
        offered = [w for w in choices[0].split(", ") if w != refused and w.strip(" …") != refused]
        offered = [w for w in offered if not w.endswith(f"({refused})")]
        return f"{text}; " + _("write one of: {values}").format(values=", ".join(offered))
    return f"{text}; " + _("fix the value")


def _value(name: str, sent: Mapping[str, Any] | None) -> Any:
    """The value the row sent for a field (None where not known)."""
    if not sent:
        return None
    data = sent.get("data")
    value = data.get(name) if isinstance(data, Mapping) and name in data else sent.get(name)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or None
    return value if isinstance(value, str | int) and not isinstance(value, bool) else None


_ALL_FIELDS: Final = frozenset(
    {
        "start_dt",
        "end_dt",
        "description",
        "note",
        "art",
        "erinnerung",
        "status",
        "ressources",
        "von",
        "location",
        "reminderTypes",
        "transitTime",
        "transitTimePre",
        "transitTimePost",
        *LINKS,
        *SERIES,
    }
)
