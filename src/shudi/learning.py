"""`shudi learn`: a county's model learned from its work orders, with figures before and after.

An orders file (CSV, Excel or JSONL) holds one work order a row: its text and the office that
handled it (a department id or name) or the list item it was filed under.  Orders handled by an
office that owns no item of the county's list, or marked 清单外, teach the "not on the list" class.
The figures are cross-validated on the orders (k folds: the county model is trained on the KB's
example calls and the other folds' orders, then the gate on out-of-fold signals), so "after" is
what the county can expect on orders the model has not seen.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .calibration import COUNTY_FEATURES, KB_FEATURES, Gate, cross_probabilities, fit_gate, rerank, signals, thresholds, top_dept
from .countymodel import OFF, CountyModel, LearnedCounty, learned_dir
from .errors import BadInput
from .normalize import compact

if TYPE_CHECKING:
    from .engine import Engine, Reading
    from .model import KnowledgeBase

TEXT_COLUMNS = ("text", "内容", "诉求内容", "来电内容", "工单内容", "问题描述", "留言内容", "诉求", "标题")
DEPT_COLUMNS = ("department", "dept", "承办单位", "处理单位", "承办部门", "处理部门", "主办单位", "责任单位", "部门")
ITEM_COLUMNS = ("item", "事项", "事项编号", "清单事项")
OFF_WORDS = {"off-list", "off", "清单外", "不在清单", "无", "否"}
OFF_TARGET = 0.95  # share of off-list orders the gate should answer "no match" (rules/classifier.yaml says why)


@dataclass
class Order:
    text: str
    dept: str  # a department id of the list, or OFF


@dataclass
class Figures:
    orders: int
    in_scope: int
    off_list: int
    top1_dept: float  # share of in-scope orders whose top answer names their department (answered or not)
    answered_right: float  # share of in-scope orders answered with the right department
    off_list_abstained: float
    levels: list[dict[str, Any]] = field(default_factory=list)


def _rows(path: Path) -> list[dict[str, str]]:
    suffix = path.suffix.lower()
    try:
        if suffix == ".jsonl":
            return [{str(k): "" if v is None else str(v) for k, v in json.loads(line).items()}
                    for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if suffix == ".csv":
            with path.open(encoding="utf-8-sig", newline="") as fh:
                return [{k: v or "" for k, v in r.items() if k is not None} for r in csv.DictReader(fh)]
        if suffix in (".xlsx", ".xlsm"):
            from openpyxl import load_workbook

            sheet = load_workbook(path, read_only=True, data_only=True).worksheets[0]
            it = sheet.iter_rows(values_only=True)
            header = [str(h or "").strip() for h in next(it, ())]
            return [{h: "" if v is None else str(v) for h, v in zip(header, row)} for row in it]
    except (OSError, ValueError, KeyError, StopIteration) as exc:
        raise BadInput(f"无法读取工单文件:{exc}", f"cannot read the orders file: {exc}") from exc
    raise BadInput("工单文件须为 CSV、Excel(.xlsx)或 JSONL", "the orders file must be CSV, Excel (.xlsx) or JSONL")


def _column(header: list[str], names: tuple[str, ...]) -> str | None:
    keys = {compact(h).lower(): h for h in header}
    return next((keys[n] for n in names if n in keys), None)


def owners(kb: "KnowledgeBase") -> set[str]:
    """The departments that are primary for some item or scenario of the list."""
    return {d for i in kb.items.values() for s in (None, *i.scenarios) for d in i.primary_for(s)}


def department_of(kb: "KnowledgeBase", dept: str, item: str) -> str | None:
    """The class of an order: a department of the list, OFF, or None (cannot tell: skipped)."""
    dept, item = dept.strip(), item.strip()
    if item in OFF_WORDS or dept in OFF_WORDS:
        return OFF
    if item:
        if item not in kb.items:
            return None
        primary = kb.items[item].primary_for(None)
        return primary[0] if primary else None
    if not dept:
        return None
    names = {compact(n): d.id for d in kb.departments.values() for n in (d.id, d.name, *d.alt)}
    found = names.get(compact(dept))
    # an office the list does not know, or that owns none of its items: not a 属地管理 matter
    return found if found in owners(kb) else OFF


def read_orders(path: Path, kb: "KnowledgeBase") -> list[Order]:
    rows = _rows(path)
    header = list(rows[0]) if rows else []
    tcol, dcol, icol = _column(header, TEXT_COLUMNS), _column(header, DEPT_COLUMNS), _column(header, ITEM_COLUMNS)
    if tcol is None or (dcol is None and icol is None):
        raise BadInput("工单文件须有“内容”列和“承办单位”或“事项”列",
                       "the orders file needs a text column and a department or item column")
    out = []
    for r in rows:
        text = r.get(tcol, "").strip()
        dept = department_of(kb, r.get(dcol, "") if dcol else "", r.get(icol, "") if icol else "")
        if text and dept is not None:
            out.append(Order(text, dept))
    if len({o.dept for o in out}) < 2:
        raise BadInput("工单太少:至少需要两个不同的承办单位(或清单外)", "too few orders: at least two different departments (or off-list) are needed")
    return out


def kb_training(kb: "KnowledgeBase") -> tuple[list[str], list[str]]:
    """The KB's example calls as (texts, classes): each scenario's by its primary department, the
    off-list calls as OFF."""
    from .normalize import normalize

    texts, labels = [], []
    for item in kb.items.values():
        for sc in item.scenarios:
            primary = item.primary_for(sc)
            for t in kb.examples.get(sc.id, ()):
                texts.append(normalize(t))
                labels.append(primary[0] if primary else OFF)
    for t in kb.out_of_scope_examples:
        texts.append(normalize(t))
        labels.append(OFF)
    return texts, labels


def _answer(kb: "KnowledgeBase", r: "Reading", proba: dict[str, float] | None, weight: float) -> tuple[str, dict[str, float]]:
    """(the department of the top answer, the gate's signals of it)."""
    picks, _ = rerank(kb, r.picks, proba, weight)
    if not picks:
        return OFF, signals(-10.0, 0.0, 0.0, r.norm, proba, None, weight)
    dept = top_dept(kb, picks[0])
    return dept, signals(r.confidence or 0.0, r.matches[0].strength, picks[0].raw, r.norm, proba, dept, weight)


def figures(orders: list[Order], depts: list[str], answered: list[bool], levels: list[str | None] | None = None) -> Figures:
    ins = [n for n, o in enumerate(orders) if o.dept != OFF]
    off = [n for n, o in enumerate(orders) if o.dept == OFF]
    right = [depts[n] == orders[n].dept for n in range(len(orders))]
    out = Figures(len(orders), len(ins), len(off),
                  top1_dept=sum(right[n] for n in ins) / max(len(ins), 1),
                  answered_right=sum(right[n] and answered[n] for n in ins) / max(len(ins), 1),
                  off_list_abstained=sum(not answered[n] for n in off) / max(len(off), 1))
    if levels is not None:
        for name in ("高", "中", "低"):
            sel = [n for n in range(len(orders)) if answered[n] and levels[n] == name]
            if sel:
                out.levels.append({"level": name, "answers": len(sel), "share_correct": round(sum(right[n] for n in sel) / len(sel), 4)})
    return out


def learn(engine: "Engine", county: str, orders: list[Order], folds: int = 5, c: float = 32.0,
          off_target: float = OFF_TARGET) -> tuple[LearnedCounty, Figures, Figures]:
    """(the county's learned model and gate, figures before, cross-validated figures after)."""
    ctx = engine.county(county)
    kb = ctx.kb
    weight = engine.gate_weight
    readings = [engine.read(o.text, county) for o in orders]
    saved, ctx.county_model = ctx.county_model, None  # "before": the KB (and its own gate) alone
    try:
        before = [engine.classify(o.text, 1, county) for o in orders]
    finally:
        ctx.county_model = saved
    before_fig = figures(orders, [r.candidates[0].primary[0].id if r.candidates else OFF for r in before],
                         [r.matched for r in before], [r.level for r in before])
    kb_texts, kb_labels = kb_training(kb)
    fold = [n % folds for n in range(len(orders))]
    rows: list[dict[str, float]] = [{}] * len(orders)
    depts = [OFF] * len(orders)
    for f in range(folds):
        train = [n for n in range(len(orders)) if fold[n] != f]
        model = CountyModel.fit(kb_texts + [readings[n].norm for n in train], kb_labels + [orders[n].dept for n in train], c)
        for n in range(len(orders)):
            if fold[n] == f:
                depts[n], rows[n] = _answer(kb, readings[n], model.proba(readings[n].norm), weight)
    correct = [depts[n] == o.dept and o.dept != OFF for n, o in enumerate(orders)]
    off_list = [o.dept == OFF for o in orders]
    p = cross_probabilities(rows, correct, COUNTY_FEATURES, folds)
    gate = thresholds(fit_gate(rows, correct, COUNTY_FEATURES), p, correct, off_list, off_target)
    gate = gate.model_copy(update={"combine_weight": weight})
    answered = [q >= gate.abstain_below for q in p]
    after_fig = figures(orders, depts, answered, [gate.level(q).name for q in p])
    meta = {"orders": len(orders), "in_scope": after_fig.in_scope, "off_list": after_fig.off_list, "folds": folds, "c": c,
            "before": before_fig.__dict__, "after": after_fig.__dict__, "gate": gate.model_dump()}
    model = CountyModel.fit(kb_texts + [r.norm for r in readings], kb_labels + [o.dept for o in orders], c, meta)
    return LearnedCounty(model, Gate.model_validate(meta["gate"])), before_fig, after_fig


def save(engine: "Engine", county: str, learned: LearnedCounty) -> Path:
    """Write the county's model beside its list; the county's classifier uses it from the next request."""
    folder = learned_dir(engine.root, county)
    learned.model.save(folder)
    engine.invalidate(county)
    return folder


def calibrate_kb(engine: "Engine", county: str, orders: list[Order], folds: int = 5, off_target: float = OFF_TARGET) -> tuple[Gate, Figures]:
    """The gate of the KB alone (no county model), fitted on labelled messages: (gate, its
    cross-validated figures).  Its YAML goes to rules/classifier.yaml `gate:`."""
    kb = engine.county(county).kb
    answers = [_answer(kb, engine.read(o.text, county), None, engine.gate_weight) for o in orders]
    depts, rows = [a[0] for a in answers], [a[1] for a in answers]
    correct = [d == o.dept and o.dept != OFF for d, o in zip(depts, orders)]
    p = cross_probabilities(rows, correct, KB_FEATURES, folds)
    gate = thresholds(fit_gate(rows, correct, KB_FEATURES), p, correct, [o.dept == OFF for o in orders], off_target)
    answered = [q >= gate.abstain_below for q in p]
    return gate, figures(orders, depts, answered, [gate.level(q).name for q in p])
