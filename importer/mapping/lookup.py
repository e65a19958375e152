"""Look-ups: human keys (external estate numbers, e-mails, customer numbers, user and group
names, resource labels) into onOffice record ids, through the API's read calls.

Keys are batched (at most 500 per call, the API's cap) and cached for the run. A read filter may
match loosely (the API compares numbers numerically), so every match is confirmed here: exact
first, then ignoring case, then ignoring leading zeros, each only where it is unique.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..core import contract
from ..core.i18n import N_, _
from ..core.problems import shown
from ..onoffice.learned import Learned


class RecordLike(Protocol):
    @property
    def id(self) -> Any: ...
    @property
    def elements(self) -> Any: ...


class ReadApi(Protocol):
    """The read calls a resolver needs (``importer.onoffice.client.OnOfficeClient`` has them)."""

    def read_estates(self, *, filter: Any, data: Sequence[str]) -> Sequence[RecordLike]: ...
    def read_addresses(self, *, filter: Any, data: Sequence[str]) -> Sequence[RecordLike]: ...
    def get_users(self) -> Sequence[RecordLike]: ...
    def get_groups(self) -> Sequence[RecordLike]: ...
    def get_calendar_resources(self) -> Sequence[RecordLike]: ...
    def get_fields(self, module: str) -> Sequence[RecordLike]: ...


@dataclass(frozen=True)
class Candidate:
    id: Any  # what the API takes: a record id, or a resource key
    keys: tuple[str, ...]  # the values the look-up key is compared with
    label: str  # for messages: "5436 (Markus Wagner)"
    name: str = ""  # a user's user name (what `von` takes)
    surname: str = ""  # a user's last name: matched when nothing else is, if only one has it
    kind: str = ""  # "user" or "address" where a look-up may find either (an attendee)
    email: str = ""  # a user's e-mail (an attendee is matched by it alone)


@dataclass(frozen=True)
class Resolution:
    candidate: Candidate | None = None
    code: str = ""
    message: str = ""


_NOTHING_MATCHES = N_("nothing in onOffice matches {key}")
# What the user reads when a look-up finds nothing, per kind and key.
_NOT_FOUND = {
    ("estate", "objektnr_extern"): N_("no estate in onOffice has the number {key}"),
    ("address", "email"): N_("no contact in onOffice has the e-mail {key}"),
    ("address", "Email"): N_("no contact in onOffice has the main e-mail {key}"),
    ("address", "KdNr"): N_("no contact in onOffice has the customer number {key}"),
    ("user", "auto"): N_("no onOffice user is called {key}"),
    ("user", "username"): N_("no onOffice user has the user name {key}"),
    ("user", "name"): N_("no onOffice user is called {key}"),
    ("group", "name"): N_("no onOffice group is called {key}"),
    ("resource", "label"): N_("no onOffice resource is called {key}"),
    ("attendee", "email"): N_("{key} is neither an onOffice user nor a contact in onOffice"),
}


_CONTACT_WAYS = N_(
    "create the contact in onOffice, or empty the cell: the row is then imported without a contact"
)


def _strip_zeros(text: str) -> str:
    return text.lstrip("0") or "0"


_TIERS: tuple[Callable[[str], str], ...] = (lambda s: s, str.casefold, _strip_zeros)


def match(key: str, candidates: Iterable[Candidate], kind: str, by: str) -> Resolution:
    """Exact, then case-insensitive, then leading-zero-insensitive: the first unique tier wins."""
    pool = list(candidates)
    for normal in _TIERS:
        wanted = normal(key)
        found = [c for c in pool if any(normal(k) == wanted for k in c.keys if k)]
        found = list({c.id: c for c in found}.values())
        if len(found) == 1:
            return Resolution(found[0])
        if len(found) > 1:
            listing = ", ".join(c.label for c in found[:10])
            return Resolution(
                code=f"{kind}-ambiguous",
                message=_(
                    "{count} records in onOffice match {key}: {listing}; make the value unique"
                ).format(count=len(found), key=shown(key), listing=listing),
            )
    if kind == "user" and by in ("auto", "name"):
        # "Müller" (or "Mueller") for Maria Müller: an office's usual shorthand, taken only
        # when exactly one user has that last name
        wanted = spelled(key)
        found = [c for c in pool if c.surname and spelled(c.surname) == wanted]
        if len(found) == 1:
            return Resolution(found[0])
        if len(found) > 1:
            listing = ", ".join(c.label for c in found[:10])
            return Resolution(
                code="user-ambiguous",
                message=_(
                    "{count} onOffice users have the last name {key}: {listing}; write the "
                    "first name too"
                ).format(count=len(found), key=shown(key), listing=listing),
            )
    message = _(_NOT_FOUND.get((kind, by), _NOTHING_MATCHES)).format(key=shown(key))
    if kind == "address":  # the office has two ways out, and should hear both
        message += "; " + _(_CONTACT_WAYS)
    return Resolution(code=f"{kind}-not-found", message=message)


def spelled(text: str) -> str:
    """A name compared as people write it on German keyboards and without: Müller = Mueller."""
    folded = " ".join(text.casefold().split())
    for umlaut, spelt in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        folded = folded.replace(umlaut, spelt)
    return folded


def _chunks(keys: list[str], size: int = contract.MAX_IDS_PER_ACTION) -> Iterable[list[str]]:
    for i in range(0, len(keys), size):
        yield keys[i : i + size]


@dataclass(frozen=True)
class Choices:
    """The values the account allows for a select field (key -> label), or why they are not
    known (then nothing is checked against them)."""

    values: dict[str, str]
    unknown: str = ""

    def shown(self, limit: int = 12, without: str = "") -> str:
        """ "Besichtigung, Übergabe (Uebergabe), …": each type as a word that names it alone
        (its label, with the key where it differs), never ``without`` as written."""
        words = [self.spelling(key) for key in self.values]
        words = [w for w in words if w and w != without]
        return ", ".join(words[:limit]) + (" …" if len(words) > limit else "")

    def spelling(self, key: str) -> str:
        """How to write one type so that it names that type and no other: "label (key)",
        or only the one of the two that is not also another type's word."""
        label = self.values.get(key) or key
        label_alone = self._exact(label) == {key}
        key_alone = self._exact(key) == {key}
        if label_alone and key_alone:
            return label if label == key else f"{label} ({key})"
        return label if label_alone else key if key_alone else ""

    def _exact(self, word: str) -> set[str]:
        return {k for k, lbl in self.values.items() if word in (k, lbl)}

    def match(self, value: str) -> str | None:
        """The key a value names, by key or by label: exactly, then ignoring case, then with
        umlauts spelled out (Übergabe = Uebergabe); only where one key fits."""
        return self.find(value)[0]

    def find(self, value: str) -> tuple[str | None, list[str]]:
        """(the key ``value`` names, []) as :meth:`match`; (None, the keys) where it names
        several types alike (one's key and another's label, or two labels); (None, [])
        where it names none."""
        for normal in (lambda t: t, str.casefold, spelled):
            wanted = normal(value)
            found = [
                key for key, label in self.values.items() if wanted in (normal(key), normal(label))
            ]
            if len(found) == 1:
                return found[0], []
            if found:
                return None, found
        return None, []

    def ambiguous(self, value: str, keys: list[str]) -> str:
        """ "'Termin' names 2 appointment types …: 'Besichtigung', 'Notartermin'": the types a
        word could be, each as a word that names it alone (never the word itself)."""
        words = [self.spelling(k) or k for k in keys]
        message = _(
            "{value} names {count} appointment types of this onOffice account: {types}; write "
            "the one you mean"
        )
        return message.format(
            value=shown(value),
            count=len(keys),
            types=", ".join(shown(w) for w in words if w != value),
        )

    def closest(self, value: str) -> str | None:
        """The key whose label or key comes closest to a value, if one comes close."""
        names = {spelled(n): key for key, label in self.values.items() for n in (key, label) if n}
        near = difflib.get_close_matches(spelled(value), list(names), n=1, cutoff=0.6)
        return names[near[0]] if near else None


