"""示例 calls for `make serve`: when the store holds nothing for an example county (county.yaml
`example: true`), a handful of calls in different states are filed — every one marked 示例 —
so that the pages have something to show.  Never for a real county."""

from __future__ import annotations

from datetime import datetime, timedelta

from ..contract import CallFacts
from .auth import Principal
from .models import CallIn, EventIn, ReportIn, TaskIn
from .service import Platform
from .store import utcnow

STUDIED = CallFacts(studied_cannot_solve=True, dispatched_agency_can_solve=False)
# (item, the actions after filing, as (role, action, extra)); the call owner's department acts
PLANS: list[tuple[str, list[tuple[str, str, dict]]]] = [
    ("nr.illegal-land-occupation", []),
    ("ce.street-vending", [("dispatcher", "accept", {})]),
    ("ce.construction-waste", [("dispatcher", "accept", {}), ("dispatcher", "assess", {"complexity": "simple"}),
                               ("dispatcher", "dispatch", {})]),
    ("ee.water-pollution", [("dispatcher", "accept", {}), ("dispatcher", "assess", {"complexity": "complex"}),
                            ("dispatcher", "dispatch", {}), ("department", "sign", {})]),
    ("ce.open-air-bbq", [("dispatcher", "accept", {}), ("dispatcher", "assess", {"complexity": "simple"}),
                         ("dispatcher", "dispatch", {}), ("department", "return", {"reason": "【示例】经核实不属本部门职责。"})]),
    ("ce.city-appearance", [("dispatcher", "accept", {}), ("dispatcher", "assess", {"complexity": "simple"}),
                            ("dispatcher", "dispatch", {}), ("department", "sign", {}),
                            ("department", "feedback", {"result": "【示例】已清理完毕。"}),
                            ("township", "rate", {"speed": "及时", "effect": "好"}), ("dispatcher", "close", {})]),
    ("ce.construction-noise", [("dispatcher", "accept", {}), ("dispatcher", "assess", {"complexity": "simple"}),
                               ("dispatcher", "dispatch", {}), ("department", "sign", {}),
                               ("department", "feedback", {"result": "【示例】已责令停工整改。"}),
                               ("township", "rate", {"speed": "响应慢", "effect": "一般"})]),
]


def seed_examples(pf: Platform, county: str, now: datetime | None = None) -> int:
    """File the 示例 calls; returns how many (0 when the county is real or already has calls)."""
    ctx = pf.engine.county(county)
    cf = ctx.loaded.county
    if not cf.example or pf.store.count(county) > 0:
        return 0
    now = now or utcnow()
    towns = [t.id for t in cf.townships]
    dispatcher = Principal(name="示例调度员", role="dispatcher", county=county, example=True)
    n = 0
    for i, (item, steps) in enumerate(PLANS):
        if item not in ctx.kb.items:
            continue
        t = towns[i % len(towns)]
        town = Principal(name=f"示例{t}经办人", role="township", unit=t, county=county, example=True)
        # spread over the last two months, one working-hours hour per step
        clock = now - timedelta(days=40 - 6 * i, hours=3)
        cid = pf.file_call(town, CallIn(county=county, item_id=item, facts=STUDIED,
                                        text=f"【示例】{ctx.kb.items[item].name}"), now=clock)
        for role, action, extra in steps:
            clock += timedelta(hours=1)
            owner = pf.store.call(cid).department
            who = {"dispatcher": dispatcher, "township": town,
                   "department": Principal(name="示例部门经办人", role="department", unit=owner, county=county, example=True)}[role]
            pf.act(who, cid, EventIn(action=action, **extra), now=clock)  # type: ignore[arg-type]
        n += 1
    if "kw.rural-living-environment" in ctx.kb.items and towns:
        ag = Principal(name="示例部门经办人", role="department", unit="county.agriculture-rural", county=county, example=True)
        pf.file_task(ag, TaskIn(county=county, township=towns[0], item_id="kw.rural-living-environment",
                                task="【示例】督促清理村内垃圾堆放点"), now=now - timedelta(days=2))
        n += 1
    if "nr.illegal-land-occupation" in ctx.kb.items and towns:
        town = Principal(name="示例街道经办人", role="township", unit=towns[-1], county=county, example=True)
        pf.file_report(town, ReportIn(county=county, item_id="nr.illegal-land-occupation",
                                      text="【示例】巡查发现耕地上新建房屋", found_at=now - timedelta(days=1)),
                       now=now - timedelta(hours=20))
        n += 1
    return n
