"""Replay a participant's ledger through the consent rules, and check the projection.

The hash chain shows that events were not changed after they were written; it cannot
show that they obey the rules, because whoever can write the database can also
write a well-chained event that no conversation would produce. This module replays
the events, purpose by purpose, and names every event the rules forbid:

- each purpose starts at ``none``; an event's ``from_status`` is the purpose's
  previous ``to_status``; its ``to_status`` is what the transition table gives for
  its action, and the table records that action at all;
- a yes (an event that goes to ``pending``) carries its window to confirm, and a
  ``confirm`` falls inside the window of the yes it confirms. Events written before
  the window was recorded fall back to the study's current cooling-off rules;
- the projection (consent_state) is what the last event of each purpose left, and so
  is the participant's permitted purposes, which the consent check reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from consentbot.domain import permitted
from consentbot.domain.cooling_off import CoolingOff
from consentbot.domain.findings import Finding, Severity
from consentbot.domain.status import ConsentStatus
from consentbot.domain.transitions import ConsentAction, is_recorded, next_status


@dataclass(frozen=True, slots=True)
class ReplayEvent:
    """The fields of a ledger event that the rules look at."""

    id: int | None
    seq: int
    purpose_id: str
    action: str
    from_status: str
    to_status: str
    withdrawal_level: str | None
    occurred_at: datetime
    confirm_from: datetime | None = None
    confirm_by: datetime | None = None


@dataclass(frozen=True, slots=True)
class Projection:
    """One purpose's row of consent_state, as the replay compares it."""

    status: str
    since: datetime
    pending_since: datetime | None
    withdrawal_level: str | None


@dataclass(frozen=True, slots=True)
class _Window:
    """When the yes a purpose is pending on may be confirmed (None: cannot be known)."""

    yes_seq: int
    opens: datetime | None
    closes: datetime | None


def replay(
    events: Sequence[ReplayEvent],
    projection: Mapping[str, Projection],
    fallback: CoolingOff | None,
    *,
    study: str,
    permitted_purposes: str | None = None,
) -> list[Finding]:
    """Every rule ``events`` (one participant's, in seq order) break, then projection drift.

    ``fallback`` is the study's current cooling-off, used for a yes written before
    windows were recorded; None when the study is not in the loaded content, which
    leaves such a confirm unchecked, with a warning naming ``study``. ``permitted_purposes`` is
    the participant row's permitted purposes (domain/permitted.py), checked when given.
    """
    replayer = _Replayer(fallback, study)
    for event in events:
        replayer.step(event)
    findings = replayer.findings + _projection_drift(replayer.last, projection)
    if permitted_purposes is not None:
        findings += _permitted_drift(replayer.last, permitted_purposes)
    return findings


def _permitted_drift(last: Mapping[str, ReplayEvent], stored: str) -> list[Finding]:
    # A pipeline's consent check answers from this text alone: a purpose added to it
    # by hand would let data be used without consent, though consent_state is right.
    expected = permitted.from_statuses({p: e.to_status for p, e in last.items()})
    if stored == expected:
        return []
    shown = ", ".join(sorted(permitted.decode(stored))) or "none"
    should = ", ".join(sorted(permitted.decode(expected))) or "none"
    return [
        Finding(
            Severity.FAULT,
            None,
            None,
            f"the consent check would permit {shown}, but the ledger permits {should}",
        )
    ]