class Resolver:
    """Resolves keys per (kind, by), caching every answer for the run."""

    def __init__(self, api: ReadApi, learned: Learned | None = None) -> None:
        self.api = api
        # what the account has shown of its types, where `get fields` does not list them
        self.learned = learned if learned is not None else Learned()
        self._cache: dict[tuple[str, str, str], Resolution] = {}
        self._lists: dict[str, list[Candidate]] = {}
        self._types: Choices | None = None
        self.calls = 0

    def types(self) -> Choices:
        """The account's appointment types (`get fields`, §6.6), fetched once; where onOffice
        does not list them, why (a refused call, or no `permittedvalues`)."""
        from ..core.errors import ActionRefused

        if self._types is None:
            self.calls += 1
            try:
                records = self.api.get_fields(contract.CALENDAR_MODULE)
            except ActionRefused as exc:
                self._types = Choices({}, _("onOffice does not answer it ({why})").format(why=exc))
                return self._types
            values = contract.permitted_types(records)
            why = "" if values else _("onOffice lists no appointment types")
            self._types = Choices(values, why)
        return self._types

    @property
    def learning(self) -> bool:
        """The types were asked for and onOffice listed none: :attr:`learned` decides."""
        return self._types is not None and bool(self._types.unknown)

    def candidates(self, kind: str) -> list[Candidate]:
        """Every user, group or resource of the account (fetched once)."""
        return self._fetch(kind, "", [])

    def resolve(self, kind: str, by: str, keys: Iterable[str]) -> dict[str, Resolution]:
        keys = list(dict.fromkeys(k for k in keys if k))
        if kind == "attendee":
            return self._attendees(keys)
        todo = [k for k in keys if (kind, by, k) not in self._cache]
        if todo:
            candidates = self._fetch(kind, by, todo)
            for key in todo:
                self._cache[(kind, by, key)] = match(key, candidates, kind, by)
        return {k: self._cache[(kind, by, k)] for k in keys}

    def _attendees(self, keys: list[str]) -> dict[str, Resolution]:
        """A calendar's people by e-mail (§6.5: a calendar names them so): an onOffice user by
        the e-mail of the user (any letter case), else a contact by any of its e-mails."""
        users = [
            Candidate(c.id, (c.email,), c.label, c.name, kind="user")
            for c in self.candidates("user")
            if c.email
        ]
        out: dict[str, Resolution] = {}
        for key in keys:
            found = match(key, users, "user", "email")
            if found.candidate is not None or found.code == "user-ambiguous":
                out[key] = found
        contacts = self.resolve("address", "email", [k for k in keys if k not in out])
        for key, found in contacts.items():
            if found.code == "address-not-found":
                found = Resolution(
                    code="attendee-not-found",
                    message=_(_NOT_FOUND[("attendee", "email")]).format(key=shown(key)),
                )
            out[key] = found
        return {k: out[k] for k in keys}

    def _fetch(self, kind: str, by: str, keys: list[str]) -> list[Candidate]:
        if kind in ("user", "group", "resource"):
            if kind not in self._lists:
                self.calls += 1
                self._lists[kind] = {
                    "user": self._users,
                    "group": self._groups,
                    "resource": self._resources,
                }[kind]()
            return self._lists[kind]
        found: list[Candidate] = []
        for chunk in _chunks(keys):
            self.calls += 1
            condition = {by: [{"op": "in", "val": chunk}]}
            if kind == "estate":
                records = self.api.read_estates(filter=condition, data=["Id", "objektnr_extern"])
                for r in records:
                    estate_id = contract.record_id(r.id)
                    number = str(contract.as_map(r.elements).get("objektnr_extern") or "")
                    if isinstance(estate_id, int):
                        found.append(Candidate(estate_id, (number,), f"{estate_id} ({number})"))
            else:
                records = self.api.read_addresses(
                    filter=condition, data=["KdNr", "Vorname", "Name", "Firma", "Email", "email"]
                )
                found += [
                    _address(address_id, r.elements, by)
                    for r in records
                    if isinstance(address_id := contract.record_id(r.id), int)
                ]
        return found

    def _users(self) -> list[Candidate]:
        out = []
        for r in self.api.get_users():
            e = contract.as_map(r.elements)
            user_id = contract.record_id(e.get("id", r.id))
            if not isinstance(user_id, int):
                continue  # not an id a create could take
            first, last = str(e.get("firstname") or ""), str(e.get("lastname") or "")
            user = str(e.get("username") or "")
            email = str(e.get("email") or "")  # §6.5: a calendar names its people by e-mail
            keys = (user, f"{first} {last}".strip(), f"{last}, {first}".strip(", "), email)
            label = f"{user} ({first} {last})".strip()
            out.append(Candidate(user_id, keys, label, user, last, "user", email))
        return out

    def _groups(self) -> list[Candidate]:
        out = []
        for r in self.api.get_groups():
            e = contract.as_map(r.elements)
            group_id = contract.record_id(e.get("id", r.id))
            if isinstance(group_id, int):
                name = str(e.get("name") or "")
                out.append(Candidate(group_id, (name,), f"{group_id} ({name})"))
        return out

    def _resources(self) -> list[Candidate]:
        out = []
        for r in self.api.get_calendar_resources():
            for key, label in contract.as_map(r.elements).items():
                out.append(Candidate(key, (str(label), key), f"{key} ({label})"))
        return out


def _address(record_id: int, elements: Any, by: str) -> Candidate:
    e = contract.as_map(elements)
    name = " ".join(str(e.get(k, "")) for k in ("Vorname", "Name")).strip() or str(
        e.get("Firma", "")
    )
    if by == "KdNr":
        keys: tuple[str, ...] = (str(e.get("KdNr", "")),)
    elif by == "Email":
        keys = (str(e.get("Email", "")),)
    else:
        keys = tuple(str(v) for k, v in e.items() if k == "Email" or k.startswith("email"))
    label = f"{record_id} ({name})" if name else str(record_id)
    return Candidate(record_id, keys, label, kind="address")
