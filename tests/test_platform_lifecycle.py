"""A call's whole life on the response platform, on SQLite and on a real PostgreSQL server:
every state with its deadlines across the 2026 Spring Festival (holiday 2-15…2-23) and its
make-up working days (Saturday 2-14 and Saturday 2-28); 退回 and 督办; the 黄陂 two-way flow."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import text

from shudi.contract import CallFacts
from shudi.platform.errors import PlatformError
from shudi.platform.models import CallIn, EventIn, ReportIn, TaskIn
from shudi.platform.service import Platform
from shudi.platform.views import detail, list_calls
from tests.platform_support import DISPATCHER, SUPERVISOR, at, dept, town

LAND = "nr.illegal-land-occupation"  # 县自然资源局 primary
STUDIED = CallFacts(studied_cannot_solve=True, dispatched_agency_can_solve=False)


def act(pf: Platform, who, cid: int, when: datetime, **kw) -> int:  # noqa: ANN001
    return pf.act(who, cid, EventIn(**kw), now=at(when) if isinstance(when, str) else when)


def due(pf: Platform, cid: int, step: str, now: str) -> dict:
    d = detail(pf, DISPATCHER, cid, now=at(now))
    return {s.step: s for s in d.deadlines}[step]


def test_every_state_with_deadlines_across_spring_festival(platform: Platform) -> None:
    pf = platform
    huanghe = town("huanghe", "example-a")  # 示例县甲: five-day profile (兰陵)
    cid = pf.file_call(huanghe, CallIn(county="example-a", item_id=LAND, facts=STUDIED), now=at("2026-02-12 10:00"))
    seen = [detail(pf, DISPATCHER, cid).state]
    c = pf.store.call(cid)
    assert c.department == "county.natural-resources" and not c.flagged
    owner = dept("county.natural-resources", "example-a")

    act(pf, DISPATCHER, cid, "2026-02-12 11:00", action="accept")
    seen.append(pf.store.call(cid).state)
    act(pf, DISPATCHER, cid, "2026-02-12 14:00", action="assess")
    seen.append(pf.store.call(cid).state)
    act(pf, DISPATCHER, cid, "2026-02-13 09:00", action="dispatch")  # Friday before the festival
    seen.append(pf.store.call(cid).state)
    # 立即开展工作: signing is due the day of dispatch; 5 working days to feed back:
    # Sat 2-14 (make-up day) is day 1, the festival 2-15…2-23 does not count, 2-24…2-27 are days 2-5
    assert due(pf, cid, "sign", "2026-02-13 10:00").due_at == at("2026-02-13 23:59").replace(second=59)
    fb = due(pf, cid, "feedback", "2026-02-13 10:00")
    assert fb.due_at.date().isoformat() == "2026-02-27" and fb.status == "open"
    act(pf, owner, cid, "2026-02-13 15:00", action="sign")
    seen.append(pf.store.call(cid).state)
    assert due(pf, cid, "feedback", "2026-02-27 23:00").status == "open"
    assert due(pf, cid, "feedback", "2026-02-28 08:00").status == "overdue"
    act(pf, owner, cid, "2026-02-27 16:00", action="feedback", result="已立案查处,责令拆除。")
    seen.append(pf.store.call(cid).state)
    assert pf.store.call(cid).on_time is True
    act(pf, huanghe, cid, "2026-02-27 17:00", action="rate", speed="及时", effect="差")
    seen.append(pf.store.call(cid).state)
    assert pf.store.call(cid).satisfied is False
    # 不满意 → reopen (the county's policy allows it); the 5 days run again from the reopening,
    # which falls on the make-up Saturday 2-28: 3-2 … 3-6
    act(pf, huanghe, cid, "2026-02-28 09:00", action="reopen", reason="违建只拆了一半。")
    seen.append(pf.store.call(cid).state)
    assert due(pf, cid, "feedback", "2026-02-28 10:00").due_at.date().isoformat() == "2026-03-06"
    act(pf, owner, cid, "2026-03-03 10:00", action="feedback", result="已全部拆除。")
    act(pf, huanghe, cid, "2026-03-03 11:00", action="rate", speed="及时", effect="好")
    act(pf, owner, cid, "2026-03-03 12:00", action="rate_township", cooperation="较好")
    act(pf, DISPATCHER, cid, "2026-03-03 13:00", action="close")
    seen.append(pf.store.call(cid).state)
    assert seen == ["submitted", "accepted", "assessed", "dispatched", "in_progress", "fed_back", "rated",
                    "in_progress", "closed"]
    d = detail(pf, huanghe, cid, now=at("2026-03-04 09:00"))
    assert [e.action for e in d.events] == ["file", "accept", "assess", "dispatch", "sign", "feedback", "rate", "reopen",
                                            "feedback", "rate", "rate_township", "close"]
    assert [e.seq for e in d.events] == list(range(1, 13)) and d.version == 12
    assert all(e.at.tzinfo is not None for e in d.events)
    assert d.satisfied is True and d.cooperation == "较好" and d.on_time is True and not d.overdue
    assert d.allowed_actions == []
    with pytest.raises(PlatformError) as exc:  # closed: nothing more
        act(pf, DISPATCHER, cid, "2026-03-04 09:00", action="accept")
    assert exc.value.status == 409 and exc.value.code == "illegal_transition"


def test_roles_scope_and_bad_input(platform: Platform) -> None:
    pf = platform
    huanghe, binhe = town("huanghe", "example-a"), town("binhe", "example-a")
    cid = pf.file_call(huanghe, CallIn(county="example-a", item_id=LAND, facts=STUDIED), now=at("2026-02-12 10:00"))
    with pytest.raises(PlatformError) as exc:
        act(pf, huanghe, cid, "2026-02-12 11:00", action="accept")  # only the platform accepts
    assert exc.value.status == 403 and "响应平台" in exc.value.zh
    with pytest.raises(PlatformError) as exc:
        detail(pf, binhe, cid)  # another township's call is invisible
    assert exc.value.status == 404
    assert list_calls(pf, binhe).total == 0 and list_calls(pf, huanghe).total == 1
    assert list_calls(pf, dept("county.ecology-environment")).total == 0
    with pytest.raises(PlatformError) as exc:
        pf.file_call(huanghe, CallIn(county="example-a", township="binhe", item_id=LAND, facts=STUDIED))
    assert exc.value.status == 403
    # a call against the pre-check's no_call needs a written reason, and is flagged
    with pytest.raises(PlatformError) as exc:
        pf.file_call(huanghe, CallIn(county="example-a", text="饭店后厨卫生很差"))
    assert exc.value.status == 422 and exc.value.code == "reason_required"
    flagged = pf.file_call(huanghe, CallIn(county="example-a", text="饭店后厨卫生很差", reason="市场监管所人手不足,多次协调未果。"))
    row = pf.store.call(flagged)
    assert row.flagged and "市场监管所人手不足" in row.flag_reason
    assert list_calls(pf, SUPERVISOR, supervision=True).total == 1
    # 研判 to a department that is not the list's owner needs a reason
    act(pf, DISPATCHER, cid, "2026-02-12 11:00", action="accept")
    with pytest.raises(PlatformError) as exc:
        act(pf, DISPATCHER, cid, "2026-02-12 12:00", action="assess", department="county.water-resources")
    assert exc.value.code == "reason_required"
    with pytest.raises(PlatformError) as exc:
        act(pf, DISPATCHER, cid, "2026-02-12 12:00", action="assess", department="county.nonexistent")
    assert exc.value.code == "unknown_department"
    # a stale expected_version is a 409
    with pytest.raises(PlatformError) as exc:
        act(pf, DISPATCHER, cid, "2026-02-12 12:00", action="assess", expected_version=1)
    assert exc.value.status == 409
    # the event log is append-only in the database itself
    with pytest.raises(Exception):
        with pf.store.engine.begin() as conn:
            conn.execute(text("UPDATE platform_events SET actor = 'x'"))
    with pytest.raises(Exception):
        with pf.store.engine.begin() as conn:
            conn.execute(text("DELETE FROM platform_events"))


def test_return_and_supervision(platform: Platform) -> None:
    pf = platform
    sc = town("shengcheng", "example-b")  # 示例县乙: one-three-five profile (寿光)
    cid = pf.file_call(sc, CallIn(county="example-b", item_id=LAND, facts=STUDIED), now=at("2026-02-13 10:00"))
    # 1 working day to dispatch: the make-up Saturday 2-14
    assert due(pf, cid, "dispatch", "2026-02-13 11:00").due_at.date().isoformat() == "2026-02-14"
    assert pf.sweep(now=at("2026-02-14 20:00")) == []
    raised = pf.sweep(now=at("2026-02-15 10:00"))
    assert [(r["call_id"], r["step"], r["level"]) for r in raised] == [(cid, "dispatch", 1)]
    assert pf.sweep(now=at("2026-02-15 11:00")) == []  # idempotent
    # escalation: still undone 1 working day after the due day (2-24, after the festival)
    assert pf.sweep(now=at("2026-02-24 20:00")) == []
    assert [r["level"] for r in pf.sweep(now=at("2026-02-25 08:00"))] == [2]
    assert list_calls(pf, SUPERVISOR, overdue=True, now=at("2026-02-25 08:30")).total == 1
    # due 2-14 23:59:59 China time: not overdue at 23:30 that night, overdue at 00:30 (UTC would say otherwise)
    assert list_calls(pf, SUPERVISOR, overdue=True, now=at("2026-02-14 23:30")).total == 0
    assert list_calls(pf, SUPERVISOR, overdue=True, now=at("2026-02-15 00:30")).total == 1
    act(pf, DISPATCHER, cid, "2026-02-25 09:00", action="accept")
    with pytest.raises(PlatformError) as exc:  # this county times simple and complex matters apart
        act(pf, DISPATCHER, cid, "2026-02-25 09:30", action="assess")
    assert exc.value.code == "complexity_required"
    act(pf, DISPATCHER, cid, "2026-02-25 09:30", action="assess", complexity="simple")
    act(pf, DISPATCHER, cid, "2026-02-25 10:00", action="dispatch")
    nr = dept("county.natural-resources", "example-b")
    with pytest.raises(PlatformError) as exc:
        act(pf, nr, cid, "2026-02-25 11:00", action="return")
    assert exc.value.code == "reason_required"
    act(pf, nr, cid, "2026-02-25 11:00", action="return", reason="属河道范围,应由水利局处理。")
    c = pf.store.call(cid)
    assert c.state == "returned"
    assert list_calls(pf, SUPERVISOR, supervision=True, now=at("2026-02-25 11:30")).total == 1
    # after the return the dispatch clock runs again from the return: due 2-26; no feedback clock
    steps = {s.step: s for s in detail(pf, DISPATCHER, cid, now=at("2026-02-25 12:00")).deadlines}
    assert steps["dispatch"].due_at.date().isoformat() == "2026-02-26" and steps["dispatch"].status == "open"
    assert "feedback" not in steps
    act(pf, DISPATCHER, cid, "2026-02-25 14:00", action="assess", department="county.water-resources",
        reason="经核实属河道管理范围。", complexity="simple")
    act(pf, DISPATCHER, cid, "2026-02-25 15:00", action="dispatch")
    wr = dept("county.water-resources", "example-b")
    assert list_calls(pf, nr).total == 0 and list_calls(pf, wr).total == 1
    act(pf, wr, cid, "2026-02-25 16:00", action="sign")
    # 一般事项 3 working days from dispatch: 2-26, 2-27, Sat 2-28 (make-up) → due 2-28
    fb = due(pf, cid, "feedback", "2026-02-25 17:00")
    assert fb.due_at.date().isoformat() == "2026-02-28"
    assert [r["step"] for r in pf.sweep(now=at("2026-03-01 09:00"))] == ["feedback"]
    act(pf, wr, cid, "2026-03-02 09:00", action="feedback", result="已处理。")
    c = pf.store.call(cid)
    assert c.on_time is False and c.next_due is None
    d = detail(pf, SUPERVISOR, cid)
    sup = [e for e in d.events if e.action == "supervise"]
    assert [e.data["level"] for e in sup] == [1, 2, 1] and all(e.role == "system" for e in sup)
    assert [e.action for e in d.events if e.action != "supervise"] == [
        "file", "accept", "assess", "dispatch", "return", "assess", "dispatch", "sign", "feedback"]


def test_urgent_call_due_at_once(platform: Platform) -> None:
    pf = platform
    cid = pf.file_call(town("huanghe", "example-a"), CallIn(county="example-a", item_id=LAND, facts=STUDIED, urgency="urgent"),
                       now=at("2026-02-12 10:00"))
    steps = {s.step: s for s in detail(pf, DISPATCHER, cid, now=at("2026-02-12 10:01")).deadlines}
    assert steps["accept"].due_at == at("2026-02-12 10:00") and steps["accept"].status == "overdue"
    assert [r["step"] for r in pf.sweep(now=at("2026-02-12 10:01"))] == ["accept"]


def test_huangpi_two_way(platform: Platform) -> None:
    pf = platform
    ee = dept("county.ecology-environment", "example-a")
    huanghe = town("huanghe", "example-a")
    # the department hands the street a matter that is the street's duty on the list (示例县甲:
    # 秸秆禁烧 is the township's primary duty) — admitted
    tid = pf.file_task(ee, TaskIn(county="example-a", township="huanghe", item_id="ee.straw-burning"), now=at("2026-02-12 09:00"))
    assert pf.store.call(tid).state == "handed"
    # its own primary duty is refused by the admission rules
    with pytest.raises(PlatformError) as exc:
        pf.file_task(dept("county.natural-resources", "example-a"),
                     TaskIn(county="example-a", township="huanghe", item_id="nr.illegal-land-occupation"))
    assert exc.value.code == "delegation_refused" and exc.value.status == 422
    act(pf, huanghe, tid, "2026-02-12 10:00", action="sign")
    act(pf, huanghe, tid, "2026-02-12 16:00", action="feedback", result="已扑灭火点并劝离。")  # 回告
    act(pf, ee, tid, "2026-02-12 17:00", action="close")
    assert pf.store.call(tid).state == "closed"
    # what the street cannot handle goes back to the county
    t2 = pf.file_task(ee, TaskIn(county="example-a", township="huanghe", item_id="ee.straw-burning"), now=at("2026-02-12 09:00"))
    act(pf, huanghe, t2, "2026-02-12 10:00", action="return", reason="涉及跨乡镇大面积焚烧,街道无法承担。")
    assert pf.store.call(t2).state == "escalated"
    act(pf, ee, t2, "2026-02-13 10:00", action="feedback", result="县分局已立案。")
    act(pf, ee, t2, "2026-02-13 11:00", action="close")
    # the street found a county matter: report the same day, hand over within 3 working days
    rid = pf.file_report(huanghe, ReportIn(county="example-a", item_id=LAND, found_at=at("2026-02-13 09:00")),
                         now=at("2026-02-13 17:00"))
    steps = {s.step: s for s in detail(pf, huanghe, rid, now=at("2026-02-13 17:01")).deadlines}
    assert steps["report"].status == "met"
    assert steps["handover"].due_at.date().isoformat() == "2026-02-25"  # 2-14 (make-up), 2-24, 2-25
    late = pf.file_report(huanghe, ReportIn(county="example-a", item_id=LAND, found_at=at("2026-02-13 09:00")),
                          now=at("2026-02-14 09:00"))
    assert {s.step: s for s in detail(pf, huanghe, late).deadlines}["report"].status == "late"
    act(pf, huanghe, rid, "2026-02-24 10:00", action="handover")
    nr = dept("county.natural-resources", "example-a")
    act(pf, nr, rid, "2026-02-24 11:00", action="sign")
    act(pf, nr, rid, "2026-02-26 11:00", action="feedback", result="已立案。")
    act(pf, huanghe, rid, "2026-02-26 12:00", action="close")
    d = detail(pf, huanghe, rid)
    assert d.state == "closed" and {s.step: s.status for s in d.deadlines} == {"report": "met", "handover": "met"}
