"""Accuracy of the classifier on the gold set (tests/data/gold-*.jsonl).

The gold set is split deterministically by a hash of each message into a `tune` half (used to
calibrate parameters such as the abstention threshold) and a `holdout` half (reported only), so
figures on the holdout half estimate accuracy on messages nobody tuned for.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from shudi.engine import Engine


def fold_of(text: str, folds: int) -> int:
    """A stable fold per text (not Python's salted hash), so splits are the same in every run."""
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16) % folds


@dataclass(frozen=True)
class GoldCase:
    text: str
    oos: bool
    domain: str | None = None
    item: str | None = None
    primary: str | None = None
    also: str | None = None
    style: str = "standard"

    @property
    def split(self) -> str:
        return "tune" if fold_of(self.text, 2) == 0 else "holdout"


def load_gold(data_dir: Path) -> list[GoldCase]:
    cases: list[GoldCase] = []
    for path in sorted(data_dir.glob("gold-*.jsonl")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{n}: {exc}") from exc
            cases.append(GoldCase(
                text=row["text"], oos=bool(row.get("oos")), domain=row.get("domain"), item=row.get("item"),
                primary=row.get("primary"), also=row.get("also"), style=row.get("style", "standard"),
            ))
    return cases


@dataclass
class Outcome:
    case: GoldCase
    matched: bool
    items: list[str]
    primary: list[str]
    domain: str | None
    confidence: float  # of the best scenario (Classifier.confidence): what abstention is decided on


@dataclass
class Report:
    n_in: int = 0
    n_oos: int = 0
    top1_primary: float = 0.0
    top1_item: float = 0.0
    top3_item: float = 0.0
    abstain_recall: float = 0.0
    abstain_precision: float = 0.0
    false_abstain: float = 0.0
    also_top3: float = 0.0
    per_domain: dict[str, float] = field(default_factory=dict)
    per_style: dict[str, float] = field(default_factory=dict)
    confusion: dict[str, Counter[str]] = field(default_factory=dict)
    errors: list[Outcome] = field(default_factory=list)


def run_cases(engine: Engine, cases: list[GoldCase], county: str | None = None) -> list[Outcome]:
    out = []
    classifier = engine.county(county).classifier
    for case in cases:
        result = engine.classify(case.text, top_k=3, county=county)
        norm, matches = classifier.match(case.text)
        inquiry = engine.cues.is_inquiry(norm)
        out.append(Outcome(
            case=case,
            matched=result.matched,
            items=[c.item.id for c in result.candidates],
            primary=[p.id for p in result.candidates[0].primary] if result.candidates else [],
            domain=result.candidates[0].domain.id if result.candidates else None,
            confidence=classifier.confidence(matches[0], inquiry) if matches else float("-inf"),
        ))
    return out


def _ratio(a: int, b: int) -> float:
    return round(a / b, 4) if b else 0.0


def score(outcomes: list[Outcome]) -> Report:
    r = Report()
    ins = [o for o in outcomes if not o.case.oos]
    oos = [o for o in outcomes if o.case.oos]
    r.n_in, r.n_oos = len(ins), len(oos)
    r.top1_primary = _ratio(sum(o.matched and o.case.primary in o.primary[:1] for o in ins), len(ins))
    r.top1_item = _ratio(sum(o.matched and o.items[:1] == [o.case.item] for o in ins), len(ins))
    r.top3_item = _ratio(sum(o.matched and o.case.item in o.items[:3] for o in ins), len(ins))
    also = [o for o in ins if o.case.also]
    r.also_top3 = _ratio(sum(o.case.also in o.items[:3] and o.case.item in o.items[:3] for o in also), len(also))
    abstained = [o for o in outcomes if not o.matched]
    r.abstain_recall = _ratio(sum(not o.matched for o in oos), len(oos))
    r.abstain_precision = _ratio(sum(o.case.oos for o in abstained), len(abstained))
    r.false_abstain = _ratio(sum(not o.matched for o in ins), len(ins))
    by_domain: dict[str, list[Outcome]] = defaultdict(list)
    by_style: dict[str, list[Outcome]] = defaultdict(list)
    for o in ins:
        by_domain[o.case.domain or "?"].append(o)
        by_style[o.case.style].append(o)
    r.per_domain = {d: _ratio(sum(o.matched and o.case.primary in o.primary[:1] for o in os), len(os)) for d, os in sorted(by_domain.items())}
    r.per_style = {s: _ratio(sum(o.matched and o.case.primary in o.primary[:1] for o in os), len(os)) for s, os in sorted(by_style.items())}
    for o in outcomes:
        gold = "out-of-scope" if o.case.oos else (o.case.domain or "?")
        pred = o.domain if o.matched and o.domain else "abstain"
        r.confusion.setdefault(gold, Counter())[pred] += 1
    r.errors = [o for o in ins if not (o.matched and o.case.primary in o.primary[:1])]
    return r


def abstention_threshold(off_list: list[float], min_abstain: float = 0.90) -> float:
    """The smallest threshold (to 0.001) on the best scenario's confidence under which at least
    `min_abstain` of the off-list messages fall, i.e. are answered "no match"; the smallest such
    threshold keeps the most in-scope messages."""
    if not off_list:
        return float("-inf")
    values = sorted(off_list)
    boundary = values[math.ceil(min_abstain * len(values)) - 1]  # must itself be abstained on
    return math.floor(boundary * 1000) / 1000 + 0.001 if math.isfinite(boundary) else -1e9


def calibrate(outcomes: list[Outcome], min_oos_abstain: float = 0.90) -> float:
    """abstention_threshold on the gold set's out-of-scope messages (service inquiries count with
    their stricter bar, as in the engine)."""
    return abstention_threshold([o.confidence for o in outcomes if o.case.oos], min_oos_abstain)


def format_report(title: str, r: Report) -> str:
    lines = [
        f"== {title}: {r.n_in} in-scope, {r.n_oos} out-of-scope",
        f"top-1 primary-department accuracy  {r.top1_primary:.1%}",
        f"top-1 item accuracy                {r.top1_item:.1%}",
        f"top-3 item recall                  {r.top3_item:.1%}",
        f"two-matter messages, both in top 3 {r.also_top3:.1%}",
        f"out-of-scope abstained (recall)    {r.abstain_recall:.1%}",
        f"abstention precision               {r.abstain_precision:.1%}",
        f"in-scope wrongly abstained         {r.false_abstain:.1%}",
        "per-domain top-1 department accuracy:",
        *(f"  {d:28} {v:.1%}" for d, v in r.per_domain.items()),
        "per-style top-1 department accuracy:",
        *(f"  {s:28} {v:.1%}" for s, v in r.per_style.items()),
    ]
    cols = sorted({c for row in r.confusion.values() for c in row})
    short = {c: c[:6] for c in cols}
    lines.append("confusion (rows gold domain, columns predicted top-1 domain):")
    lines.append(" " * 28 + " ".join(f"{short[c]:>7}" for c in cols))
    for gold, row in sorted(r.confusion.items()):
        lines.append(f"  {gold:26}" + " ".join(f"{row.get(c, 0):7d}" for c in cols))
    return "\n".join(lines)
