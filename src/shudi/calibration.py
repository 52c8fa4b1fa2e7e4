"""Whether to answer, and how sure the answer is: a logistic gate and calibrated levels 高/中/低.

The KB classifier's confidence (learned margin over the off-list class + BM25 evidence) was tuned
on invented calls; on real letters a threshold on it either answers most off-list letters or
abstains on many list matters.  The gate is a logistic regression, stacked on a few signals of one
answer — the KB confidence, the BM25 evidence, the best rank score, the length of the message and,
when the county has learned from its work orders (shudi.countymodel), the county model's
probability that the message is off the list and that the top department owns it — estimating
the probability that the top answer names the right primary department.  Under `abstain_below` the
answer is "no match"; above it the probability falls into a level whose share of correct answers
was measured by cross-validation (rules/classifier.yaml for the KB alone, the county's
learned/model.json after `shudi learn`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from .engine import Pick
    from .model import KnowledgeBase

# the signals of one answer, in the order the gate's coefficients are given
KB_FEATURES = ("confidence", "strength", "top_raw", "log_len")
COUNTY_FEATURES = (*KB_FEATURES, "log_p_off", "p_top_dept", "top_combined")
LEVELS = ("高", "中", "低")


class Level(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str  # 高 / 中 / 低
    min_probability: float  # the gate's probability from which an answer has this level
    share_correct: float | None = None  # measured share of answered messages with the right department
    answers: int = 0  # how many measured answers fell into the level


class Gate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    features: list[str]
    coef: list[float]
    intercept: float
    scale_mean: list[float]  # features are standardised with these before the coefficients apply
    scale_std: list[float]
    abstain_below: float
    combine_weight: float = 1.0  # rank of a candidate = KB rank score + combine_weight × P(its department)
    levels: list[Level] = Field(default_factory=list)  # best first
    measured: dict[str, float | int | str] = Field(default_factory=dict)  # how the thresholds were chosen

    def probability(self, signals: dict[str, float]) -> float:
        z = self.intercept
        for name, c, m, s in zip(self.features, self.coef, self.scale_mean, self.scale_std):
            z += c * (signals.get(name, 0.0) - m) / s
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def level(self, p: float) -> Level:
        for lv in self.levels:
            if p >= lv.min_probability:
                return lv
        return self.levels[-1]


def signals(confidence: float, strength: float, top_raw: float, norm: str,
            proba: dict[str, float] | None = None, top_dept: str | None = None, weight: float = 1.0) -> dict[str, float]:
    out = {"confidence": confidence, "strength": math.log1p(max(strength, 0.0)), "top_raw": top_raw,
           "log_len": math.log1p(len(norm))}
    if proba is not None:
        p_top = proba.get(top_dept or "", 0.0)
        out.update(log_p_off=math.log(max(proba.get("", 0.0), 1e-6)), p_top_dept=p_top, top_combined=top_raw + weight * p_top)
    return out


def fit_gate(rows: Sequence[dict[str, float]], correct: Sequence[bool], features: Sequence[str], c: float = 1.0) -> Gate:
    """A gate fitted on signals of answers whose truth is known; its thresholds are set apart, on
    out-of-fold probabilities (`cross_probabilities`, `thresholds`)."""
    from sklearn.linear_model import LogisticRegression

    x = np.array([[r.get(f, 0.0) for f in features] for r in rows], dtype=np.float64)
    y = np.asarray(correct, dtype=bool)
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
    lr = LogisticRegression(C=c, max_iter=1000).fit((x - mean) / std, y)
    gate = Gate(features=list(features), coef=[float(v) for v in lr.coef_[0]], intercept=float(lr.intercept_[0]),
                scale_mean=[float(v) for v in mean], scale_std=[float(v) for v in std], abstain_below=0.5)
    return gate


def thresholds(gate: Gate, p: Sequence[float], correct: Sequence[bool], off_list: Sequence[bool], off_target: float,
               high_share: float = 0.9, mid_share: float = 0.7) -> Gate:
    """Set the gate's abstention threshold and levels from probabilities of messages whose truth
    is known (out-of-fold: the gate never saw them)."""
    p_arr, ok, off = np.asarray(p), np.asarray(correct, dtype=bool), np.asarray(off_list, dtype=bool)
    off_p = np.sort(p_arr[off])
    # the smallest threshold abstaining on off_target of the off-list messages
    k = int(math.ceil(off_target * len(off_p))) - 1
    abstain = float(off_p[k]) + 1e-6 if len(off_p) else 0.5
    answered = p_arr >= abstain

    def cut(share: float, below: float) -> float:
        # the smallest probability from which the answered messages in [it, below) are `share` right
        sel = answered & (p_arr < below)
        order = np.argsort(-p_arr[sel])
        ps, oks = p_arr[sel][order], ok[sel][order]
        run = np.cumsum(oks) / np.arange(1, len(oks) + 1)
        good = np.flatnonzero(run >= share)
        return float(ps[good[-1]]) if len(good) else below

    high = max(cut(high_share, 2.0), abstain)
    mid = min(max(cut(mid_share, high), abstain), high)
    levels = []
    for name, lo, hi in (("高", high, 2.0), ("中", mid, high), ("低", abstain, mid)):
        sel = answered & (p_arr >= lo) & (p_arr < hi)
        levels.append(Level(name=name, min_probability=round(lo, 4), answers=int(sel.sum()),
                            share_correct=round(float(ok[sel].mean()), 4) if sel.any() else None))
    in_scope = ~off
    measured = {
        "messages": int(len(p_arr)), "off_list": int(off.sum()),
        "off_list_abstained": round(float((~answered[off]).mean()), 4) if off.any() else 0.0,
        "in_scope_answered_right": round(float((answered & ok)[in_scope].mean()), 4) if in_scope.any() else 0.0,
    }
    return gate.model_copy(update={"abstain_below": round(abstain, 4), "levels": levels, "measured": measured})


def cross_probabilities(rows: Sequence[dict[str, float]], correct: Sequence[bool], features: Sequence[str],
                        folds: int = 5, c: float = 1.0) -> list[float]:
    """Each row's gate probability from a gate fitted on the other folds."""
    n = len(rows)
    out = [0.0] * n
    fold = np.arange(n) % folds
    for f in range(folds):
        train = [i for i in range(n) if fold[i] != f]
        if len({bool(correct[i]) for i in train}) < 2:
            continue
        g = fit_gate([rows[i] for i in train], [correct[i] for i in train], features, c=c)
        for i in range(n):
            if fold[i] == f:
                out[i] = g.probability(rows[i])
    return out


def load_gate(path: Path) -> Gate | None:
    """The gate of the KB alone (rules/classifier.yaml `gate:`), or None: then the classifier's own
    threshold decides (abstain_below, unsure_below)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    return Gate.model_validate(data["gate"]) if data and data.get("gate") else None


def top_dept(kb: "KnowledgeBase", pick: "Pick") -> str:
    primary = pick.item.primary_for(pick.scenario)
    return primary[0] if primary else ""


def rerank(kb: "KnowledgeBase", picks: list["Pick"], proba: dict[str, float] | None, weight: float) -> tuple[list["Pick"], list[float]]:
    """The KB's candidates, re-ranked by the county model's probability of their primary
    department (picks best first, their combined scores); unchanged without a county model.  The
    answer is always one of the KB's own candidates, so the KB explains it."""
    if proba is None or not picks:
        return picks, [p.raw for p in picks]
    scored = [(p.raw + weight * proba.get(top_dept(kb, p), 0.0), n, p) for n, p in enumerate(picks)]
    scored.sort(key=lambda t: (-round(t[0], 9), t[1]))
    return [p for _, _, p in scored], [c for c, _, _ in scored]
