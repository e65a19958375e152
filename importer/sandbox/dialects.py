"""Dialects: every point the documentation leaves open, as a switch of the sandbox.

The real onOffice answers one way on each of these points, and the documentation does not say
which. So that the importer is tested against every onOffice that could exist, each point is a
named option; the first value is the default (the documented or recommended reading, see
``shared/onoffice-api.md``), the others are the plausible alternatives.

    Dialect()                                   # the default reading
    Dialect.parse("ids=string,booleans=digits")  # flags, fixtures and Python take this text
    Dialect.parse("random:7")                   # one seeded alternative per point
    list(Dialect.alternatives())                # every single-point alternative once
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

# name -> (values, first is the default; what it means). Section numbers: the reference.
POINTS: dict[str, tuple[tuple[str, ...], str]] = {
    "ids": (
        ("int", "string"),
        "record ids (and documented-int nested ids) as ints or digit strings (§7)",
    ),
    "booleans": (("json", "digits"), 'read flags as JSON booleans or the strings "0"/"1" (§5.2)'),
    "empty_maps": (("list", "object"), "an empty key->label map as [] or {} (§7)"),
    "cntabsolute": (
        ("total", "page"),
        "cntabsolute is the total, or the number on this page (§3.1)",
    ),
    "auth_errors": (
        ("mixed", "top", "action"),
        "token errors at the top and HMAC/timestamp errors per action; all at the top;"
        " all per action (§3.2)",
    ),
    "bare_dates": (
        ("accept", "refuse"),
        "read calendar: a bare YYYY-MM-DD in datestart/dateend (§5.2)",
    ),
    "series": (
        ("once", "occurrences"),
        "a period read returns a series once, or once per occurrence as id@day (§5.2)",
    ),
    "read_status": (("present", "absent"), "`status` in read calendar records (§5.2)"),
    "list_users": (
        ("explicit", "members"),
        "appointmentList `users`: explicit only, or group members too (§5.1)",
    ),
    "list_times": (
        ("utc", "local"),
        "appointmentList times in UTC (+00:00) or local with its offset (§5.1)",
    ),
    "modified_lag": (
        ("none", "late"),
        "`modified` as written, or 90 s later (automation touches it) (§4)",
    ),
    "resource_values": (
        ("keys", "labels"),
        "ressources accepted as keys only, or as keys and labels (§4.1)",
    ),
    "art_values": (("keys", "labels"), "art accepted as key only, or as key and label (§4.1)"),
    "calendar_read": (
        ("available", "removed"),
        "deprecated read calendar answered, or unknown action (§5.2)",
    ),
    "http_status": (
        ("ok", "mirror"),
        "HTTP 200 for every JSON answer, or the top-level code (400, 500) as HTTP status (§1.1)",
    ),
    "code_with_97": (
        ("200", "400", "500"),
        "the top-level `code` that goes with errorcode 97 (§3.2)",
    ),
    "sorted_parameters": (
        ("any", "required"),
        "first-level parameters in any order, or refused unless sorted by key (§1.2)",
    ),
    "result_order": (
        ("request", "reversed"),
        "results in request order, or reversed (matched by identifier) (§1.4)",
    ),
    "failed_data": (
        ("empty", "absent", "null"),
        "a failed action's `data`: empty records, missing, or null (§3.1)",
    ),
    "delete_resource": (
        ("both", "calendar", "appointments"),
        "delete accepts `calendar` and `appointments`, or only one (§5.5)",
    ),
    "dateend": (
        ("inclusive", "exclusive"),
        "read calendar: the `dateend` day included, or the period ends at its start (§5.2)",
    ),
    "list_scope": (
        ("all", "own"),
        "appointmentList without userIds/groupIds: every appointment, or the API user's (§5.1)",
    ),
    "list_cancelled": (
        ("included", "hidden"),
        "appointmentList without isCancelled: cancelled ones included, or hidden (§5.1)",
    ),
    "conflicts": (
        ("available", "unconfigured"),
        "appointmentConflicts answered, or missing configuration (§5.6)",
    ),
    "fields": (
        ("permitted", "bare", "unconfigured", "absent"),
        "get fields for calendar: `art` with its permittedvalues, with `permittedvalues: null`,"
        " missing configuration, or `art` not among the fields (§6.6)",
    ),
    "rights_check": (
        ("available", "unconfigured"),
        "checkuserrecordsright answered, or missing configuration (§6.7)",
    ),
    # How an account shows its own appointments: the documentation gives examples only.
    "read_art": (
        ("object", "label", "key"),
        "read calendar `art` as {key: label}, or a plain string: its label, or its key;"
        " appointmentList `type` as {value, label}, or that plain string (§5.1, §5.2)",
    ),
    "read_users": (
        ("present", "omitted"),
        "`users` (explicit participants) in reads, or left out (§5.1, §5.2)",
    ),
    "read_groups": (("present", "omitted"), "`groups` in reads, or left out (§5.1, §5.2)"),
    "resource_keys": (
        ("present", "omitted"),
        "read calendar `ressourcesWithKeys` beside the labels, or only the labels (§5.2)",
    ),
    "read_modified": (
        ("present", "missing"),
        "`modified` in reads, or left out (§5.1, §5.2)",
    ),
    "modify_subscribers": (
        ("replace", "merge"),
        "modify `subscribers`: the set sent replaces the participants, or is added to them (§5.4)",
    ),
    "art_refusal": (
        ("252", "255"),
        'create/modify with an unknown `art`: 252 "Unknown value in select field", or 255'
        ' "Invalid value for parameter art" (§3.3, §4.1)',
    ),
    "modifiedstart": (
        ("honoured", "ignored"),
        "read calendar by modifiedstart: that window, or modifiedstart ignored (everything"
        " last edited up to modifiedend, oldest first) (§5.2)",
    ),
}
MODIFIED_LAG_SECONDS = 90


class DialectError(ValueError):
    """A dialect text or mapping names an unknown point or value."""


@dataclass(frozen=True)
class Dialect:
    ids: str = "int"
    booleans: str = "json"
    empty_maps: str = "list"
    cntabsolute: str = "total"
    auth_errors: str = "mixed"
    bare_dates: str = "accept"
    series: str = "once"
    read_status: str = "present"
    list_users: str = "explicit"
    list_times: str = "utc"
    modified_lag: str = "none"
    resource_values: str = "keys"
    art_values: str = "keys"
    calendar_read: str = "available"
    http_status: str = "ok"
    code_with_97: str = "200"
    sorted_parameters: str = "any"
    result_order: str = "request"
    failed_data: str = "empty"
    delete_resource: str = "both"
    dateend: str = "inclusive"
    list_scope: str = "all"
    list_cancelled: str = "included"
    conflicts: str = "available"
    fields: str = "permitted"
    rights_check: str = "available"
    read_art: str = "object"
    read_users: str = "present"
    read_groups: str = "present"
    resource_keys: str = "present"
    read_modified: str = "present"
    modify_subscribers: str = "replace"
    art_refusal: str = "252"
    modifiedstart: str = "honoured"

    def __post_init__(self) -> None:
        for f in fields(self):
            values = POINTS[f.name][0]
            if getattr(self, f.name) not in values:
                raise DialectError(
                    f"dialect {f.name}={getattr(self, f.name)!r}: choose one of {', '.join(values)}"
                )

    # --- construction ---------------------------------------------------------------------------
    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Dialect:
        unknown = sorted(set(values) - set(POINTS))
        if unknown:
            raise DialectError(f"unknown dialect points {unknown}; known: {sorted(POINTS)}")
        return cls(**{k: str(v) for k, v in values.items()})

    @classmethod
    def random(cls, seed: int) -> Dialect:
        rng = random.Random(seed)
        return cls(**{name: rng.choice(values) for name, (values, _) in POINTS.items()})

    @classmethod
    def parse(cls, text: str) -> Dialect:
        """``""`` (default), ``random:SEED``, or ``point=value,point=value``."""
        text = text.strip()
        if not text or text == "default":
            return cls()
        if text.startswith("random:"):
            try:
                return cls.random(int(text.removeprefix("random:")))
            except ValueError:
                raise DialectError(f"dialect {text!r}: random:SEED takes a whole number") from None
        pairs = {}
        for part in text.split(","):
            name, sep, value = part.partition("=")
            if not sep:
                raise DialectError(f"dialect {part!r}: write point=value")
            pairs[name.strip()] = value.strip()
        return cls.from_mapping(pairs)

    @classmethod
    def alternatives(cls) -> Iterator[Dialect]:
        """Every single-point alternative to the default, once each."""
        for name, (values, _) in POINTS.items():
            for value in values[1:]:
                yield replace(cls(), **{name: value})

    def changes(self) -> dict[str, str]:
        """The points where this dialect differs from the default."""
        default = Dialect()
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        }

    def __str__(self) -> str:
        return ",".join(f"{k}={v}" for k, v in self.changes().items()) or "default"

    # --- how answers are shaped -----------------------------------------------------------------
    def id(self, value: Any) -> Any:
        """A record id as this server writes ids that the documentation shows as ints."""
        if self.ids == "string" and isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value

    def flag(self, value: Any) -> Any:
        """A read flag documented as a JSON boolean."""
        return ("1" if value else "0") if self.booleans == "digits" else bool(value)

    def key_map(self, mapping: dict[str, Any]) -> Any:
        """A key -> label object; an empty one as [] or {}."""
        if mapping:
            return mapping
        return [] if self.empty_maps == "list" else {}
