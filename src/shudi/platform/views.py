"""Read models: a call as the pages and the API show it, lists with filters, the supervisor's
view and the dashboard's aggregates (SQL GROUP BY on the projection; indexed by county)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, func, or_, select

from .auth import Principal
from .deadlines import CHINA
from .models import Bucket, CallDetail, CallList, CallOut, Dashboard, DeadlineOut, EventOut
from .service import Platform, owned_by
from .store import CallRow, utc, utcnow

SUPERVISE_LABEL = "督办"


def _names(pf: Platform, county: str) -> tuple[Any, dict[str, str]]:
    ctx = pf.engine.county(county)
    return ctx.kb, {t.id: t.name for t in ctx.loaded.county.townships}


def allowed(pf: Platform, p: Principal, c: CallRow) -> list[str]:
    flow = pf.rules.flows[c.flow]
    out = []
    for t in flow.transitions:
        if c.state in t.from_ and p.role in t.roles and t.action not in out:
            if t.action == "reopen" and c.satisfied is not False:
                continue
            if t.once and t.action == "rate_township" and c.cooperation is not None:
                continue
            out.append(t.action)
    return out


def call_out(pf: Platform, p: Principal, c: CallRow, now: datetime, cls: type[CallOut] = CallOut, **extra: Any) -> CallOut:
    kb, towns = _names(pf, c.county)
    flow = pf.rules.flows[c.flow]
    return cls(
        id=c.id, county=c.county, flow=c.flow, flow_label=flow.label, township=c.township,
        township_name=towns.get(c.township, c.township), department=c.department,
        department_name=kb.department_name(c.department) if c.department else None, agency=c.agency,
        agency_name=kb.department_name(c.agency) if c.agency else None, item_id=c.item_id, item_name=c.item_name,
        text=c.text, urgency=c.urgency, complexity=c.complexity, state=c.state, state_label=flow.states[c.state].label,
        version=c.version, flagged=c.flagged, flag_reason=c.flag_reason, example=c.example, found_at=c.found_at,
        created_at=c.created_at, updated_at=c.updated_at, overdue=bool(c.next_due and c.next_due < now),
        next_due=c.next_due, supervision_level=c.supervision_level, speed=c.speed, effect=c.effect,
        satisfied=c.satisfied, cooperation=c.cooperation, on_time=c.on_time, allowed_actions=allowed(pf, p, c),
        detail=c.detail, **extra)


def detail(pf: Platform, p: Principal, call_id: int, now: datetime | None = None) -> CallDetail:
    from .deadlines import Ev

    now = now or utcnow()
    c = pf.get_row(p, call_id)
    history = pf.history(call_id)
    flow = pf.rules.flows[c.flow]
    labels = {t.action: t.label for t in flow.transitions} | {flow.file.action: flow.file.label, "supervise": SUPERVISE_LABEL}
    events = [EventOut(seq=e.seq, at=e.at, actor=e.actor, role=e.role, unit=e.unit, action=e.action,
                       action_label=labels.get(e.action, e.action), from_state=e.from_state, to_state=e.to_state,
                       reason=e.reason, data=e.data) for e in history]
    steps = pf.deadlines(c.flow, c, [Ev(e.action, e.at) for e in history], c.state, now)  # status as of `now`
    deadlines = [DeadlineOut(**s.as_dict()) for s in steps]
    return call_out(pf, p, c, now, CallDetail, events=events, deadlines=deadlines)  # type: ignore[return-value]


def list_calls(pf: Platform, p: Principal, *, county: str | None = None, township: str | None = None,
               department: str | None = None, state: str | None = None, flow: str | None = None,
               overdue: bool | None = None, flagged: bool | None = None, supervision: bool = False,
               limit: int = 100, offset: int = 0, now: datetime | None = None) -> CallList:
    now = now or utcnow()
    sql_now = utc(now)
    where = pf.scope(p)
    if county:
        where.append(CallRow.county == pf.county_id(p, county))
    if township:
        where.append(CallRow.township == township)
    if department:
        where.append(owned_by(pf.engine.county(county).kb, department))
    if state:
        where.append(CallRow.state == state)
    if flow:
        where.append(CallRow.flow == flow)
    if overdue is not None:
        where.append(CallRow.next_due < sql_now if overdue else or_(CallRow.next_due.is_(None), CallRow.next_due >= sql_now))
    if flagged is not None:
        where.append(CallRow.flagged.is_(flagged))
    if supervision:  # the supervisor's view: overdue, returned, or flagged
        where.append(or_(CallRow.next_due < sql_now, CallRow.state.in_(("returned", "escalated")), CallRow.flagged.is_(True),
                         CallRow.supervision_level > 0))
    rows, total = pf.store.calls(where, limit=limit, offset=offset)
    return CallList(total=total, calls=[call_out(pf, p, c, now) for c in rows])


def dashboard(pf: Platform, p: Principal, county: str, now: datetime | None = None) -> Dashboard:
    now = now or utcnow()
    cid = pf.county_id(p, county)
    kb, towns = _names(pf, cid)
    flow = pf.rules.flows["call"]
    where = [CallRow.county == cid, *pf.scope(p)]

    def group(col: Any, label: Any = None) -> list[Bucket]:
        cols = [col, func.count()] + ([func.max(label)] if label is not None else [])
        q = select(*cols).where(*where).group_by(col).order_by(func.count().desc())
        with pf.store.engine.connect() as conn:
            return [Bucket(key=str(r[0] or ""), label=_label(r), count=r[1]) for r in conn.execute(q)]

    def _label(r: Any) -> str:
        return str(r[2]) if len(r) > 2 and r[2] else str(r[0] or "未识别事项")

    by_matter = group(CallRow.item_id, CallRow.item_name)
    by_dept = [b.model_copy(update={"label": kb.department_name(b.key) if b.key else "未确定"}) for b in group(CallRow.department)]
    by_town = [b.model_copy(update={"label": towns.get(b.key, b.key)}) for b in group(CallRow.township)]
    by_month = sorted(group(CallRow.month), key=lambda b: b.key)
    states = {**{s: v.label for f in pf.rules.flows.values() for s, v in f.states.items()}, **{s: v.label for s, v in flow.states.items()}}
    by_state = [b.model_copy(update={"label": states.get(b.key, b.key)}) for b in group(CallRow.state)]
    one = func.count()
    q = select(
        one,
        func.sum(case((CallRow.on_time.is_(True), 1), else_=0)), func.count(CallRow.on_time),
        func.sum(case((CallRow.satisfied.is_(True), 1), else_=0)), func.count(CallRow.satisfied),
        func.sum(case((CallRow.next_due < utc(now), 1), else_=0)),
        func.sum(case((CallRow.flagged.is_(True), 1), else_=0)),
        func.sum(case((CallRow.state.in_(("returned", "escalated")), 1), else_=0)),
    ).where(*where)
    with pf.store.engine.connect() as conn:
        total, on_time, timed, sat, rated, overdue, flagged, returned = conn.execute(q).one()
    return Dashboard(county=cid, total=total, by_matter=by_matter[:12], by_department=by_dept, by_township=by_town,
                     by_month=by_month, by_state=by_state,
                     on_time_share=round(on_time / timed, 4) if timed else None,
                     satisfaction=round(sat / rated, 4) if rated else None,
                     overdue=int(overdue or 0), flagged=int(flagged or 0), returned=int(returned or 0))


def local(dt: datetime | None) -> str:
    return dt.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if dt else "—"


