"""How this account shows the import's own appointments: learned from what it shows.

The documentation shows every read element in one shape, by example (§5.1, §5.2); a real
account may show `art` as a plain string (its label, or its key), leave out `users`, `groups` or
`ressourcesWithKeys`, or show no `modified`. The import never predicts which: an appointment is
read as it comes (:mod:`importer.onoffice.readback` names what a read does not show), and here
the account's own lists turn what it does show back into what was written:

- a type shown as text is each type key the account lists with that label (`get fields`, §6.6),
  or that this run saw written and read back as that text (:meth:`AccountForm.learn_type`);
- resources shown only by their labels are the keys the account lists with those labels
  (`get calendarResources`, §6.6);
- participants listed together with the members of the appointment's groups (appointmentList
  may, §5.1; `user_ids` does) are told apart by the members the account lists (`get groups`,
  §6.5; :func:`importer.onoffice.readback.changed_fields`).

Each list is asked once per client, and only when a read needs it. What stays unseen is said
once per run (:func:`unseen_notice`): a change made there in onOffice cannot be seen.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from weakref import WeakKeyDictionary

from ..core import contract
from ..core.errors import ApiError
from ..core.i18n import _
from .client import OnOfficeClient
from .readback import Appointment, Id
from .reference import read_stamp


@dataclass
class AccountForm:
    """What this run learned of one account's reads."""

    types: dict[str, str] | None = None  # key -> label as the account lists them (None: not asked)
    resources: dict[str, str] | None = None  # key -> label (None: not asked)
    groups: dict[Id, frozenset[Id]] | None = None  # group -> its members (None: not asked)
    shown_as: dict[str, str] = field(default_factory=dict)  # type key -> the text reads show
    # what a modify does to `subscribers` (UNDOCUMENTED, §5.4): "replace", "merge", "" not known
    subscribers: str = ""

    def type_keys(self, shown: str) -> set[str]:
        """The type keys a read that shows ``shown`` may hold."""
        listed = {k for k, label in (self.types or {}).items() if shown in (k, label)}
        return listed | {k for k, text in self.shown_as.items() if text == shown}

    def learn_type(self, key: str, shown: str) -> None:
        """The account reads a type written as ``key`` back as ``shown`` (its own form): what
        the import's appointments show now replaces what was remembered."""
        self.shown_as[key] = shown


_FORMS: WeakKeyDictionary[OnOfficeClient, AccountForm] = WeakKeyDictionary()


def form_of(client: OnOfficeClient) -> AccountForm:
    """The form learned so far of the account ``client`` talks to."""
    form = _FORMS.get(client)
    if form is None:
        form = _FORMS[client] = AccountForm()
    return form


def learn_types(
    client: OnOfficeClient,
    written: Iterable[tuple[Appointment, str]],
    known: Iterable[str] = (),
) -> None:
    """Learn how the account shows types the import wrote, from its own appointments (each with
    the type key written to it) where the reads show a type as a text the account's type list
    does not explain (no list, §6.6). A text most of a type's appointments show is that type's
    form, one only some show is a person's edit, and a text two types would share is the form
    of the type most appointments show it for. One appointment alone teaches a type's form
    only where nobody changed it since the import's write (its `modified`), or where the
    account shows no `modified` at all: there a person's change of that one appointment to a
    type the file does not use cannot be told from the form (README, Limits); a text two types
    show equally often is the form of neither. ``known``: type
    keys written elsewhere (a text that is one of them is that type, never another's form)."""
    shown: dict[str, Counter[str]] = {}
    untouched: set[tuple[str, str]] = set()
    for found, art in written:
        if found.type_text and art:
            shown.setdefault(art, Counter())[found.type_text] += 1
            if _untouched(found):
                untouched.add((art, found.type_text))
    if not any(text != art for art, texts in shown.items() for text in texts):
        return
    form = form_of(client)
    _types(client, form)
    best: dict[str, tuple[int, str]] = {}  # text -> (appointments, type)
    tied: set[str] = set()  # texts two types show as often: the form of neither
    for art, texts in shown.items():
        text, count = texts.most_common(1)[0]
        sure = count >= 2 or (art, text) in untouched
        if not sure or count * 2 <= sum(texts.values()):
            continue
        most = best.get(text, (0, ""))[0]
        if count == most:
            tied.add(text)
        elif count > most:
            best[text] = (count, art)
            tied.discard(text)
    keys = {*known, *shown}
    for text, (_count, art) in best.items():
        if text != art and text not in keys | tied and not form.type_keys(text):
            form.learn_type(art, text)


