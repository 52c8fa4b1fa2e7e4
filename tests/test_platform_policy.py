"""The platform's policy data and the 考评 computed from it: an assessment for a period equals
the one computed by hand from rules/assessment.yaml's own numbers."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from shudi.contract import CallFacts
from shudi.platform.assessment import assess, period_months
from shudi.platform.errors import PlatformError
from shudi.platform.models import CallIn, EventIn
from shudi.platform.service import Platform
from tests.platform_support import DISPATCHER, at, dept, town

ROOT = Path(__file__).resolve().parents[1]
FACTS = CallFacts(studied_cannot_solve=True, dispatched_agency_can_solve=False)


def test_every_policy_names_a_known_source() -> None:
    known = {s["id"] for s in yaml.safe_load((ROOT / "kb" / "sources.yaml").read_text(encoding="utf-8"))["sources"]}
    found = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "source":
                    found.append(v)
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    for name in ("platform.yaml", "assessment.yaml", "response-profiles.yaml"):
        walk(yaml.safe_load((ROOT / "rules" / name).read_text(encoding="utf-8")))
    assert len(found) >= 8 and set(found) <= known, set(found) - known


def test_policy_numbers_are_the_reports() -> None:
    a = yaml.safe_load((ROOT / "rules" / "assessment.yaml").read_text(encoding="utf-8"))
    assert a["department"]["max_deduction"] == 300 and a["stationed_agency"]["weight"] == 0.6  # 寿光
    p = yaml.safe_load((ROOT / "rules" / "response-profiles.yaml").read_text(encoding="utf-8"))["profiles"]
    assert [d["working_days"] for d in p["five-day"]["platform"]["deadlines"]] == [0, 5]  # 兰陵
    assert [d["working_days"] for d in p["one-three-five"]["platform"]["deadlines"]] == [1, 3, 5]  # 寿光


def test_periods() -> None:
    assert period_months("2026-02") == ["2026-02"]
    assert period_months("2026-Q1") == ["2026-01", "2026-02", "2026-03"]
    assert len(period_months("2026")) == 12
    with pytest.raises(PlatformError):
        period_months("26-2")


def _rated(pf: Platform, when: str, owner: str, speed: str, effect: str, agency: str | None = None, coop: str | None = None) -> int:
    t = town("huanghe", "example-a")
    cid = pf.file_call(t, CallIn(county="example-a", item_id="nr.illegal-land-occupation", facts=FACTS), now=at(when))
    reason = None if owner == "county.natural-resources" else "经核实改由该部门办理。"
    d = dept(owner, "example-a")
    for who, body in ((DISPATCHER, {"action": "accept"}),
                      (DISPATCHER, {"action": "assess", "department": owner, "agency": agency, "reason": reason}),
                      (DISPATCHER, {"action": "dispatch"}), (d, {"action": "sign"}),
                      (d, {"action": "feedback", "result": "已办理"}),
                      (t, {"action": "rate", "speed": speed, "effect": effect})):
        pf.act(who, cid, EventIn(**body), now=at(when))
    if coop:
        pf.act(d, cid, EventIn(action="rate_township", cooperation=coop), now=at(when))
    return cid


def test_assessment_equals_hand_computation(platform: Platform) -> None:
    pf = platform
    nr, wr, station = "county.natural-resources", "county.water-resources", "county.natural-resources.station"
    _rated(pf, "2026-02-03 10:00", nr, "及时", "好", coop="好")           # 0 + 0
    _rated(pf, "2026-02-04 10:00", nr, "响应慢", "一般")                  # 10 + 5
    _rated(pf, "2026-02-05 10:00", nr, "不响应", "差", agency=station)    # 30 + 10, via its 自然资源所
    for day in range(9, 17):                                             # 8 × (30 + 10) = 320 → capped at 300
        _rated(pf, f"2026-02-{day:02d} 10:00", wr, "不响应", "差")
    _rated(pf, "2026-03-02 10:00", nr, "响应慢", "较好")                  # March: 10 + 2, not in 2026-02
    a = assess(pf, "example-a", "2026-02")
    d = {u.id: u for u in a.departments}
    assert d[nr].rated == 3 and d[nr].deduction == 55 and d[nr].deduction_capped == 55 and d[nr].score == 245
    assert d[nr].speed == {"及时": 1, "响应慢": 1, "不响应": 1} and d[nr].satisfied == 1
    assert d[wr].deduction == 320 and d[wr].deduction_capped == 300 and d[wr].score == 0
    (ag,) = a.agencies
    # agency: 100 × (300 − 40) / 300 = 86.67 on its own scale; 60 % of its assessment → 52.0
    assert ag.id == station and ag.parent == nr and ag.deduction == 40 and ag.score == 86.67 and ag.weighted == 52.0
    (hh,) = a.townships
    assert hh.calls == 11 and hh.cooperation["好"] == 1
    q1 = {u.id: u for u in assess(pf, "example-a", "2026-Q1").departments}
    assert q1[nr].rated == 4 and q1[nr].deduction == 55 + 12 and q1[nr].score == 300 - 67
