"""考评: a period's assessment of the county departments and their stationed agencies from the
townships' ratings, by the scoring policy of rules/assessment.yaml; CSV / Excel / printable HTML.

Which calls count: those filed in the period (their month) that the township has rated.  A
department answers for its own calls and those of its stationed agencies; an agency is also
assessed on its own (寿光: its rating is 60 % of its assessment)."""

from __future__ import annotations

import csv
import html
import io
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from ..source import read_model
from .errors import bad
from .store import CallRow


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Levels(Strict):
    label: str
    levels: dict[str, int]


class DepartmentPolicy(Strict):
    max_deduction: int
    weight_share: float


class AgencyPolicy(Strict):
    max_deduction: int
    weight: float
    scale: int


class CooperationPolicy(Strict):
    source: str
    levels: list[str]


class ScoringPolicy(Strict):
    source: str
    note: str | None = None
    speed: Levels
    effect: Levels
    satisfied_effects: list[str]
    department: DepartmentPolicy
    stationed_agency: AgencyPolicy
    cooperation: CooperationPolicy


@lru_cache(maxsize=8)
def load_policy(path: Path) -> ScoringPolicy:
    return read_model(path, ScoringPolicy)


class UnitScore(BaseModel):
    kind: str  # department / agency
    id: str
    name: str
    parent: str | None = None
    rated: int
    speed: dict[str, int]
    effect: dict[str, int]
    satisfied: int
    deduction: int
    deduction_capped: int
    score: float  # department: out of max_deduction; agency: out of `scale`
    weighted: float | None = None  # agency: its share of the agency's whole assessment


class TownshipRow(BaseModel):
    id: str
    name: str
    calls: int
    flagged: int
    cooperation: dict[str, int]


class Assessment(BaseModel):
    county: str
    period: str
    months: list[str]
    source: str
    note: str | None
    departments: list[UnitScore]
    agencies: list[UnitScore]
    townships: list[TownshipRow]


def period_months(period: str) -> list[str]:
    """'2026-02' → one month; '2026-Q1' → three; '2026' → twelve."""
    if re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period):
        return [period]
    m = re.fullmatch(r"(\d{4})-Q([1-4])", period)
    if m:
        q = int(m.group(2))
        return [f"{m.group(1)}-{k:02d}" for k in range(3 * q - 2, 3 * q + 1)]
    if re.fullmatch(r"\d{4}", period):
        return [f"{period}-{k:02d}" for k in range(1, 13)]
    raise bad("invalid_period", "考评期格式应为 2026、2026-Q1 或 2026-02。", "period must be YYYY, YYYY-Qn or YYYY-MM")


def _score(policy: ScoringPolicy, kind: str, uid: str, name: str, parent: str | None, rows: list[Any]) -> UnitScore:
    speed = Counter(r.speed for r in rows)
    effect = Counter(r.effect for r in rows)
    deduction = sum(policy.speed.levels[r.speed] + policy.effect.levels[r.effect] for r in rows)
    if kind == "department":
        cap = policy.department.max_deduction
        capped = min(deduction, cap)
        score, weighted = float(cap - capped), None
    else:
        ap = policy.stationed_agency
        capped = min(deduction, ap.max_deduction)
        score = round(ap.scale * (ap.max_deduction - capped) / ap.max_deduction, 2)
        weighted = round(ap.weight * score, 2)
    return UnitScore(kind=kind, id=uid, name=name, parent=parent, rated=len(rows),
                     speed={k: speed.get(k, 0) for k in policy.speed.levels},
                     effect={k: effect.get(k, 0) for k in policy.effect.levels},
                     satisfied=sum(1 for r in rows if r.satisfied), deduction=deduction, deduction_capped=capped,
                     score=score, weighted=weighted)


