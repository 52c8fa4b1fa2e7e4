"""The platform's operations: file a call / a task / a report, act on it, sweep for 督办, read.
Every operation takes `now` so that tests (and the example seed) run on a chosen clock; the HTTP
and CLI layers pass the real time."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime
from typing import Any, Iterator


from ..contract import PrecheckRequest
from ..delegation import DelegationRequest, check_delegation
from ..engine import Engine, NotFound
from ..kb import KBLoadError, UnknownCounty
from ..model import KnowledgeBase
from ..precheck import find_township, precheck
from ..settings import Settings
from .auth import Principal, load_tokens, parse_example_token, unauthorized
from .deadlines import CHINA, Ev, StepDue, escalation_due, step_deadlines
from .errors import PlatformError, bad
from .lifecycle import Flow, authorize_action, load_rules
from .models import CallIn, EventIn, ReportIn, TaskIn
from .store import CallRow, EventRow, PlatformStore, utc, utcnow

FEEDBACK = "feedback"


def owned_by(kb: KnowledgeBase, unit: str | None) -> Any:
    """The calls a department or a stationed agency owns.  An agency is only ever set together
    with its own department (assess checks it), so a department's calls are `department = u`
    and an agency's `agency = u`: one indexed column each, where `department = u OR agency = u`
    made SQLite read the whole county (bench/platform_bench.py)."""
    dept = kb.departments.get(unit or "")
    return CallRow.agency == unit if dept is not None and dept.parent else CallRow.department == unit


@contextmanager
def kb_errors() -> Iterator[None]:
    """The engine's lookup errors, in the platform's error shape."""
    try:
        yield
    except NotFound as exc:
        en, _, zh = str(exc).partition(" / ")
        raise PlatformError(404, "not_found", (zh or en).split("; known:")[0], en) from exc
    except UnknownCounty as exc:
        raise PlatformError(404, "unknown_county", f"未知的县(区):{exc}", str(exc)) from exc
    except KBLoadError as exc:
        raise PlatformError(503, "kb_invalid", "该县清单无法加载,请联系清单维护人员。", "This county's list cannot be loaded.") from exc
    except ValueError as exc:
        en, _, zh = str(exc).partition(" / ")
        raise bad("invalid_request", zh or en, en) from exc


def _need(value: str | None, code: str, zh: str, en: str) -> str:
    if value is None or not value.strip():
        raise bad(code, zh, en)
    return value.strip()


class Platform:
    def __init__(self, engine: Engine, store: PlatformStore | None = None, settings: Settings | None = None) -> None:
        self.engine = engine
        self.settings = settings or engine.settings  # the service's own, when it was given one
        self.store = store or PlatformStore(self.settings.store_url())
        self.rules = load_rules(engine.root / "rules" / "platform.yaml")
        from .assessment import load_policy

        self.scoring = load_policy(engine.root / "rules" / "assessment.yaml")
        self.tokens = load_tokens(self.settings)

    # -- who ------------------------------------------------------------------------------------
    def principal(self, token: str | None) -> Principal:
        tokens = self.tokens
        if token and token in tokens:
            return tokens[token]
        if token and not tokens:
            p = parse_example_token(token)
            if p is not None:
                with kb_errors():
                    if self.engine.county(p.county).loaded.county.example:
                        return p
        raise unauthorized()

    def county_id(self, p: Principal, county: str | None) -> str:
        cid = county or p.county or self.engine.default_county
        if p.county and cid != p.county:
            raise PlatformError(403, "wrong_county", "该令牌不属于这个县(区)。", f"token is bound to county {p.county}")
        with kb_errors():
            self.engine.county(cid)
        return cid

    def scope(self, p: Principal) -> list[Any]:
        """SQL conditions: a township sees its own calls, a department those it owns."""
        out: list[Any] = []
        if p.county:
            out.append(CallRow.county == p.county)
        if p.role == "township":
            out.append(CallRow.township == p.unit)
        elif p.role == "department":
            out.append(owned_by(self.engine.county(p.county).kb, p.unit))
        return out

    def visible(self, p: Principal, c: CallRow) -> bool:
        if p.county and c.county != p.county:
            return False
        if p.role == "township":
            return c.township == p.unit
        if p.role == "department":
            return p.unit in (c.department, c.agency)
        return True

    def _township(self, p: Principal, county: str, given: str | None) -> str:
        with kb_errors():
            tid = find_township(self.engine.county(county).loaded.county, given or p.unit or "")
        if p.role == "township" and tid != p.unit:
            raise PlatformError(403, "wrong_township", "只能以本乡镇(街道)的名义呼叫。", f"token is bound to township {p.unit}")
        return tid

    # -- policy ---------------------------------------------------------------------------------
    def profile(self, county: str):  # noqa: ANN201 - shudi.policy.ResponseProfile
        return self.engine.profiles[self.engine.county(county).loaded.county.policy.response_profile]

    def deadlines(self, flow_id: str, c: CallRow, events: list[Ev], state: str, now: datetime) -> list[StepDue]:
        flow = self.rules.flows[flow_id]
        if flow.deadlines is not None:
            defs, immediate = flow.deadlines, []
        else:
            pol = self.profile(c.county).platform
            defs, immediate = pol.deadlines, pol.urgent_immediate
        return step_deadlines(flow, defs, events, state=state, urgent=c.urgency == "urgent",  # type: ignore[arg-type]
                              urgent_immediate=immediate, complexity=c.complexity, found_at=c.found_at, now=now)

    def _projection(self, flow_id: str, c: CallRow, events: list[Ev], state: str, now: datetime) -> dict[str, Any]:
        steps = self.deadlines(flow_id, c, events, state, now)
        pending = [s.due_at for s in steps if s.status in ("open", "overdue")]
        feedback = [s for s in steps if s.step == FEEDBACK and s.status in ("met", "late")]
        return {"deadlines": [s.as_dict() for s in steps], "next_due": min(pending) if pending else None,
                "on_time": (feedback[-1].status == "met") if feedback else None}

    # -- filing ---------------------------------------------------------------------------------
    def _create(self, p: Principal, flow_id: str, fields: dict[str, Any], data: dict[str, Any], now: datetime,
                reason: str | None = None) -> int:
        flow = self.rules.flows[flow_id]
        authorize_action(flow.file, p.role)
        row = CallRow(**fields, flow=flow_id, state=flow.initial)
        local = now.astimezone(CHINA)
        proj = self._projection(flow_id, row, [Ev(flow.file.action, now)], flow.initial, now)
        call = {**fields, "flow": flow_id, "state": flow.initial, "created_at": now, "updated_at": now,
                "month": local.strftime("%Y-%m"), "supervision_level": 0, **proj}
        ev = {"at": now, "actor": p.name, "role": p.role, "unit": p.unit, "action": flow.file.action,
              "from_state": None, "to_state": flow.initial, "reason": reason, "data": data}
        return self.store.create(call, ev)

    def file_call(self, p: Principal, body: CallIn, now: datetime | None = None) -> int:
        now = now or utcnow()
        county = self.county_id(p, body.county)
        township = self._township(p, county, body.township)
        if not body.text and not body.item_id:
            raise bad("invalid_request", "请提供事件描述 text 或事项编号 item_id。", "Give either text or item_id.")
        with kb_errors():
            pre = precheck(self.engine, PrecheckRequest(text=body.text, item_id=body.item_id, township=township,
                                                        facts=body.facts, at=now.astimezone(CHINA), county=county,
                                                        complexity=body.complexity))
        flagged, flag_reason = False, None
        if pre.decision != "call":
            verdict = {"no_call": "不应呼叫", "study_first": "应先研究论证"}.get(pre.decision, pre.decision)
            if not (body.reason and body.reason.strip()):
                raise bad("reason_required", f"预检结论为{verdict};如仍要呼叫,请写明理由(将标记为可能的乱呼叫,供督查核实)。",
                          f"The pre-check says {pre.decision}: a written reason is required to call anyway.",
                          [{"principle": r.principle} for r in pre.reasons if r.rule.startswith(("call.", "no-call.", "study"))][-1:]
                          or [{"principle": pre.reasons[-1].principle}] if pre.reasons else None)
            reason = body.reason.strip()
            flagged, flag_reason = True, f"预检结论为{verdict},乡镇仍呼叫(可能属于乱呼叫),理由:{reason}"
        owners = [d.id for d in pre.call_departments]
        detail = {"decision": pre.decision, "mode": pre.mode, "list_owners": owners,
                  "reasons": [{"principle": r.principle, "why": r.why, "source": r.source} for r in pre.reasons],
                  "coordinate_agencies": [a.name for a in pre.coordinate_agencies]}
        fields = {"county": county, "township": township, "department": owners[0] if owners else None, "agency": None,
                  "item_id": pre.item.id if pre.item else None, "item_name": pre.item.name if pre.item else None,
                  "text": body.text or (pre.item.name if pre.item else ""), "urgency": body.urgency,
                  "complexity": body.complexity, "flagged": flagged, "flag_reason": flag_reason,
                  "example": p.example, "found_at": None, "detail": detail}
        return self._create(p, "call", fields, {"decision": pre.decision, "urgency": body.urgency}, now,
                            reason=body.reason)

    def file_task(self, p: Principal, body: TaskIn, now: datetime | None = None) -> int:
        """双向派单: a department hands a township a list matter — only what the admission rules admit."""
        now = now or utcnow()
        county = self.county_id(p, body.county)
        dept = body.department or p.unit
        if p.role == "department" and dept != p.unit:
            raise PlatformError(403, "wrong_department", "只能以本部门的名义派单。", f"token is bound to {p.unit}")
        township = self._township(Principal(name="", role="dispatcher"), county, body.township)
        if not body.task and not body.item_id:
            raise bad("invalid_request", "请提供交办事项描述 task 或事项编号 item_id。", "Give either task or item_id.")
        with kb_errors():
            res = check_delegation(self.engine, DelegationRequest(department=dept or "", township=township, task=body.task,
                                                                  item_id=body.item_id, approved=body.approved, county=county))
        if res.decision != "admitted":
            zh = ("该事项清单明确由本部门承担主体责任,不得下沉到乡镇(街道)。" if res.decision == "refused"
                  else "该事项交由乡镇(街道)办理须先履行准入程序。")
            raise PlatformError(422, f"delegation_{res.decision}", zh, f"delegation {res.decision}",
                                [{"principle": r.principle, "why": r.why} for r in res.reasons])
        fields = {"county": county, "township": township, "department": dept, "agency": None,
                  "item_id": res.item.id if res.item else None, "item_name": res.item.name if res.item else None,
                  "text": body.task or (res.item.name if res.item else ""), "urgency": "normal", "complexity": None,
                  "flagged": False, "flag_reason": None, "example": p.example, "found_at": None,
                  "detail": {"delegation": res.decision, "township_role": res.township_role,
                             "reasons": [{"principle": r.principle, "why": r.why, "source": r.source} for r in res.reasons]}}
        return self._create(p, "down", fields, {"delegation": res.decision}, now)

    def file_report(self, p: Principal, body: ReportIn, now: datetime | None = None) -> int:
        """双向派单: a street reports a list matter it found; the department owning it takes it over."""
        now = now or utcnow()
        county = self.county_id(p, body.county)
        township = self._township(p, county, body.township)
        found = body.found_at if body.found_at.tzinfo else body.found_at.replace(tzinfo=CHINA)
        if found > now:
            raise bad("found_in_future", "发现时间不能晚于报告时间。", "found_at is after the report")
        with kb_errors():
            if body.item_id:
                item = self.engine.item(body.item_id, county)
            elif body.text:
                r = self.engine.classify(body.text, top_k=1, county=county)
                item = self.engine.county(county).kb.items[r.candidates[0].item.id] if r.matched else None
            else:
                raise bad("invalid_request", "请提供事件描述 text 或事项编号 item_id。", "Give either text or item_id.")
        kb = self.engine.county(county).kb
        owners = [o for o in (item.primary_for(None) if item else ()) if o in kb.departments and kb.departments[o].level == "county"]
        if not owners:
            raise bad("no_county_owner", "该事项清单上没有县级主体责任部门,无法交接。", "no county department owns this matter")
        fields = {"county": county, "township": township, "department": owners[0], "agency": None,
                  "item_id": item.id if item else None, "item_name": item.name if item else None,
                  "text": body.text or (item.name if item else ""), "urgency": "normal", "complexity": None,
                  "flagged": False, "flag_reason": None, "example": p.example, "found_at": found,
                  "detail": {"list_owners": owners}}
        return self._create(p, "up", fields, {"found_at": found.isoformat()}, now)

    # -- acting ---------------------------------------------------------------------------------
    def act(self, p: Principal, call_id: int, body: EventIn, now: datetime | None = None) -> int:
        """Take one action on a call; returns its new version.  409 when the call moved on."""
        c = self.get_row(p, call_id)
        flow = self.rules.flows[c.flow]
        if body.expected_version is not None and body.expected_version != c.version:
            raise PlatformError(409, "conflict", "该事项刚被他人处理过,请刷新后再操作。",
                                f"call {call_id} is at version {c.version}, not {body.expected_version}",
                                {"call_id": call_id, "version": c.version})
        t = flow.transition(body.action, c.state)
        authorize_action(t, p.role)
        reason = body.reason.strip() if body.reason and body.reason.strip() else None
        if t.reason == "required" and not reason:
            raise bad("reason_required", f"{t.label}须写明理由。", f"{body.action} needs a reason")
        history = self.store.events(call_id)
        if now is None:  # the real clock, read after the history: never before the last event
            now = max(utcnow(), history[-1].at) if history else utcnow()
        elif history and now < history[-1].at:
            raise bad("time_backwards", "操作时间早于该事项的上一次操作。", "now is before the call's last event")
        changes, data = self._effects(flow, t.action, t.once, c, body, reason)
        state = t.to or c.state
        row = CallRow(**{**{k: getattr(c, k) for k in ("county", "urgency", "complexity", "found_at")},
                         **{k: v for k, v in changes.items() if k in ("complexity",)}})
        events = [Ev(e.action, e.at) for e in history] + [Ev(t.action, now)]
        changes.update(self._projection(c.flow, row, events, state, now), state=state, updated_at=now)
        ev = {"at": now, "actor": p.name, "role": p.role, "unit": p.unit, "action": t.action,
              "from_state": c.state, "to_state": state, "reason": reason, "data": data}
        return self.store.append(call_id, c.version, ev, changes)

    def _effects(self, flow: Flow, action: str, once: bool, c: CallRow, body: EventIn,
                 reason: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
        """What an action records beyond the state change, checked against the list and the policy."""
        kb = self.engine.county(c.county).kb
        changes: dict[str, Any] = {}
        data: dict[str, Any] = {}
        if action == "assess":
            dept = body.department or c.department
            if not dept or dept not in kb.departments or kb.departments[dept].level != "county":
                raise bad("unknown_department", "请确定责任单位(县直部门)。", f"unknown county department {dept!r}",
                          {"departments": sorted(d for d, v in kb.departments.items() if v.level == "county")})
            owners = c.detail.get("list_owners") or []
            if owners and dept not in owners and not reason:
                raise bad("reason_required", "改定的责任单位与清单主体责任部门不同,须写明理由。",
                          "the owner differs from the list's primary department: give a reason")
            agency = body.agency
            if agency and agency not in {a.id for a in kb.agencies_of(dept)}:
                raise bad("unknown_agency", "该派驻机构不属于所选部门。", f"{agency} is not a stationed agency of {dept}")
            complexity = body.complexity or c.complexity
            needs = any(d.complexity for d in self.profile(c.county).platform.deadlines)
            if needs and complexity is None:
                raise bad("complexity_required", "本县按一般/复杂事项分别计时,请确定事项类型(simple 一般 / complex 复杂)。",
                          "this county's deadlines depend on complexity: give simple or complex")
            changes.update(department=dept, agency=agency, complexity=complexity)
            data.update(department=dept, agency=agency, complexity=complexity, list_owners=owners)
        elif action == "feedback":
            data["result"] = _need(body.result, "result_required", "请填写办理结果。", "feedback needs a result")
        elif action == "rate":
            if body.speed is None or body.effect is None:
                raise bad("rating_required", "请评价响应速度和办理成效。", "rate needs speed and effect")
            satisfied = body.effect in self.scoring.satisfied_effects
            changes.update(speed=body.speed, effect=body.effect, satisfied=satisfied)
            data.update(speed=body.speed, effect=body.effect, satisfied=satisfied)
        elif action == "reopen":
            if c.satisfied is not False:
                raise PlatformError(409, "not_unsatisfied", "只有评价为不满意的事项才能重新办理。", "only an unsatisfied call may be reopened")
            if not self.profile(c.county).platform.reopen_on_unsatisfied:
                raise PlatformError(409, "reopen_not_allowed", "本县政策不允许不满意后重新办理。", "the county's policy does not reopen calls")
            changes.update(speed=None, effect=None, satisfied=None)
        elif action == "rate_township":
            if once and c.cooperation is not None:
                raise PlatformError(409, "already_rated", "已评价过乡镇配合情况。", "cooperation already rated")
            if body.cooperation is None:
                raise bad("rating_required", "请评价乡镇(街道)的配合情况。", "rate_township needs cooperation")
            changes["cooperation"] = body.cooperation
            data["cooperation"] = body.cooperation
        return changes, data

    # -- 督办 -------------------------------------------------------------------------------------
    def sweep(self, now: datetime | None = None, county: str | None = None) -> list[dict[str, Any]]:
        """Raise 督办 on every step past due (level 1), escalate it when still undone after the
        policy's interval (level 2).  Idempotent at a given `now`."""
        now = now or utcnow()
        sup = self.rules.supervision
        where = [CallRow.next_due < utc(now)]
        if county:
            where.append(CallRow.county == county)
        raised: list[dict[str, Any]] = []
        offset = 0
        while True:
            rows, _ = self.store.calls(where, limit=500, offset=offset)
            if not rows:
                break
            offset += len(rows)
            for c in rows:
                events = [Ev(e.action, e.at) for e in self.store.events(c.id)]
                overdue = [s for s in self.deadlines(c.flow, c, events, c.state, now) if s.status == "overdue"]
                if not overdue:
                    continue
                s = overdue[0]
                key = f"{s.step}@{s.anchor_at.isoformat()}"
                level = 2 if now > escalation_due(s.due_at, sup.escalate_after_working_days) else 1
                current = c.supervision_level if c.supervised_step == key else 0
                if level <= current:
                    continue
                data = {"step": s.step, "what": s.what, "due_at": s.due_at.isoformat(), "level": level,
                        "label": sup.levels[level]}
                ev = {"at": now, "actor": "督办(系统)", "role": "system", "unit": None, "action": "supervise",
                      "from_state": c.state, "to_state": c.state,
                      "reason": f"{s.what}已超期(应于{s.due_at.astimezone(CHINA):%Y-%m-%d %H:%M}前完成)", "data": data}
                try:
                    self.store.append(c.id, c.version, ev, {"supervision_level": level, "supervised_step": key})
                except PlatformError:
                    continue  # someone acted on it meanwhile: the next sweep looks again
                raised.append({"call_id": c.id, **data})
        return raised

    # -- reading --------------------------------------------------------------------------------
    def get_row(self, p: Principal, call_id: int) -> CallRow:
        c = self.store.call(call_id)
        if c is None or not self.visible(p, c):
            raise PlatformError(404, "call_not_found", "该事项不存在,或不在您的查看范围内。", f"no call {call_id} visible to this token")
        return c

    def history(self, call_id: int) -> list[EventRow]:
        return self.store.events(call_id)
