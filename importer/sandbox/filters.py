"""The onOffice filter syntax (§5.3) and list paging (§6), evaluated over plain dicts."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from . import spec
from .calendar import Refusal

FieldGetter = Callable[[dict[str, Any], str], Any]


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _compare(left: Any, right: Any) -> int:
    """Numeric when both sides are numeric, else case-insensitive text (assumption, §5.3)."""
    ln, rn = _number(left), _number(right)
    if ln is not None and rn is not None:
        return (ln > rn) - (ln < rn)
    ls, rs = str(left).casefold(), str(right).casefold()
    return (ls > rs) - (ls < rs)


def _like(value: Any, pattern: Any) -> bool:
    regex = ".*".join(re.escape(part) for part in str(pattern).split("%"))
    return re.fullmatch(regex, str(value), re.IGNORECASE | re.DOTALL) is not None


def _one(value: Any, op: str, operand: Any) -> bool:
    # A multi-valued field (several e-mails) matches when any of its values does.
    if isinstance(value, list):
        if op in ("!=", "<>", "not like", "not in"):
            return all(_one(v, op, operand) for v in value)
        return any(_one(v, op, operand) for v in value)
    if op in ("is", "="):
        return _compare(value, operand) == 0
    if op in ("!=", "<>"):
        return _compare(value, operand) != 0
    if op in (">", "<", ">=", "<="):
        c = _compare(value, operand)
        return {">": c > 0, "<": c < 0, ">=": c >= 0, "<=": c <= 0}[op]
    if op == "like":
        return _like(value, operand)
    if op == "not like":
        return not _like(value, operand)
    if op in ("in", "not in"):
        if not isinstance(operand, list):
            raise Refusal(255, f'Invalid value for operator "{op}": an array is needed')
        found = any(_compare(value, o) == 0 for o in operand)
        return found if op == "in" else not found
    if op == "between":
        if not isinstance(operand, list) or len(operand) != 2:
            raise Refusal(255, 'Invalid value for operator "between": two values are needed')
        return _compare(value, operand[0]) >= 0 and _compare(value, operand[1]) <= 0
    raise Refusal(142, f'Unknown operator "{op}"')


def compile_filter(
    wanted: Any, fields: Iterable[str]
) -> Callable[[dict[str, Any], FieldGetter], bool]:
    """Check a filter object and return a predicate; every expression is ANDed."""
    if wanted in (None, [], {}):
        return lambda record, get: True
    if not isinstance(wanted, dict):
        raise Refusal(255, 'Invalid value for parameter "filter"')
    known = set(fields)
    expressions: list[tuple[str, str, Any]] = []
    for name, conditions in wanted.items():
        if name not in known:
            raise Refusal(75, f'Unknown field "{name}"')
        if not isinstance(conditions, list):
            conditions = [conditions]
        for cond in conditions:
            if not isinstance(cond, dict) or "op" not in cond:
                raise Refusal(255, f'Invalid filter for field "{name}"')
            op = str(cond["op"]).lower()
            if op not in spec.OPERATORS:
                raise Refusal(142, f'Unknown operator "{cond["op"]}"')
            expressions.append((name, op, cond.get("val")))

    def predicate(record: dict[str, Any], get: FieldGetter) -> bool:
        return all(_one(get(record, name), op, val) for name, op, val in expressions)

    return predicate


def page(records: Sequence[Any], parameters: dict[str, Any]) -> tuple[list[Any], int]:
    """Apply listlimit (default 20, capped at 500) and listoffset; return the page and total."""
    try:
        limit = int(parameters.get("listlimit", spec.DEFAULT_LISTLIMIT))
        offset = int(parameters.get("listoffset", 0))
    except (TypeError, ValueError, OverflowError):  # OverflowError: Infinity
        raise Refusal(255, 'Invalid value for parameter "listlimit"/"listoffset"') from None
    limit = max(0, min(limit, spec.MAX_LISTLIMIT))
    offset = max(0, offset)
    return list(records[offset : offset + limit]), len(records)