def assess(platform: Any, county: str, period: str) -> Assessment:
    policy: ScoringPolicy = platform.scoring
    months = period_months(period)
    ctx = platform.engine.county(county)
    kb, cf = ctx.kb, ctx.loaded.county
    cols = (CallRow.department, CallRow.agency, CallRow.township, CallRow.speed, CallRow.effect, CallRow.satisfied,
            CallRow.flagged, CallRow.cooperation, CallRow.flow)
    with platform.store.engine.connect() as conn:
        rows = conn.execute(select(*cols).where(CallRow.county == county, CallRow.month.in_(months))).all()
    rated = [r for r in rows if r.speed and r.effect and r.department]
    depts = sorted({r.department for r in rated})
    agencies = sorted({r.agency for r in rated if r.agency})
    d_scores = [_score(policy, "department", d, kb.department_name(d), None, [r for r in rated if r.department == d])
                for d in depts]
    a_scores = [_score(policy, "agency", a, kb.department_name(a), kb.departments[a].parent if a in kb.departments else None,
                       [r for r in rated if r.agency == a]) for a in agencies]
    names = {t.id: t.name for t in cf.townships}
    towns = []
    for tid in sorted({r.township for r in rows}):
        mine = [r for r in rows if r.township == tid]
        coop = Counter(r.cooperation for r in mine if r.cooperation)
        towns.append(TownshipRow(id=tid, name=names.get(tid, tid), calls=sum(1 for r in mine if r.flow == "call"),
                                 flagged=sum(1 for r in mine if r.flagged),
                                 cooperation={k: coop.get(k, 0) for k in policy.cooperation.levels}))
    return Assessment(county=county, period=period, months=months, source=kb.sources.get(policy.source, policy.source),
                      note=policy.note, departments=d_scores, agencies=a_scores, townships=towns)


HEAD = ["类别", "单位", "所属部门", "评价件数", "满意件数", "响应速度", "办理成效", "扣分(原始)", "扣分(封顶)", "得分", "折算计入考核"]


def table(a: Assessment) -> list[list[Any]]:
    out: list[list[Any]] = []
    for u in [*a.departments, *a.agencies]:
        out.append(["县直部门" if u.kind == "department" else "派驻机构", u.name, u.parent or "", u.rated, u.satisfied,
                    "、".join(f"{k}{v}" for k, v in u.speed.items()), "、".join(f"{k}{v}" for k, v in u.effect.items()),
                    u.deduction, u.deduction_capped, u.score, "" if u.weighted is None else u.weighted])
    return out


def to_csv(a: Assessment) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEAD)
    w.writerows(table(a))
    return "\ufeff" + buf.getvalue()  # the BOM makes Excel read the Chinese as UTF-8


def to_xlsx(a: Assessment) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "考评"
    ws.append([f"{a.county} 乡呼县应考评 {a.period}"])
    ws.append(HEAD)
    for row in table(a):
        ws.append(row)
    ws2 = wb.create_sheet("乡镇")
    coop = list(a.townships[0].cooperation) if a.townships else []
    ws2.append(["乡镇(街道)", "呼叫件数", "可能乱呼叫", *[f"配合{k}" for k in coop]])
    for t in a.townships:
        ws2.append([t.name, t.calls, t.flagged, *t.cooperation.values()])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_html(a: Assessment, county_name: str) -> str:
    e = html.escape
    rows = "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in r) + "</tr>" for r in table(a))
    towns = "".join(f"<tr><td>{e(t.name)}</td><td>{t.calls}</td><td>{t.flagged}</td><td>"
                    + e("、".join(f"{k}{v}" for k, v in t.cooperation.items())) + "</td></tr>" for t in a.townships)
    return (f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>考评 {e(a.period)}</title>"
            "<style>body{font-family:'Noto Sans CJK SC','WenQuanYi Zen Hei',sans-serif;margin:2em}"
            "table{border-collapse:collapse;width:100%;margin:1em 0}td,th{border:1px solid #999;padding:4px 6px;font-size:13px}"
            "th{background:#eee}@media print{button{display:none}}</style></head><body>"
            f"<h1>{e(county_name)} 乡呼县应考评({e(a.period)})</h1>"
            f"<p>依据:{e(a.source)}。{e(a.note or '')}</p><button onclick='print()'>打印</button>"
            "<table><tr>" + "".join(f"<th>{h}</th>" for h in HEAD) + f"</tr>{rows}</table>"
            "<h2>乡镇(街道)</h2><table><tr><th>乡镇(街道)</th><th>呼叫件数</th><th>可能乱呼叫</th><th>部门评价配合情况</th></tr>"
            f"{towns}</table></body></html>")
