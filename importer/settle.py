"""Settling a create whose outcome is unknown: read the calendar back, never guess.

A request that may have been processed (read timeout, dropped connection, HTTP 5xx) is not
sent again blindly. The days of the appointment are read back (every user's, cancelled ones
included; :mod:`importer.readback` reads whichever call the server offers) and:

- an appointment whose every readable field equals the row's payload, modified after the row's
  intent was recorded and owned by no other row, is adopted;
- a look-alike (same start and subject) that cannot be verified leaves the row unknown, naming
  it: it may be this row's appointment or a person's, and neither may be doubled nor taken;
- only a complete read with nothing resembling the row proves it absent (then it is re-sent).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from . import contract
from .client import OnOfficeClient
from .readback import Who, days_of, read_period, resembles, same_content


@dataclass(frozen=True)
class Settled:
    """``appointment_id`` when found; ``absent`` when proven absent; neither: cannot tell."""

    appointment_id: int | None = None
    absent: bool = False
    candidates: tuple[str, ...] = field(default=())  # look-alikes that could not be verified
    reads: int = 0


def _since(intent_at: str | None) -> str | None:
    if not intent_at:
        return None
    moment = datetime.strptime(intent_at, contract.DATETIME_FORMAT).replace(tzinfo=UTC)
    margin = timedelta(seconds=contract.CLOCK_MARGIN_SECONDS)
    return (moment - margin).strftime(contract.DATETIME_FORMAT)


def find_created(
    client: OnOfficeClient, params: dict[str, Any], intent_at: str | None, claimed: set[int]
) -> Settled:
    """Read back; transport or API errors propagate (the caller keeps the row unknown)."""
    first, last = days_of([params])
    period = read_period(client, first, last, Who.of(params))
    since = _since(intent_at)
    mine, lookalikes = [], []
    for found in period.appointments:
        if found.series in claimed or not resembles(found, params):
            continue
        fresh = since is None or found.modified is None or found.modified >= since
        if fresh and isinstance(found.series, int) and same_content(found, params):
            mine.append(found.series)
        else:
            lookalikes.append(str(found.id))
    if mine:
        return Settled(appointment_id=min(mine), reads=period.reads)
    if lookalikes:
        return Settled(candidates=tuple(sorted(set(lookalikes))), reads=period.reads)
    return Settled(absent=period.complete, reads=period.reads)
