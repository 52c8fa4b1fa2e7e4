"""Per-step deadlines of a call on the Chinese working calendar, derived from its events.

A step (an action that must happen) is due `working_days` working days after the latest of its
anchor events, at the end of that day in China's time zone; for an urgent call the steps the
profile lists as `urgent_immediate` are due the moment the step before them was done.  A step is
resolved by its own action, or by any other action that leaves the same state (签收 or 退回 both
end the wait for the department)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from ..workdays import add_working_days
from .lifecycle import Flow, StepDeadlineDef

CHINA = ZoneInfo("Asia/Shanghai")
Status = Literal["open", "met", "late", "overdue"]


@dataclass(frozen=True)
class Ev:
    action: str
    at: datetime


@dataclass
class StepDue:
    step: str
    what: str
    working_days: int | None  # None: due at once (urgent)
    anchor_at: datetime
    due_at: datetime
    done_at: datetime | None
    status: Status
    calendar_known: bool

    def as_dict(self) -> dict[str, Any]:
        return {"step": self.step, "what": self.what, "working_days": self.working_days,
                "anchor_at": self.anchor_at.isoformat(), "due_at": self.due_at.isoformat(),
                "done_at": self.done_at.isoformat() if self.done_at else None, "status": self.status,
                "calendar_known": self.calendar_known}


def end_of_working_day(start: datetime, n: int) -> tuple[datetime, bool]:
    day, known = add_working_days(start.astimezone(CHINA).date(), n)
    # the last instant of the due day: a step done any time that day is on time
    return datetime.combine(day, time(23, 59, 59), tzinfo=CHINA), known


def _leading_actions(flow: Flow, step: str) -> list[str]:
    """The actions after which `step` becomes possible (they lead into its from-states)."""
    t = next((t for t in flow.transitions if t.action == step), None)
    if t is None:
        return []
    out = [x.action for x in flow.transitions if x.to in t.from_]
    if flow.initial in t.from_:
        out.append(flow.file.action)
    return out


def _resolvers(flow: Flow, step: str) -> set[str]:
    if step == flow.file.action:
        return {step}
    t = next((t for t in flow.transitions if t.action == step), None)
    if t is None:
        return {step}
    return {x.action for x in flow.transitions if set(x.from_) & set(t.from_) and x.to is not None} | {step}


def _latest(events: list[Ev], actions: list[str], found_at: datetime | None) -> tuple[int, datetime] | None:
    """(index, time) of the latest anchor event; `found` anchors at when the matter was found."""
    for i in range(len(events) - 1, -1, -1):
        if events[i].action in actions:
            return i, events[i].at
    if "found" in actions and found_at is not None:
        return -1, found_at
    return None


def _reachable(flow: Flow, state: str, blocked: set[str]) -> set[str]:
    """Actions reachable from `state` without taking a blocked action (one that would restart the
    step's clock): a step not reachable that way is waiting for a new anchor, not overdue."""
    seen_states, actions, todo = {state}, set(), [state]
    while todo:
        cur = todo.pop()
        for t in flow.transitions:
            if cur in t.from_ and t.action not in blocked:
                actions.add(t.action)
                if t.to and t.to not in seen_states:
                    seen_states.add(t.to)
                    todo.append(t.to)
    return actions


def step_deadlines(flow: Flow, defs: list[StepDeadlineDef], events: list[Ev], *, state: str, urgent: bool,
                   urgent_immediate: list[str], complexity: str | None, found_at: datetime | None,
                   now: datetime) -> list[StepDue]:
    plan: list[tuple[str, str, list[str], int | None]] = []
    for d in defs:
        if d.complexity and d.complexity != complexity:
            continue
        if urgent and d.step in urgent_immediate:
            continue  # replaced by the at-once deadline below
        plan.append((d.step, d.what, d.anchor, d.working_days))
    if urgent:
        for step in urgent_immediate:
            label = next((t.label for t in flow.transitions if t.action == step), step)
            plan.append((step, f"紧急呼叫:立即{label}", _leading_actions(flow, step), None))
    out: list[StepDue] = []
    for step, what, anchors, n in plan:
        anchor = _latest(events, anchors, found_at)
        if anchor is None:
            continue  # the step's clock has not started
        idx, anchor_at = anchor
        if n is None:
            due, known = anchor_at, True
        else:
            due, known = end_of_working_day(anchor_at, n)
        resolvers = _resolvers(flow, step)
        done = next((e.at for e in events[idx + 1 if idx >= 0 else 0:] if e.action in resolvers), None)
        if done is not None:
            status: Status = "met" if done <= due else "late"
        elif flow.states[state].final or not (resolvers & _reachable(flow, state, set(anchors))):
            continue  # e.g. returned before feedback: the feedback clock restarts at the next dispatch
        else:
            status = "overdue" if now > due else "open"
        out.append(StepDue(step, what, n, anchor_at, due, done, status, known))
    out.sort(key=lambda s: s.due_at)
    return out


def escalation_due(due_at: datetime, after_working_days: int) -> datetime:
    """When a still-undone step is escalated to the second 督办 level."""
    day, _ = add_working_days(due_at.astimezone(CHINA).date(), after_working_days)
    return datetime.combine(day, time(23, 59, 59), tzinfo=CHINA) if after_working_days else due_at + timedelta(0)
