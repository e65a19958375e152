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
from typing import Final

from ..core.i18n import N_, _
from ..core.problems import Level, RowProblem

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
# 'Invalid value for parameter "transitTime"', 'Missing parameter "rp_ende_datum"'.
_NAMED = re.compile(r'"([A-Za-z_][A-Za-z_.]*)"')


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
) -> Explained:
    """One refusal of ``row``; ``sources``: the columns each field came from; ``allowed``: the
    values the account offers per field, as words (named where the refusal concerns one)."""
    meaning = MEANINGS.get(code)
    named = [f for f in _NAMED.findall(server_text) if f in sources or f in _ALL_FIELDS]
    fields = tuple(dict.fromkeys([*named, *(meaning.fields if meaning else ())]))
    concerned = [f for f in fields if sources.get(f)] or named
    columns = tuple(dict.fromkeys(c for f in concerned for c in sources.get(f, ())))
    answer = f"{code}: {server_text}" if server_text else str(code)
    if meaning is None:
        message = _("onOffice refused the row ({answer})").format(answer=answer)
    else:
        message = f"{_(meaning.text)}; {_(meaning.fix)}"
    choices = [allowed[f] for f in concerned if allowed and allowed.get(f)]
    if choices:
        message += " " + _("(onOffice offers: {values})").format(values=choices[0])
    problem = RowProblem(row, columns, f"onoffice-{code}", message, None, Level.ERROR, None)
    return Explained(message, (problem,), answer)


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
