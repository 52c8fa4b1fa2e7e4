"""Cross-validation on the KB's own example calls (示例来电, kb/examples/).

Each fold builds the classifier with the other folds' examples and classifies its own, so the
figures say how well example calls teach the classifier about messages it has not seen. This is
how `example_weight` and the learned model's parameters were chosen (docs/classifier.md); the
gold set in tests/data is not used.  Off-list calls are split the same way, since the learned
model trains on them too.

    python -m bench.crossval [--folds 2] [--weights 0.2,0.3,0.5]
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass, field

from bench.evaluate import abstention_threshold, fold_of
from shudi.classifier import Classifier, ClassifierParams
from shudi.cues import CueReader
from shudi.engine import Engine
from shudi.model import KnowledgeBase


@dataclass
class CrossValidation:
    folds: int
    example_weight: float
    in_scope: int = 0
    top1_department: int = 0
    top1_item: int = 0
    top3_item: int = 0
    wrongly_abstained: int = 0
    out_of_scope: int = 0
    abstained: int = 0
    off_list_confidence: list[float] = field(default_factory=list)  # Classifier.confidence of each off-list call

    def report(self) -> str:
        def pct(a: int, b: int) -> str:
            return f"{100 * a / b:.1f}%" if b else "n/a"

        return (
            f"example calls, {self.folds}-fold cross-validation (example_weight {self.example_weight}): "
            f"{self.in_scope} in scope — top-1 department {pct(self.top1_department, self.in_scope)}, "
            f"top-1 item {pct(self.top1_item, self.in_scope)}, top-3 item {pct(self.top3_item, self.in_scope)}, "
            f"wrongly abstained {pct(self.wrongly_abstained, self.in_scope)}; "
            f"{self.out_of_scope} off-list calls — abstained {pct(self.abstained, self.out_of_scope)}"
        )

    def threshold(self, min_abstain: float = 0.90) -> float:
        """The abstention threshold that would answer "no match" to min_abstain of the off-list calls."""
        return abstention_threshold(self.off_list_confidence, min_abstain)


def cross_validate(kb: KnowledgeBase, params: ClassifierParams, folds: int = 2, cues: CueReader | None = None) -> CrossValidation:
    """cues: read service inquiries as the engine does (their word evidence counts less)."""
    cv = CrossValidation(folds=folds, example_weight=params.example_weight)

    def is_inquiry(norm: str) -> bool:
        return cues is not None and cues.is_inquiry(norm)

    for k in range(folds):
        train = {sid: tuple(t for t in texts if fold_of(t, folds) != k) for sid, texts in kb.examples.items()}
        off_list = tuple(t for t in kb.out_of_scope_examples if fold_of(t, folds) != k)
        clf = Classifier(dataclasses.replace(kb, examples=train, out_of_scope_examples=off_list), params)
        for sid, texts in kb.examples.items():
            scenario = kb.scenarios[sid]
            item = kb.items[scenario.item_id]
            for text in texts:
                if fold_of(text, folds) != k:
                    continue
                cv.in_scope += 1
                norm, matches = clf.match(text)
                inquiry = is_inquiry(norm)
                if not matches or not clf.accepts(matches[0], inquiry):
                    cv.wrongly_abstained += 1
                    continue
                best = matches[0]
                cv.top1_department += best.item.primary_for(best.scenario)[:1] == item.primary_for(scenario)[:1]
                cv.top1_item += best.item.id == item.id
                cv.top3_item += item.id in list(dict.fromkeys(m.item.id for m in matches))[:3]
        for text in kb.out_of_scope_examples:
            if fold_of(text, folds) == k:
                cv.out_of_scope += 1
                norm, matches = clf.match(text)
                inquiry = is_inquiry(norm)
                cv.abstained += not matches or not clf.accepts(matches[0], inquiry)
                cv.off_list_confidence.append(clf.confidence(matches[0], inquiry) if matches else float("-inf"))
    return cv


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="cross-validate the classifier on the KB's example calls")
    ap.add_argument("--folds", type=int, default=2)
    ap.add_argument("--weights", default="", help="comma-separated example_weight values to compare (default: the configured one)")
    args = ap.parse_args(argv)
    engine = Engine()
    kb = engine.county().kb
    weights = [float(w) for w in args.weights.split(",") if w.strip()] or [engine.params.example_weight]
    for w in weights:
        cv = cross_validate(kb, engine.params.model_copy(update={"example_weight": w}), args.folds, engine.cues)
        print(cv.report())
        print(f"abstention threshold that answers no match to ≥90% of the off-list calls: {cv.threshold()}")


if __name__ == "__main__":
    main()
