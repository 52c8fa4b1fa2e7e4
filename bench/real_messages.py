"""Figures on real citizens' messages (issue: real 12345 / 问政 letters).

The texts stay outside the project (../shared/real-messages, see its README); the labels, by
message id, are in bench/data/real-labels.jsonl: item, scenario and primary department under the
list, or "off-list", judged by people who never saw the classifier's output.  The labels are split
once, by a hash of the id, into a tune part (two thirds: used to choose anything) and a holdout
part (one third: only reported).

    python -m bench.real_messages [--split tune|holdout|all] [--errors N] [--learn] [--calibrate]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "bench" / "data" / "real-labels.jsonl"
SHARED = ROOT.parent / "shared" / "real-messages"


def split_of(message_id: str) -> str:
    return "holdout" if int(hashlib.sha1(message_id.encode()).hexdigest(), 16) % 3 == 0 else "tune"


@dataclass
class Labelled:
    id: str
    text: str
    label: str  # item | off-list | unclear
    item: str | None
    primary: str | None
    also: list[str]
    split: str


def message_text(m: dict) -> str:
    """Title and body as a citizen wrote them (the title on its own line, when there is one)."""
    title, body = (m.get("title") or "").strip(), (m.get("text") or "").strip()
    return f"{title}\n{body}" if title and not body.startswith(title) else body


def load(split: str = "all") -> list[Labelled] | None:
    """The labelled messages of a split, or None when ../shared/real-messages is not beside the project."""
    if not SHARED.is_dir():
        return None
    texts: dict[str, str] = {}
    for f in SHARED.glob("*.jsonl"):
        for line in f.open(encoding="utf-8"):
            m = json.loads(line)
            texts[m["id"]] = message_text(m)
    out = []
    for line in LABELS.open(encoding="utf-8"):
        r = json.loads(line)
        s = split_of(r["id"])
        if split in ("all", s) and r["id"] in texts:
            out.append(Labelled(r["id"], texts[r["id"]], r["label"], r.get("item"), r.get("primary"), r.get("also") or [], s))
    return out


def evaluate(engine, rows: list[Labelled], errors: int = 0) -> dict[str, float]:  # noqa: ANN001
    n_in = top1 = top3 = item1 = abst_in = 0
    n_off = abst_off = 0
    levels: Counter[tuple[str, bool]] = Counter()
    shown = 0
    for r in rows:
        if r.label == "unclear":
            continue
        res = engine.classify(r.text[:5000], top_k=3)
        cands = res.candidates
        level = res.level
        if r.label == "off-list":
            n_off += 1
            abst_off += not res.matched
            if res.matched and level:
                levels[(level, False)] += 1
            if res.matched and shown < errors:
                shown += 1
                print(f"OFF  {r.id} -> {cands[0].item.id} {cands[0].primary[0].id}  {cands[0].evidence[:6]}")
            continue
        n_in += 1
        if not res.matched:
            abst_in += 1
            if shown < errors:
                shown += 1
                print(f"MISS {r.id} want {r.item} {r.primary}: no match")
            continue
        ok = bool(cands) and r.primary in {p.id for p in cands[0].primary}
        top1 += ok
        item1 += cands[0].item.id == r.item
        top3 += any(r.primary in {p.id for p in c.primary} for c in cands[:3])
        if level:
            levels[(level, ok)] += 1
        if not ok and shown < errors:
            shown += 1
            print(f"WRONG {r.id} want {r.item} {r.primary} got {cands[0].item.id} {cands[0].primary[0].id} {cands[0].evidence[:6]}")
    out = {
        "in_scope": n_in, "off_list": n_off,
        "top1_dept": top1 / max(n_in, 1), "top1_item": item1 / max(n_in, 1), "top3_dept": top3 / max(n_in, 1),
        "in_scope_abstained": abst_in / max(n_in, 1), "off_list_abstained": abst_off / max(n_off, 1),
    }
    for level in ("高", "中", "低"):
        right, wrong = levels[(level, True)], levels[(level, False)]
        if right + wrong:
            out[f"level_{level}_share_correct"] = right / (right + wrong)
            out[f"level_{level}_answers"] = right + wrong
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", default="tune", choices=("tune", "holdout", "all"))
    ap.add_argument("--errors", type=int, default=0)
    ap.add_argument("--learn", action="store_true",
                    help="train the county model on the tune labels (shudi.learning) and measure --split with it")
    ap.add_argument("--calibrate", action="store_true",
                    help="fit the KB's own gate on the tune labels (cross-validated) and print it for rules/classifier.yaml")
    args = ap.parse_args(argv)
    rows = load(args.split)
    if rows is None:
        print(f"real messages: not measured — {SHARED} is not beside the project")
        return 0
    from shudi.engine import Engine

    engine = Engine()
    if args.learn or args.calibrate:
        from shudi.learning import calibrate_kb, learn

        orders = as_orders(load("tune") or [])
        if args.calibrate:
            gate, fig = calibrate_kb(engine, engine.default_county, orders)
            print("# cross-validated on the tune labels:", json.dumps(fig.__dict__, ensure_ascii=False))
            print(yaml.safe_dump({"gate": gate.model_dump()}, allow_unicode=True, sort_keys=False))
            return 0
        learned, before, after = learn(engine, engine.default_county, orders)
        print(json.dumps({"learned_on": "tune", "cv_before": before.__dict__, "cv_after": after.__dict__}, ensure_ascii=False))
        engine.county().county_model = learned  # in memory only: the project's county stays as it is
    figures = evaluate(engine, rows, args.errors)
    print(json.dumps({"split": args.split, "learned": args.learn, **{k: round(v, 4) for k, v in figures.items()}}, ensure_ascii=False))
    print(reliability(figures))
    return 0


def as_orders(rows: list[Labelled]) -> list:  # noqa: ANN401
    from shudi.learning import OFF, Order

    return [Order(r.text, r.primary if r.label == "item" and r.primary else OFF) for r in rows if r.label != "unclear"]


def reliability(figures: dict[str, float]) -> str:
    """The reliability table: per confidence level, answers and the share with the right department
    (off-list messages answered count as wrong)."""
    lines = ["level  answers  share correct"]
    for level in ("高", "中", "低"):
        n = int(figures.get(f"level_{level}_answers", 0))
        share = figures.get(f"level_{level}_share_correct")
        lines.append(f"{level}      {n:7d}  {share:.1%}" if share is not None else f"{level}      {n:7d}  —")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
