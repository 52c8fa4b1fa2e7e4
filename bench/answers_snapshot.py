"""The answers of the classifier on a fixed set of messages, to show that a speed change changes
no answer.

    python bench/answers_snapshot.py save  BEFORE.jsonl
    python bench/answers_snapshot.py check BEFORE.jsonl     # prints every difference; exit 1 if any

Messages: the gold set (tests/data/*.jsonl), the KB's example calls (kb/examples/*.yaml, on-list
and off-list), and synthetic long letters of 500 / 1,000 / 3,000 / 5,000 characters made by
joining example calls with greetings, dates and thanks written here.  For each message it keeps
whether it matched and each candidate's (item, scenario, score rounded to 6 places), the
evidence shown, and the best scenario's raw rank and confidence (6 places).  The snapshot is
not committed: save one before a change, check after it.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
LENGTHS = (500, 1000, 3000, 5000)
PER_LENGTH = 12

GREETINGS = ["您好，", "喂，你好，是12345吗？", "领导您好，", "麻烦问一下，", "你好同志，我想反映个事情。", "打扰了，"]
DATES = ["今天是三月十二号，", "上个礼拜二下午，", "2024年6月3日晚上八点左右，", "从去年冬天开始，", "这个月初，", "前天早上七点多，"]
LINKS = ["另外还有一件事，", "还有，", "再说一个情况：", "顺便说一下，", "我再补充一点，", "对了，"]
THANKS = ["谢谢你们了。", "麻烦尽快处理，谢谢！", "辛苦了，盼回复。", "我的电话就是这个号码，有消息请通知我，谢谢。", "先这样，谢谢。"]


def example_calls() -> list[tuple[str, str]]:
    """(where, text) of every example call, in file order."""
    out: list[tuple[str, str]] = []
    for path in sorted((ROOT / "kb" / "examples").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for group in data.get("examples") or []:
            out += [(f"{path.stem}:{group['scenario']}", t) for t in group["texts"]]
        out += [(f"{path.stem}:out_of_scope", t) for t in data.get("out_of_scope") or []]
    return out


def letters(calls: list[str]) -> list[tuple[str, str]]:
    """Long letters: example calls joined with filler, cut to exactly each length."""
    out: list[tuple[str, str]] = []
    for length in LENGTHS:
        for n in range(PER_LENGTH):
            rnd = random.Random(length * 1000 + n)
            parts = [rnd.choice(GREETINGS), rnd.choice(DATES)]
            while sum(map(len, parts)) < length:
                parts += [rnd.choice(calls), rnd.choice(THANKS) if rnd.random() < 0.3 else "", rnd.choice(LINKS), rnd.choice(DATES)]
            out.append((f"letter-{length}-{n}", "".join(parts)[: length - 6] + rnd.choice(THANKS)[:6]))
    return out


def messages() -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for path in sorted((ROOT / "tests" / "data").glob("*.jsonl")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            if line.strip():
                out.append((f"{path.stem}:{n}", json.loads(line)["text"]))
    calls = example_calls()
    out += [(f"{where}:{n}", t) for n, (where, t) in enumerate(calls)]
    out += letters([t for _, t in calls])
    return out


def answers() -> list[dict]:
    sys.path[:0] = [str(ROOT / "src")]
    from shudi.engine import Engine
    from shudi.cues import CueReader

    engine = Engine(ROOT)
    ctx = engine.county()
    rows = []
    for key, text in messages():
        res = engine.classify(text[:5000], top_k=3)
        norm, matches = ctx.classifier.match(text[:5000])
        best = matches[0] if matches else None
        inquiry = CueReader.facts(engine.cues.read(norm)).get("inquiry") == "true"
        rows.append({
            "key": key,
            "len": len(text),
            "matched": res.matched,
            "candidates": [[c.item.id, c.scenario.id if c.scenario else None, round(c.score, 6)] for c in res.candidates],
            "evidence": [c.evidence for c in res.candidates],
            "best": [best.scenario.id, round(best.raw, 6), round(ctx.classifier.confidence(best, inquiry), 6)] if best else None,
            "normalized": res.normalized,
        })
    return rows


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("save", "check"):
        print(__doc__)
        return 2
    mode, path = argv[0], Path(argv[1])
    rows = answers()
    if mode == "save":
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        print(f"{len(rows)} messages saved to {path}")
        return 0
    before = {r["key"]: r for r in map(json.loads, path.read_text(encoding="utf-8").splitlines())}
    diffs = 0
    for r in rows:
        old = before.pop(r["key"], None)
        if old != r:
            diffs += 1
            fields = [k for k in r if old is None or old.get(k) != r[k]]
            print(f"DIFF {r['key']} ({r['len']} chars): {', '.join(fields)}")
            for k in fields:
                print(f"   before: {None if old is None else old.get(k)}\n   after:  {r[k]}")
    diffs += len(before)
    for key in before:
        print(f"MISSING {key}")
    print(f"{len(rows)} messages, {diffs} differences")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