class _Replayer:
    """Walks one participant's events, remembering each purpose's status and window."""

    def __init__(self, fallback: CoolingOff | None, study: str) -> None:
        self.fallback = fallback
        self.study = study
        self.findings: list[Finding] = []
        self.status: dict[str, ConsentStatus] = {}
        self.windows: dict[str, _Window] = {}
        self.last: dict[str, ReplayEvent] = {}
        self.windows_recorded = False

    def report(self, event: ReplayEvent, problem: str, severity: Severity = Severity.FAULT) -> None:
        self.findings.append(Finding(severity, event.seq, event.id, problem))

    def step(self, event: ReplayEvent) -> None:
        purpose = event.purpose_id
        previous = self.status.get(purpose, ConsentStatus.NONE)
        self.last[purpose] = event
        parsed = self._parse(event)
        if parsed is None:
            # Carry on from what the event claims, so one bad value is reported once.
            self.status[purpose] = _status_or(event.to_status, previous)
            self.windows.pop(purpose, None)
            return
        action, from_status, to_status = parsed
        if from_status is not previous:
            self.report(
                event,
                f"purpose {purpose!r} was {previous}, but the event starts from {from_status}: "
                "an event before it was changed or removed",
            )
        expected = next_status(from_status, action)
        if not is_recorded(from_status, action):
            self.report(event, f"{action} from {from_status} changes nothing and is never recorded")
        elif to_status is not expected:
            self.report(event, f"{action} from {from_status} leads to {expected}, not {to_status}")
        if action is ConsentAction.CONFIRM:
            self._check_confirm(event, self.windows.get(purpose))
        if to_status is ConsentStatus.PENDING:
            self._check_window(event)
            self.windows[purpose] = self._window(event)
        else:
            self.windows.pop(purpose, None)
        self.status[purpose] = to_status

    def _parse(
        self, event: ReplayEvent
    ) -> tuple[ConsentAction, ConsentStatus, ConsentStatus] | None:
        try:
            action = ConsentAction(event.action)
        except ValueError:
            self.report(event, f"unknown action {event.action!r}")
            return None
        try:
            return action, ConsentStatus(event.from_status), ConsentStatus(event.to_status)
        except ValueError:
            self.report(event, f"unknown status in {event.from_status!r} -> {event.to_status!r}")
            return None

    def _check_window(self, event: ReplayEvent) -> None:
        opens, closes = event.confirm_from, event.confirm_by
        if opens is None and closes is None:
            if self.windows_recorded:
                # Every yes written since windows were recorded carries one: a later
                # yes without it had its window removed.
                self.report(event, "a yes without its window to confirm, after yeses that had one")
            return
        self.windows_recorded = True
        if opens is None or closes is None:
            self.report(event, "a yes with only half of its window to confirm")
        elif not event.occurred_at <= opens <= closes:
            self.report(
                event,
                f"window to confirm out of order: yes at {_at(event.occurred_at)}, "
                f"confirm from {_at(opens)} until {_at(closes)}",
            )

    def _window(self, event: ReplayEvent) -> _Window:
        if event.confirm_from is not None or event.confirm_by is not None:
            return _Window(event.seq, event.confirm_from, event.confirm_by)
        if self.fallback is None:
            return _Window(event.seq, None, None)
        return _Window(
            event.seq,
            self.fallback.opens_at(event.occurred_at),
            self.fallback.expires_at(event.occurred_at),
        )

    def _check_confirm(self, event: ReplayEvent, window: _Window | None) -> None:
        if window is None:
            return  # nothing pending: the transition check has reported it
        at = event.occurred_at
        if window.opens is None and window.closes is None:
            self.report(
                event,
                f"cannot check when this confirm came: the yes (seq {window.yes_seq}) has no "
                f"recorded window and study {self.study!r} is not in the loaded content",
                Severity.WARNING,
            )
            return
        if window.opens is not None and at < window.opens:
            self.report(
                event,
                f"confirmed at {_at(at)}, before the time to think of the yes "
                f"(seq {window.yes_seq}) ended at {_at(window.opens)}",
            )
        if window.closes is not None and at >= window.closes:
            self.report(
                event,
                f"confirmed at {_at(at)}, after the yes (seq {window.yes_seq}) "
                f"lapsed at {_at(window.closes)}",
            )


def _status_or(value: str, default: ConsentStatus) -> ConsentStatus:
    try:
        return ConsentStatus(value)
    except ValueError:
        return default


def _projection_drift(
    last: Mapping[str, ReplayEvent], projection: Mapping[str, Projection]
) -> list[Finding]:
    findings: list[Finding] = []
    for purpose in sorted(set(last) | set(projection)):
        event = last.get(purpose)
        row = projection.get(purpose)
        if event is None:
            assert row is not None
            problem = f"is {row.status} but the ledger has no event for it"
        elif row is None:
            problem = f"is missing, but the ledger says {event.to_status}"
        else:
            expected = Projection(
                event.to_status,
                event.occurred_at,
                event.occurred_at if event.to_status == ConsentStatus.PENDING else None,
                event.withdrawal_level,
            )
            differences = [
                f"{name} is {_show(getattr(row, name))}, the ledger gives "
                f"{_show(getattr(expected, name))}"
                for name in ("status", "since", "pending_since", "withdrawal_level")
                if getattr(row, name) != getattr(expected, name)
            ]
            if not differences:
                continue
            problem = "; ".join(differences)
        findings.append(
            Finding(
                Severity.FAULT,
                None,
                None,
                f"current consent of purpose {purpose!r} does not match the ledger: {problem}",
            )
        )
    return findings


def _show(value: object) -> str:
    if isinstance(value, datetime):
        return _at(value)
    return "none" if value is None else str(value)


def _at(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")
