"""The mapping editor's form: every target field of a mapping, grouped, as form values.

The mapping stays a YAML document (``mappings/README.md``): :func:`form_values` reads the
slots of a parsed document into what the form shows, :func:`apply_form` writes the form back
into the document, keeping every key the form does not show (formats, ``required``, named
maps, options, key columns). The result is checked by :func:`importer.mapping.spec.load_mapping`
like any file the CLI reads.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from ..core import contract
from ..core.i18n import N_
from ..mapping.spec import LOOKUP_KINDS, LOOKUP_TARGETS


@dataclass(frozen=True)
class Slot:
    path: str  # "start.date", "fields.art", "location", ...
    label: str  # marked with N_, translated where shown
    hint: str = ""


GROUPS: tuple[tuple[str, tuple[Slot, ...]], ...] = (
    (
        N_("Time"),
        (
            Slot("start", N_("Start: date and time in one column")),
            Slot("start.date", N_("or the date …"), N_("a date column")),
            Slot("start.time", N_("… and the start time"), N_("a time column")),
            Slot("end", N_("End: date and time in one column")),
            Slot("end.date", N_("or the end date …"), N_("when the end has a date column")),
            Slot("end.time", N_("or the end time (on the start's day without an end date)")),
            Slot("end.duration", N_("or the duration"), N_("minutes, 1:30 or 90 min")),
            Slot("all_day", N_("All day"), N_("yes/no, x or empty")),
        ),
    ),
    (
        N_("Subject and type"),
        (
            Slot(
                "fields.description",
                N_("Subject"),
                N_("a template such as {Terminart} {Objekt-Nr.}"),
            ),
            Slot("fields.art", N_("Appointment type"), N_("Besichtigung, Uebergabe, …")),
            Slot("fields.note", N_("Note")),
            Slot("fields.status", N_("Status")),
        ),
    ),
    (
        N_("Agents, groups and resources"),
        (
            Slot("fields.subscribers.users", N_("Agents (onOffice users)")),
            Slot("fields.subscribers.groups", N_("Groups and teams")),
            Slot("fields.von", N_("Organiser (user)")),
            Slot("fields.ressources", N_("Resources"), N_("company car, meeting room, …")),
        ),
    ),
    (N_("Contacts"), (Slot("fields.relatedAddressIds", N_("Contacts (addresses)")),)),
    (N_("Estate"), (Slot("fields.relatedEstateId", N_("Estate")),)),
    (N_("Location"), (Slot("location", N_("Location")),)),
    (
        N_("Reminders"),
        (
            Slot("fields.erinnerung", N_("Reminder"), N_("15 Min, 1 Std, 1 Tag")),
            Slot("fields.reminderTypes", N_("Reminder channels"), N_("email, popup")),
        ),
    ),
    (
        N_("Series"),
        (
            Slot("series.repeat", N_("Repeats"), N_("daily, weekly, monthly, yearly")),
            Slot("series.interval", N_("Every … (interval)")),
            Slot("series.until", N_("Until")),
            Slot("series.exceptions", N_("Except on")),
        ),
    ),
    (
        N_("Flags"),
        (
            Slot("fields.abgesagt", N_("Cancelled")),
            Slot("fields.private", N_("Private")),
            Slot("fields.allowTransitTime", N_("Travel time allowed")),
            Slot("fields.transitTimePre", N_("Travel time before")),
            Slot("fields.transitTimePost", N_("Travel time after")),
        ),
    ),
)
SLOTS = {slot.path: slot for _group, slots in GROUPS for slot in slots}
KINDS = ("", "column", "value", "template")
MANAGED = ("column", "value", "template", "map", "lookup", "split")


# What a look-up does, in the office's words (the option's value stays the mapping's key).
LOOKUP_WORDS: Mapping[str, str] = {
    "user": N_("onOffice users, by user name, name or e-mail"),
    "group": N_("onOffice groups and teams, by name"),
    "resource": N_("onOffice resources, by name"),
    "address": N_("onOffice contacts, by e-mail or customer number"),
    "estate": N_("onOffice estates, by their number"),
}
# Slots whose values the form offers to match, one by one, against what onOffice takes.
MATCHED: Mapping[str, str] = {
    "fields.art": "types",
    "fields.erinnerung": "reminders",
    "fields.subscribers.users": "users",
    "fields.ressources": "resources",
    "fields.status": "statuses",
    "fields.reminderTypes": "channels",
    "series.repeat": "repeats",
}
MAX_MATCHED = 40  # distinct values offered per column; more are left to the map's text


def lookups(path: str) -> list[str]:
    """The look-ups a slot can take ("estate", "user", ...)."""
    if path == "location":  # at an estate or a contact's address: found by its number or e-mail
        return ["address", "estate"]
    name = path.removeprefix("fields.")
    return sorted(k for k in LOOKUP_KINDS if k in LOOKUP_TARGETS.get(name, set()))


def location_types() -> tuple[str, ...]:
    return tuple(contract.LOCATION_KEYS)


def parse(text: str) -> dict[str, Any]:
    """The document as a dict ({} when it is not one: the text view shows why)."""
    return readable(text) or {}


def readable(text: str) -> dict[str, Any] | None:
    """The document as a dict, or None when it is not one (then the form must not replace
    it: the user's text would be lost)."""
    if not text.strip():
        return {}
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    return raw if isinstance(raw, dict) else None


# --- reading slots -----------------------------------------------------------------------------
def _get(raw: dict[str, Any], path: str) -> Any:
    head, _dot, rest = path.partition(".")
    value = raw.get(head)
    if head == "start":
        if not (isinstance(value, dict) and {"date", "time"} & set(value)):
            return None if rest else value
        return value.get(rest) if rest else None
    if head == "end":
        if not (isinstance(value, dict) and {"date", "time", "duration", "minutes"} & set(value)):
            return None if rest else value
        return value.get(rest or "column")
    if head == "location":
        return {k: v for k, v in value.items() if k != "type"} if isinstance(value, dict) else None
    if head == "fields":
        return (value or {}).get(rest) if isinstance(value, dict) else None
    if head == "series":
        return value.get(rest) if isinstance(value, dict) else None
    return value


FORM_KEYS = ("kind", "column", "value", "template", "map", "named_map", "lookup", "split")


def slot_values(spec: Any) -> dict[str, str]:
    """One spec as the form shows it (every key present; "" where unset)."""
    out = dict.fromkeys(FORM_KEYS, "")
    if spec is None or spec == {}:
        return out
    if isinstance(spec, str | list):
        first = spec if isinstance(spec, str) else str(spec[0]) if spec else ""
        return {**out, "kind": "column", "column": first}
    if not isinstance(spec, dict):
        return {**out, "kind": "value", "value": _text(spec)}
    out["kind"] = next((k for k in ("column", "template", "value") if k in spec), "value")
    column = spec.get("column")
    out["column"] = str(column[0] if isinstance(column, list) and column else column or "")
    out["value"] = "" if spec.get("value") is None else _text(spec["value"])
    if out["kind"] == "value" and "value" not in spec and "default" in spec:
        out["value"] = _text(spec["default"])
    out["template"] = str(spec.get("template") or "")
    map_ = spec.get("map")
    if isinstance(map_, dict):
        out["map"] = "\n".join(f"{k} = {_text(v)}" for k, v in map_.items())
    out["named_map"] = map_ if isinstance(map_, str) else ""
    lookup = spec.get("lookup")
    out["lookup"] = str(lookup.get("kind", "") if isinstance(lookup, dict) else lookup or "")
    split = spec.get("split")
    out["split"] = str(split[0] if isinstance(split, list) and split else split or "")
    return out


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def form_values(raw: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Every slot of the document as the form shows it; plus end minutes and location type."""
    values = {path: slot_values(_get(raw, path)) for path in SLOTS}
    end = raw.get("end")
    minutes = end.get("minutes") if isinstance(end, dict) else None
    values["end"]["minutes"] = "" if minutes is None else _text(minutes)
    location = raw.get("location")
    values["location"]["type"] = str(location.get("type", "")) if isinstance(location, dict) else ""
    return values


# --- writing slots -----------------------------------------------------------------------------
def _spec(form: Mapping[str, str], path: str, old: Any) -> Any:
    """The spec a slot's form values describe (None: the slot is not used)."""
    kind = form.get(f"{path}:kind", "")
    if kind not in KINDS or not kind:
        return None
    kept = {k: v for k, v in old.items() if k not in MANAGED} if isinstance(old, dict) else {}
    spec: dict[str, Any] = {}
    if kind == "column":
        column = form.get(f"{path}:column", "").strip()
        if not column:
            return None
        alternatives = old.get("column") if isinstance(old, dict) else old
        keep_list = isinstance(alternatives, list) and alternatives and alternatives[0] == column
        spec["column"] = alternatives if keep_list else column
    elif kind == "template":
        spec["template"] = form.get(f"{path}:template", "")
    else:
        kept.pop("default", None)
        spec["value"] = _scalar(form.get(f"{path}:value", ""))
    named = old.get("map") if isinstance(old, dict) and isinstance(old.get("map"), str) else None
    pairs = pairs_of(form.get(f"{path}:map", ""))
    pairs.update(_matched(form, path, pairs))
    if pairs:
        spec["map"] = pairs
    elif named:
        spec["map"] = named
    if form.get(f"{path}:split", "").strip():
        spec["split"] = form[f"{path}:split"].strip()
    lookup = form.get(f"{path}:lookup", "")
    if lookup and lookup in lookups(path):
        old_lookup = old.get("lookup") if isinstance(old, dict) else None
        same = isinstance(old_lookup, dict) and old_lookup.get("kind") == lookup
        spec["lookup"] = old_lookup if same else lookup
    spec.update(kept)
    if list(spec) == ["column"] and isinstance(spec["column"], str):
        return spec["column"]  # the short form: `note: Bemerkung`
    return spec


_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?")


def _scalar(text: str) -> Any:
    """A constant as typed: text, except plain numbers (30, 1.5) and true/false. Never read
    as YAML: `18:00`, `0123` and `No` stay what the user typed."""
    text = text.strip()
    if text in ("true", "false"):
        return text == "true"
    if _NUMBER.fullmatch(text):
        return float(text) if "." in text else int(text)
    return text


def _matched(form: Mapping[str, str], path: str, pairs: Mapping[str, Any]) -> dict[str, Any]:
    """The values matched one by one in the form. A select the user changed wins over the
    map's text; one left as shown keeps what the text says. A map passes on no value it lacks,
    so once one value is matched, every value offered goes into it (as written, where not)."""
    out: dict[str, Any] = {}
    for key, written in form.items():
        if not key.startswith(f"{path}:from:"):
            continue
        n = key.rsplit(":", 1)[1]
        chosen = form.get(f"{path}:match:{n}", "").strip()
        changed = chosen != form.get(f"{path}:shown:{n}", "").strip()
        if changed:
            out[written] = _scalar(chosen) if chosen else written
        else:
            out[written] = pairs.get(written, _scalar(chosen) if chosen else written)
    if not pairs and all(v == k for k, v in out.items()):
        return {}
    return out


def pairs_of(text: str) -> dict[str, Any]:
    """The map's text (``in the file = in onOffice`` per line) as pairs."""
    pairs: dict[str, Any] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip():
            pairs[key.strip()] = _scalar(value.strip())
    return pairs


def apply_form(raw: dict[str, Any], form: Mapping[str, str]) -> dict[str, Any]:
    """A copy of the document with the form's slots written into it (other keys kept)."""
    doc = dict(raw)
    specs = {path: _spec(form, path, _get(raw, path)) for path in SLOTS}
    # time: one start column, or a date (and a time)
    if specs["start.date"] is not None:
        doc["start"] = {"date": specs["start.date"]}
        if specs["start.time"] is not None:
            doc["start"]["time"] = specs["start.time"]
    elif specs["start"] is not None:
        doc["start"] = specs["start"]
    else:
        doc.pop("start", None)
    end: dict[str, Any] = {
        k: specs[f"end.{k}"] for k in ("date", "time", "duration") if specs[f"end.{k}"] is not None
    }
    minutes = _scalar(form.get("end:minutes", ""))
    if isinstance(minutes, int | float) and not isinstance(minutes, bool):
        end["minutes"] = minutes
    if end:
        if specs["end"] is not None:
            end = {"column": specs["end"], **end}
        doc["end"] = end
    elif specs["end"] is not None:
        doc["end"] = specs["end"]
    else:
        doc.pop("end", None)
    _put(doc, "all_day", specs["all_day"])
    fields = dict(doc.get("fields") or {})
    for path, spec in specs.items():
        if path.startswith("fields."):
            name = path.removeprefix("fields.")
            if spec is None:
                fields.pop(name, None)
            else:
                fields[name] = spec
    _put(doc, "fields", fields or None)
    location_type = form.get("location:type", "")
    location = specs["location"]
    if location_type and location_type in location_types():
        rest = (
            location
            if isinstance(location, dict)
            else {}
            if location is None
            else {"column": location}
        )
        doc["location"] = {"type": location_type, **rest}
    else:
        doc.pop("location", None)
    series = {
        k: specs[f"series.{k}"]
        for k in ("repeat", "interval", "until", "exceptions")
        if specs[f"series.{k}"] is not None
    }
    _put(doc, "series", series or None)
    return _ordered(doc)


def _put(doc: dict[str, Any], key: str, value: Any) -> None:
    if value is None:
        doc.pop(key, None)
    else:
        doc[key] = value


ORDER = (
    "version", "description", "source", "timezone", "formats", "maps", "start", "end",
    "all_day", "fields", "location", "series", "key", "options",
)  # fmt: skip


def _ordered(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: doc[k] for k in (*ORDER, *doc) if k in doc}


def dump(doc: dict[str, Any]) -> str:
    """The document as YAML, in the order of ``mappings/README.md``."""
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100)