def _untouched(found: Appointment) -> bool:
    """Nobody changed the appointment since the import's last write, as far as `modified`
    tells (True where the account shows no `modified`: nothing tells otherwise)."""
    stamp = read_stamp(found.note)
    if found.modified is None:
        return "modified" in found.unseen or stamp is None
    if stamp is None or not stamp.at:
        return False
    try:
        changed = datetime.strptime(found.modified, contract.DATETIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return False
    return changed.timestamp() <= stamp.at + contract.CLOCK_MARGIN_SECONDS


# The ledger's meta key under which what was learned of an account's form is kept.
MEMO_KEY = "account form"


def recall(client: OnOfficeClient, memo: str | None) -> None:
    """What an earlier run on this computer learned of the account (:func:`memo`'s text)."""
    try:
        learned = json.loads(memo or "{}")
    except ValueError:
        return  # a damaged memo is learned anew
    if isinstance(learned, dict):
        form = form_of(client)
        shown = learned.get("type shown as")
        if isinstance(shown, dict):
            form.shown_as.update({str(k): str(v) for k, v in shown.items()})
        if learned.get("subscribers on modify") in ("replace", "merge"):
            form.subscribers = str(learned["subscribers on modify"])


def memo(client: OnOfficeClient) -> str | None:
    """What was learned of the account, to keep in the ledger (None: nothing learned)."""
    form = form_of(client)
    learned: dict[str, object] = {}
    if form.shown_as:
        learned["type shown as"] = dict(sorted(form.shown_as.items()))
    if form.subscribers:
        learned["subscribers on modify"] = form.subscribers
    return json.dumps(learned) if learned else None


def _types(client: OnOfficeClient, form: AccountForm) -> dict[str, str]:
    if form.types is None:
        try:
            records = client.get_fields(contract.CALENDAR_MODULE)
        except ApiError:
            records = []
        form.types = contract.permitted_types(records)
    return form.types


def _resources(client: OnOfficeClient, form: AccountForm) -> dict[str, str]:
    if form.resources is None:
        try:
            records = client.get_calendar_resources()
        except ApiError:
            records = []
        form.resources = {
            str(k): str(v) for r in records for k, v in contract.as_map(r.elements).items()
        }
    return form.resources


def _groups(client: OnOfficeClient, form: AccountForm) -> dict[Id, frozenset[Id]]:
    if form.groups is None:
        try:
            records = client.get_groups()
        except ApiError:
            records = []
        form.groups = {}
        for record in records:
            e = contract.as_map(record.elements)
            number = contract.record_id(e.get("id", record.id))
            if number is not None:
                form.groups[number] = contract.id_set(e.get("userIds"))
    return form.groups


def normalised(client: OnOfficeClient, found: Appointment) -> Appointment:
    """``found`` with what the account's lists tell: the type keys behind a type shown as text,
    the resource keys behind resources shown by label, the members of the groups a read lists
    among the participants (it cannot tell them from the explicit ones)."""
    form = form_of(client)
    if found.users is None and found.groups and found.members is None:
        groups = _groups(client, form)
        if all(g in groups for g in found.groups):
            found = replace(found, members=frozenset().union(*(groups[g] for g in found.groups)))
    if found.type_text:
        if form.types is None and not form.type_keys(found.type_text):
            _types(client, form)
        keys = form.type_keys(found.type_text)
        found = replace(
            found,
            types=found.types | keys,
            type_key=next(iter(keys)) if len(keys) == 1 else found.type_key,
        )
    if "resources" in found.unseen and found.resource_names:
        by_label: dict[str, set[str]] = {}
        for key, label in _resources(client, form).items():
            by_label.setdefault(label, set()).add(key)
        each = [by_label.get(label, set()) for label in found.resource_names]
        if all(len(k) == 1 for k in each):
            found = replace(
                found,
                resources=frozenset().union(*each),
                unseen=found.unseen - {"resources"},
            )
    return found


# The fields as the onOffice appointment form names them, for the notice.
_FIELD_WORDS = {
    "type": lambda: _("type"),
    "participants": lambda: _("participants"),
    "resources": lambda: _("resources"),
    "contacts": lambda: _("contacts"),
    "property": lambda: _("property"),
    "modified": lambda: _("time of the last change"),
}


def unseen_notice(appointments: Iterable[Appointment]) -> str | None:
    """One line saying which kinds of change cannot be seen on this account (its reads do not
    show them), or None when every read showed every field."""
    unseen = set().union(*(a.unseen for a in appointments))
    words = [_FIELD_WORDS[name]() for name in _FIELD_WORDS if name in unseen]
    if not words:
        return None
    return _(
        "This onOffice account's reads do not show an appointment's {fields}: a change made"
        " there by a person cannot be seen, and is not reported as a conflict."
    ).format(fields=", ".join(words))


def read_shape(client: OnOfficeClient, appointments: Iterable[Appointment]) -> list[str]:
    """What the account's reads of ``appointments`` show, in words, for the account report:
    the fields they leave out, the form of the type, and what a modify does to participants
    (where a run learned it)."""
    seen = [normalised(client, a) for a in appointments]
    form = form_of(client)
    lines = []
    if not seen:
        lines.append(_("No appointment was read to see the shape of this account's reads."))
    else:
        if any(a.type_text for a in seen):
            lines.append(
                _("The type is shown as a plain text; it is matched through {how}.").format(
                    how=_("the account's type list")
                    if form.types
                    else _("the import's own appointments")
                )
            )
        lines.append(unseen_notice(seen) or _("Every field the import compares is shown."))
    lines.append(
        {
            "replace": _("A change of participants replaces them (learned by reading back)."),
            "merge": _(
                "A change of participants adds to them (learned by reading back): a row whose"
                " agent changes gets a new appointment, the old one is cancelled."
            ),
        }.get(
            form.subscribers,
            _(
                "Whether a change of participants replaces or adds to them is not known yet: the"
                " first run that takes a participant off reads it back once."
            ),
        )
    )
    return lines
