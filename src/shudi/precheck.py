"""两呼两不呼: may a township call the county?  Unknown facts are derived from the KB where it
can; the decision is taken by the `precheck` rule set (rules/precheck.yaml); deadlines come from
the county's response profile (rules/response-profiles.yaml) on the Chinese working calendar."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from .contract import AgencyRef, Deadline, PrecheckRequest, PrecheckResult, Reason, Ref
from .cues import CueReader
from .engine import Engine
from .model import Item, Scenario
from .reasoning import LIST_SOURCE, decide, find_township, recognise
from .workdays import add_working_days

FACTS = ("emergency", "within_township_authority", "dispatched_agency_can_solve", "studied_cannot_solve")
# the facts as a township clerk reads them in the reasons (never the keys: emergency=unknown)
TRI_LABELS = {None: "未知", True: "是", False: "否"}
CHINA = ZoneInfo("Asia/Shanghai")


def _tri(v: bool | None) -> str:
    return "unknown" if v is None else ("true" if v else "false")


def precheck(engine: Engine, req: PrecheckRequest) -> PrecheckResult:
    ctx = engine.county(req.county)
    kb, county = ctx.kb, ctx.loaded.county
    township_id = find_township(county, req.township)
    at = req.at or datetime.now(CHINA)
    if at.tzinfo is None:
        at = at.replace(tzinfo=CHINA)

    item: Item | None = None
    scenario: Scenario | None = None
    reasons: list[Reason] = []
    derived: dict[str, str] = {}
    if req.item_id:
        item = engine.item(req.item_id, req.county)
    text_cues: dict[str, str] = {}
    if req.text:
        found = recognise(engine, req.text, req.county, "根据来电/事件描述识别清单事项。",
                          found="识别为「{item}」{scenario}(依据:{evidence})",
                          missing="未能识别为清单内事项,请人工确认事项后再判断呼叫对象。")
        text_cues = CueReader.facts(engine.cues.read(found.normalized))
        if item is None:
            item, scenario = found.item, found.scenario
            reasons.append(found.reason)

    facts: dict[str, bool | None] = {f: getattr(req.facts, f) for f in FACTS}
    primary: tuple[str, ...] = item.primary_for(scenario) if item else ()
    agencies = [a for p in primary for a in kb.agencies_of(p) if item and item.id in a.handles]

    if facts["emergency"] is None:
        if text_cues.get("emergency") == "true" or (scenario is not None and scenario.facts.get("emergency") is True):
            facts["emergency"] = True
            derived["emergency"] = "事件描述中有险情正在发生的表述,按突发事件处理。"
    if facts["within_township_authority"] is None and item is not None:
        facts["within_township_authority"] = "township" in primary
        derived["within_township_authority"] = (
            f"乡镇(街道)是「{item.name}」的主体责任方,属乡镇权限内事项。" if "township" in primary
            else f"「{item.name}」的主体责任方是{'、'.join(kb.department_name(p) for p in primary)},乡镇(街道)承担配合责任。"
        )
    if facts["dispatched_agency_can_solve"] is None and item is not None and "township" not in primary:
        facts["dispatched_agency_can_solve"] = bool(agencies)
        derived["dispatched_agency_can_solve"] = (
            f"主体责任部门在乡镇派驻的{'、'.join(a.name for a in agencies)}可处置该事项。" if agencies
            else "主体责任部门在乡镇没有可处置该事项的派驻机构。"
        )
    for key, why in derived.items():
        reasons.append(Reason(rule=f"derive.{key}", principle="未提供的事实由清单推定。", why=why, source=LIST_SOURCE))

    wording = engine.rules.files["precheck"].wording  # the facts' plain-Chinese names: rules/precheck.yaml
    given = ";".join(f"{wording[k].label}:{TRI_LABELS[v]}" for k, v in facts.items())
    decisive, reason = decide(engine, kb, "precheck", {k: _tri(v) for k, v in facts.items()}, f"事实认定——{given}")
    decision = decisive.then["decision"]
    mode = decisive.then.get("mode")
    reasons.append(reason)

    call_departments: list[Ref] = []
    fallback_id = engine.rules.files["precheck"].fallback_item
    if decision == "call" and item is None and facts["emergency"] and fallback_id in kb.items:
        item = kb.items[fallback_id]
        primary = item.primary_for(None)
        reasons.append(Reason(rule="fallback.emergency", principle="突发事件无法识别具体事项的,按突发事件先期处置与信息报告事项呼叫。",
                              why=f"呼叫「{item.name}」的主体责任单位", source="《属地管理事项主体责任和配合责任清单》"))
    if decision == "call" and item is not None:
        targets = [p for p in primary if p != township_id and kb.departments.get(p, None) and kb.departments[p].level == "county"]
        if not targets:  # the township is primary: in an emergency it calls the county parties that support it
            targets = [p.party for p in item.supporting if kb.departments.get(p.party) and kb.departments[p.party].level == "county"]
        call_departments = [Ref(id=t, name=kb.department_name(t)) for t in targets]
    coordinate = (
        [AgencyRef(id=a.id, name=a.name, department=a.parent or "") for a in agencies]
        if decision == "no_call" and decisive.then.get("coordinate_agency") else []
    )

    profile_id = county.policy.response_profile
    profile = engine.profiles[profile_id]
    deadlines: list[Deadline] = []
    if decision == "call":
        for step in profile.steps:
            if req.complexity and step.complexity and step.complexity != req.complexity:
                continue
            due, known = add_working_days(at.date(), step.working_days)
            note = None if known else "该年度法定节假日安排尚未收录,按周一至周五计算,请以国务院办公厅公布的安排为准。"
            deadlines.append(Deadline(what=step.what, working_days=step.working_days, due=due, note=note))
        reasons.append(Reason(rule=f"deadline.{profile_id}", principle=profile.label, why=f"{county.name}的响应时限政策",
                              source=kb.sources.get(profile.source, profile.source)))

    return PrecheckResult(
        decision=decision,
        mode=mode,
        item=Ref(id=item.id, name=item.name) if item else None,
        scenario=Ref(id=scenario.id, name=scenario.name) if scenario else None,
        township=township_id,
        call_departments=call_departments,
        coordinate_agencies=coordinate,
        facts=facts,
        derived=derived,
        reasons=reasons,
        deadlines=deadlines,
        response_profile=profile_id,
        at=at,
        county=kb.county,
    )
