"""Validated fields of one row -> the `parameters` of one calendar create action (§4).

Also the row's fingerprint: a hash of the normalised parameters, which is how a later run
recognises a row that was already created. The mapping is deliberately not part of it: the
payload already says everything the mapping decided, and an edited comment in the mapping file
must not make every row look new (and be created again).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ..core import contract


def parameters(fields: dict[str, Any]) -> dict[str, Any]:
    """Only what is set is sent; lists and ids as the API takes them."""
    data = {name: fields[name] for name in contract.DATA_FIELDS if fields.get(name) is not None}
    out: dict[str, Any] = {"data": data}
    for name in ("relatedAddressIds", "relatedEstateId", "reminderTypes", "location"):
        if fields.get(name) is not None:
            out[name] = fields[name]
    subscribers = {
        kind: fields[f"subscribers.{kind}"]
        for kind in ("users", "groups")
        if fields.get(f"subscribers.{kind}") is not None
    }
    if subscribers:
        out["subscribers"] = subscribers
    return out


_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _sorted(value: Any) -> Any:
    return sorted(value, key=str) if isinstance(value, list) else value


def canonical(params: dict[str, Any]) -> str:
    """One spelling per payload (as :func:`parameters` shapes it): sorted keys, and the lists
    whose order means nothing (ids, reminder types, resources) sorted."""
    spelled = dict(params)
    for key in ("relatedAddressIds", "reminderTypes"):
        if key in spelled:
            spelled[key] = _sorted(spelled[key])
    if "subscribers" in spelled:
        spelled["subscribers"] = {k: _sorted(v) for k, v in spelled["subscribers"].items()}
    if "ressources" in spelled.get("data", {}):
        spelled["data"] = {**spelled["data"], "ressources": _sorted(spelled["data"]["ressources"])}
    return _ENCODER.encode(spelled)


def fingerprint(params: dict[str, Any]) -> str:
    """A stable id of what one row would create."""
    return hashlib.sha256(canonical(params).encode()).hexdigest()[:32]


def modify_parameters(new: dict[str, Any]) -> dict[str, Any]:
    """The `modify` parameters that leave an appointment holding exactly ``new`` whatever it
    held before (§5.4), so that no computer needs to know what was written earlier: fields
    ``new`` does not set are cleared where the API has an empty value
    (``contract.CLEARED_VALUES``: a series ends being one with ``rp_flag`` false), the place
    becomes "not specified", the contacts are replaced as a whole, the estate unlinked and
    the participants emptied where ``new`` has none."""
    data = dict(new.get("data", {}))
    for name, empty in contract.CLEARED_VALUES.items():
        data.setdefault(name, empty)
    out = {**new, "data": data}
    if "location" not in new:
        out["location"] = dict(contract.CLEARED_LOCATION)
    out["relatedAddressIds"] = list(new.get("relatedAddressIds") or [])
    out["replaceAddressIds"] = True  # without it, modify adds contacts to the old ones
    if "relatedEstateId" not in new:
        out["relatedEstateId"] = 0
    subscribers = new.get("subscribers") or {}
    out["subscribers"] = {kind: list(subscribers.get(kind) or []) for kind in ("users", "groups")}
    return out


def kept_on_modify(before: dict[str, Any] | None, new: dict[str, Any]) -> list[str]:
    """The fields ``before`` (the parameters last written) set and ``new`` does not, which a
    modify cannot clear (``contract.NOT_CLEARABLE``): they stay in onOffice, and are said."""
    if not before:
        return []
    old, now = before.get("data") or {}, new.get("data") or {}
    return [
        name
        for name in contract.NOT_CLEARABLE
        if (old.get(name) or before.get(name))
        and not (now.get(name) or new.get(name))
        and (name != "rp_exception" or now.get("rp_flag"))  # no series: no dates left out
    ]
