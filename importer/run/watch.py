"""What changes in onOffice while a run sends: another run of the same list, a row created or an
appointment changed elsewhere.

A run asks onOffice for every appointment last edited since it last looked (`read calendar` by
`modifiedstart`, §5.2: one action whatever the rows' days, so its cost follows what changed,
not the rows or the size of the calendar): before each of its first batches, then every few
seconds. Appointments stamped by another run of the same list mean that run is writing too.

Two runs of one list take turns. The run that wrote the list first (by the server's `modified`
of its earliest write, which both runs read alike, so both reach the same answer; the run id
decides a tie) writes on; the other waits while that run writes, and goes on when it has
written nothing for a while (it ended, or died). The rows the other run created are then found
by their stamps and not sent twice. A run that starts while another writes the list sees that
run's writes in its first look (before its first batch), and waits from the start; a run that
has seen another write the list goes on looking before every batch while that one writes.

Two runs that start within one batch of each other can both send a row before either sees the
other, and without read calendar neither can see the other coming. So every row a run creates
is checked once more after its create: a later look (or, where the server cannot be asked what
changed, a look for the row's reference) that shows the run's own appointment shows any twin
created before it too. Of two, the one with the lower id stays: ids grow with the order of
creates (``contract.IDS_GROW_WITH_CREATES``), so the run that holds the higher id created it
later and surely sees the other; it deletes its own and takes the other's (:meth:`twins`).

A server that ignores the window of a read by `modified` (it answers older appointments) or
shows more edits than :data:`MAX_LOOK_READS` pages (more by the run's own rows, :attr:`cap`)
is not asked so again: the run looks for its next rows by their references instead and says so
(:attr:`notice`). A server that records `modified` more than :data:`OVERLAP` before a write
becomes visible hides it from one look.
``README.md`` ("Two runs at once") gives the measured figures.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final

from ..core import contract
from ..core.errors import ActionRefused
from ..core.i18n import _
from ..onoffice.client import OnOfficeClient
from ..onoffice.readback import Appointment, read_modified
from ..onoffice.reference import Stamp, found_in, read_stamp
from .state import State, collapse

OVERLAP: Final = timedelta(seconds=2)  # each look reaches this far back into the one before
# Seconds in which a run still writing surely writes again: a few of the server's round trips.
GRACE: Final = 0.5
GRACE_ROUND_TRIPS: Final = 4
NEVER: Final = "9999-12-31 23:59:59"
# Pages of 500 one look may read: more edits than that since the last look, or a server that
# ignores the window (every half of it fills the page again), and the run stops asking so.
MAX_LOOK_READS: Final = 8
# ... and this many more per page of rows the run itself has sent: its own writes are edits a
# look shows too. Halving a window of them costs about 4 reads a page where they are spread
# evenly (41 for the last look of 5,000 rows), more where they are not (4 fell short for one
# of 20,000). A last look over a large import ran past the 8 and fell back to a read per row
# (1.99 API actions per row).
READS_PER_PAGE_SENT: Final = 8


@dataclass
class Watch:
    """The looks of one run (see the module's doc)."""

    client: OnOfficeClient
    list_tag: str
    run: str
    since: datetime  # server time (UTC) from which on changes are new to this run
    ended: set[str] = field(default_factory=set)  # runs known to be over (this ledger's)
    seen: dict[str, float] = field(default_factory=dict)  # other run -> when last seen writing
    first: dict[str, str] = field(default_factory=dict)  # run -> `modified` of its first write
    # (appointment, modified) of the list as already read: a write is new when it is not here
    known: set[tuple[int, str]] = field(default_factory=set)
    reads: int = 0
    sent: int = 0  # rows this run has sent so far (their writes are edits a look shows)
    supported: bool = True  # the server reads by `modified` (it has read calendar)
    recent: bool = False  # another run had written the list shortly before the first read
    began: float = 0.0  # time.monotonic() of the first read
    notice: str | None = None  # why the server is no longer asked what changed, for the run
    # every appointment of the list a look showed, and per reference the lowest-id one: what
    # a create of this run is checked against (:meth:`twins`)
    shown: set[int] = field(default_factory=set)
    lowest: dict[str, Appointment] = field(default_factory=dict)
    # the same for cancelled ones (a row the file has cancelled is created cancelled): those
    # shown, and per reference the lowest-id one written since this run began
    cancelled: set[int] = field(default_factory=set)
    lowest_cancelled: dict[str, Appointment] = field(default_factory=dict)
    opened: float = field(init=False)  # server time (Unix seconds) of `since` at the start

    def __post_init__(self) -> None:
        self.opened = self.since.replace(tzinfo=UTC).timestamp()

    def settle_first(self) -> None:
        """Before the first batch, where another run wrote the list lately: give it the time
        to write again (:data:`GRACE`, longer for a slow server), so that the first look tells
        a run still writing from one that has ended."""
        if self.recent:
            grace = max(GRACE, GRACE_ROUND_TRIPS * self.client.round_trip)
            time.sleep(max(0.0, self.began + grace - time.monotonic()))

    def others(self, quiet_after: float) -> bool:
        """Another run wrote the list lately (given way to or not): keep looking, so that the
        rows it created are not sent again."""
        now = time.monotonic()
        return any(now - last <= quiet_after for last in self.seen.values())

    @classmethod
    def of(
        cls, client: OnOfficeClient, state: State, run: str, ended: set[str] | None = None
    ) -> Watch:
        """The list as the run's first read found it: what was written by which run, and the
        earliest write of each run that wrote it lately. ``ended``: runs surely over (earlier
        runs of this computer's ledger, which one run at a time holds: a killed one's last
        write may land after this run began)."""
        watch = cls(client, state.list_tag, run, state.since - OVERLAP, ended=set(ended or ()))
        last: dict[str, str] = {}  # run -> its last write seen
        for p in state.priors:
            if p.found is None:
                continue
            watch.known.add((p.appointment_id, p.found.modified or ""))
            stamp = p.stamp
            if p.ours and stamp is not None and stamp.run in state.running:
                modified = p.found.modified or NEVER
                watch.first[stamp.run] = min(watch.first.get(stamp.run, NEVER), modified)
                # not mutated: only which runs wrote is read (`recent`), not when they last did
                last[stamp.run] = max(last.get(stamp.run, ""), modified)  # pragma: no mutate
        watch.recent = bool(set(last) - watch.ended)
        watch.began = time.monotonic()
        return watch

    def look(self) -> list[tuple[Appointment, Stamp]]:
        """Every stamped appointment edited since the last look (none where the server cannot
        say: then :attr:`supported` is False). API errors propagate."""
        if not self.supported:
            return []
        started = datetime.fromtimestamp(self.client.server_now(), UTC).replace(tzinfo=None)
        try:
            period = read_modified(
                self.client, self.since, started + timedelta(days=1), self.cap, now=started
            )
        except ActionRefused as exc:
            if exc.errorcode not in contract.UNKNOWN_ACTION_CODES:
                raise
            self.client.unsupported.add("read calendar")
            self.supported = False
            return []
        self.reads += period.reads
        if not self._answered_window(period.appointments, period.complete):
            return []
        self.since = started - OVERLAP
        out = []
        now = time.monotonic()
        for appointment in collapse(period.appointments).values():
            stamp = read_stamp(appointment.note)
            if stamp is None:
                continue
            out.append((appointment, stamp))
            if stamp.list_tag != self.list_tag:
                continue
            self.record([appointment])
            if not stamp.run:
                continue
            modified = appointment.modified or NEVER
            self.first[stamp.run] = min(self.first.get(stamp.run, NEVER), modified)
            write = (int(appointment.series), appointment.modified or "")
            if stamp.run not in (self.run, *self.ended) and write not in self.known:
                self.seen[stamp.run] = now  # another run wrote the list since we began
            self.known.add(write)
        return out

    @property
    def cap(self) -> int:
        """The reads one look may take (:data:`MAX_LOOK_READS`, more for the run's own rows)."""
        pages = -(-self.sent // contract.READ_PAGE_CAP)
        return MAX_LOOK_READS + READS_PER_PAGE_SENT * pages

    def _answered_window(self, appointments: list[Appointment], complete: bool) -> bool:
        """Whether the server answered the look as asked; if not (it ignores the window, or
        more than :data:`MAX_LOOK_READS` pages changed), it is not asked so again."""
        floor = self.since.strftime(contract.DATETIME_FORMAT)
        if any(a.modified and a.modified < floor for a in appointments):
            why = _(
                "onOffice does not read appointments by the time of their last edit (it answered "
                "older ones)"
            )
        elif not complete:
            why = _(
                "more appointments were edited in onOffice during this run than {n} reads show"
            ).format(n=self.cap)
        else:
            return True
        self.supported = False
        self.notice = _(
            "{why}: this run looked for each of its next rows by its reference before sending it"
        ).format(why=why)
        return False

    def record(self, appointments: Iterable[Appointment]) -> None:
        """Appointments of the list as a look showed them (a look by reference too)."""
        for appointment in appointments:
            series = contract.record_id(appointment.series)
            if not isinstance(series, int):
                continue
            self.shown.add(series)
            lowest = self.lowest
            if appointment.cancelled:
                self.cancelled.add(series)
                # a cancelled twin is one written since this run began: an earlier run's
                # cancelled appointment (a removed row's, one a person cancelled) is none
                stamp = read_stamp(appointment.note)
                if stamp is None or stamp.at < self.opened:
                    continue
                lowest = self.lowest_cancelled
            for ref in found_in(appointment.note):
                low = lowest.get(ref)
                if low is None or int(low.series) > series:
                    lowest[ref] = appointment

    def twins(self, made: dict[str, int]) -> tuple[list[str], dict[str, Appointment]]:
        """Of this run's creates (reference -> appointment id), those a look has shown since
        (checked), and among them those another run created too, before: reference -> the
        other's appointment, which stays (see the module's doc)."""
        checked, twins = [], {}
        for ref, ours in made.items():
            if ours not in self.shown:
                continue
            checked.append(ref)
            low = (self.lowest_cancelled if ours in self.cancelled else self.lowest).get(ref)
            if low is not None and int(low.series) < ours:
                twins[ref] = low
        return checked, twins

    def saw(self, appointments: Iterable[Appointment], quiet_after: float) -> None:
        """Where the server cannot be asked what changed: the list's appointments a look by
        reference read. One another run wrote within ``quiet_after`` seconds (its stamp's
        server time), not seen so before, means that run is writing."""
        now, server = time.monotonic(), self.client.server_now()
        for appointment in appointments:
            stamp = read_stamp(appointment.note)
            if stamp is None or stamp.list_tag != self.list_tag or not stamp.run:
                continue
            write = (int(appointment.series), str(stamp.at))
            if stamp.run in (self.run, *self.ended) or write in self.known:
                continue
            self.known.add(write)
            if server - stamp.at <= quiet_after + OVERLAP.total_seconds():
                self.seen[stamp.run] = now

    def waiting_for(self, quiet_after: float) -> str | None:
        """Another run of the list this one gives way to while it writes, if any: the one that
        wrote the list first (where the server cannot be asked what changed, when each run
        wrote first cannot be seen alike by both: the lower run id goes on)."""
        now = time.monotonic()

        def order(run: str) -> tuple[str, str]:
            return (self.first.get(run, NEVER) if self.supported else "", run)

        for run, last in sorted(self.seen.items()):
            if now - last <= quiet_after and order(run) < order(self.run):
                return run
        return None
