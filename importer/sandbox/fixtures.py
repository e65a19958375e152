"""Seed data for the sandbox: users, groups, estates, addresses, resources, appointment types.

The format is documented in ``importer/sandbox/README.md``; ``agency.json`` beside this file is
the sample agency (also at ``samples/sandbox-fixtures.json``). JSON or YAML.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .dialects import Dialect, DialectError

DEFAULT_FIXTURES = Path(__file__).with_name("agency.json")


class FixtureError(ValueError):
    """A fixtures file that cannot be read or does not have the documented shape."""


@dataclass
class Fixtures:
    api_user: str = "api"
    users: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    estates: list[dict[str, Any]] = field(default_factory=list)
    addresses: list[dict[str, Any]] = field(default_factory=list)
    resources: dict[str, str] = field(default_factory=dict)
    appointment_types: dict[str, str] = field(default_factory=dict)
    # Whose appointments the API user may write: {"create": [user ids], "modify": [user ids]};
    # absent (or an action absent): everyone's.
    rights: dict[str, list[int]] | None = None
    # Optional fixed credentials; generated (and kept in the --db file) when absent.
    token: str | None = None
    secret: str | None = None
    # How the sandbox answers where the documentation is silent (importer/sandbox/dialects.py).
    dialect: Dialect = field(default_factory=Dialect)

    def __post_init__(self) -> None:
        if not any(u.get("username") == self.api_user for u in self.users):
            next_id = max((int(u["id"]) for u in self.users), default=0) + 1
            self.users.insert(
                0,
                {
                    "id": next_id,
                    "username": self.api_user,
                    "firstname": "API",
                    "lastname": "User",
                    "email": "",
                },
            )

    @property
    def api_user_record(self) -> dict[str, Any]:
        return next(u for u in self.users if u["username"] == self.api_user)

    def user(self, user_id: int) -> dict[str, Any] | None:
        return next((u for u in self.users if int(u["id"]) == user_id), None)

    def group(self, group_id: int) -> dict[str, Any] | None:
        return next((g for g in self.groups if int(g["id"]) == group_id), None)

    def estate(self, estate_id: int) -> dict[str, Any] | None:
        return next((e for e in self.estates if int(e["id"]) == estate_id), None)

    def address(self, address_id: int) -> dict[str, Any] | None:
        return next((a for a in self.addresses if int(a["id"]) == address_id), None)

    def may(self, action: str, user_id: int) -> bool:
        """Whether the API user may ``create`` or ``modify`` an appointment of this user."""
        if self.rights is None or action not in self.rights:
            return True
        return user_id in self.rights[action] or user_id == int(self.api_user_record["id"])


_KEYS = {
    "api_user",
    "users",
    "groups",
    "estates",
    "addresses",
    "resources",
    "appointment_types",
    "rights",
    "token",
    "secret",
    "dialect",
}


def load_fixtures(path: str | Path | None = None) -> Fixtures:
    """Read a fixtures file (JSON or YAML); the sample agency when ``path`` is None."""
    path = Path(path) if path is not None else DEFAULT_FIXTURES
    try:
        text = path.read_text(encoding="utf-8")
        raw = yaml.safe_load(text) if path.suffix in (".yaml", ".yml") else json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
        raise FixtureError(f"{path}: cannot read sandbox fixtures ({exc})") from None
    return fixtures_from_dict(raw, source=str(path))


def fixtures_from_dict(raw: Any, *, source: str = "fixtures") -> Fixtures:
    if not isinstance(raw, dict):
        raise FixtureError(f"{source}: fixtures must be an object with lists of records")
    unknown = sorted(k for k in raw if k not in _KEYS and not k.startswith("_"))
    if unknown:
        raise FixtureError(f"{source}: unknown fixture keys {unknown}; known: {sorted(_KEYS)}")
    for key in ("users", "groups", "estates", "addresses"):
        records = raw.get(key, [])
        if not isinstance(records, list) or not all(
            isinstance(r, dict) and isinstance(r.get("id"), int) for r in records
        ):
            raise FixtureError(f"{source}: {key} must be a list of objects with integer ids")
        ids = [r["id"] for r in records]
        if len(ids) != len(set(ids)):
            raise FixtureError(f"{source}: {key} has duplicate ids")
    for key in ("resources", "appointment_types"):
        if not isinstance(raw.get(key, {}), dict):
            raise FixtureError(f"{source}: {key} must map keys to labels")
    rights = raw.get("rights")
    if rights is not None and not (
        isinstance(rights, dict)
        and set(rights) <= {"create", "modify"}
        and all(isinstance(v, list) and all(isinstance(i, int) for i in v) for v in rights.values())
    ):
        raise FixtureError(f"{source}: rights must map create/modify to lists of user ids")
    values = {k: v for k, v in raw.items() if k in _KEYS}
    if "dialect" in values:
        try:
            dialect = values["dialect"]
            values["dialect"] = (
                Dialect.parse(dialect)
                if isinstance(dialect, str)
                else Dialect.from_mapping(dialect)
            )
        except (DialectError, TypeError, AttributeError) as exc:
            raise FixtureError(f"{source}: {exc}") from None
    return Fixtures(**values)
