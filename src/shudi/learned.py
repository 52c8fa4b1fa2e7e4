"""A linear model of which item (or scenario) a message describes, learned from the KB's own words.

BM25 over trigger phrases (shudi.classifier) is exact and explainable but knows only the words the
list and its example calls use.  A linear SVM over character unigrams and bigrams, trained on the
same trigger phrases, names, duty texts and example calls (kb/examples), weighs every character
pair against every class at once, so the many ways callers describe one thing (俺家楼顶被人盖了间房 …)
pull together even when no trigger phrase is present (docs/classifier.md has the cross-validated
figures).  Its scores rank candidates together with BM25; whether a message is on the list at all
is decided against the off-list calls, trained as a class of their own.

Weights smaller than `prune` are dropped (no measurable accuracy).  The weight matrix is kept dense
(features × items, float32, about 28 MB): a message's rows are then one numpy index, the cheapest
way to score and explain it.  A message is turned into its TF-IDF vector here rather than by the
fitted vectorizer's `transform`, whose input checks cost more than the whole BM25 match;
tests/test_engine.py checks that both give the same vector.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import TfidfVectorizer

OUT_OF_SCOPE = -1  # the class label of calls that are on no item of the list
_SPACES = re.compile(r"\s\s+")  # as the vectorizer's char analyzer collapses them


@dataclass
class MessageVector:
    features: np.ndarray  # feature indices present in the message
    contributions: np.ndarray  # features × classes: model weight × the message's TF-IDF weight


@dataclass
class LearnedScorer:
    vectorizer: "TfidfVectorizer | None"  # after fitting only (not pickled): to check the hand-made vectors against
    vocabulary: dict[str, int]
    idf: np.ndarray
    weights: np.ndarray  # features × classes
    intercept: np.ndarray
    classes: np.ndarray  # scenario indices, and OUT_OF_SCOPE when off-list calls were given
    features: np.ndarray  # feature index → the characters it stands for

    @classmethod
    def fit(cls, texts: list[str], labels: list[int], c: float, prune: float) -> "LearnedScorer | None":
        """texts normalised (shudi.normalize); labels scenario indices or OUT_OF_SCOPE.  None when
        there is nothing to tell apart (a list of one scenario and no off-list calls)."""
        if len(set(labels)) < 2:
            return None
        # scikit-learn only to train: a worker that loads a cached model starts without importing it
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.svm import LinearSVC

        vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32)
        x = vectorizer.fit_transform(texts)
        # a fixed seed: the same KB always learns the same weights (answers do not drift per build)
        svm = LinearSVC(C=c, random_state=0).fit(x, labels)
        coef = svm.coef_ if len(svm.classes_) > 2 else np.vstack([-svm.coef_[0], svm.coef_[0]])
        intercept = svm.intercept_ if len(svm.classes_) > 2 else np.array([-svm.intercept_[0], svm.intercept_[0]])
        coef = np.where(np.abs(coef) < prune, 0.0, coef).astype(np.float32)
        return cls(
            vectorizer=vectorizer,
            vocabulary={str(k): int(v) for k, v in vectorizer.vocabulary_.items()},
            idf=vectorizer.idf_.astype(np.float32),
            weights=np.ascontiguousarray(coef.T),
            intercept=intercept.astype(np.float32),
            classes=np.asarray(svm.classes_),
            features=vectorizer.get_feature_names_out(),
        )

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "vectorizer": None}

    def vector(self, norm: str) -> tuple[np.ndarray, np.ndarray]:
        """(feature indices, weights): sublinear TF × IDF of character uni- and bigrams, L2-normalised."""
        text = _SPACES.sub(" ", norm)
        grams = Counter(text)
        grams.update(text[i : i + 2] for i in range(len(text) - 1))
        vocab = self.vocabulary
        found = [(vocab[g], n) for g, n in grams.items() if g in vocab]
        if not found:
            return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.float32)
        idx = np.array([i for i, _ in found], dtype=np.intp)
        w = (1.0 + np.log(np.array([n for _, n in found], dtype=np.float64))) * self.idf[idx]
        order = np.argsort(idx)
        return idx[order], (w / np.linalg.norm(w))[order].astype(np.float32)

    def scores(self, norm: str) -> tuple[np.ndarray, float, MessageVector]:
        """(decision value per label — item or scenario index —, that of the off-list class or -inf,
        the message's vector)."""
        feats, weights = self.vector(norm)
        contributions = self.weights[feats] * weights[:, None]
        values = contributions.sum(axis=0) + self.intercept
        on_list = self.classes >= 0
        per_label = np.full(int(self.classes.max()) + 1, -np.inf)
        per_label[self.classes[on_list]] = values[on_list]
        off = values[~on_list]
        vec = MessageVector(feats, contributions)
        return per_label, float(off[0]) if len(off) else -np.inf, vec

    def evidence(self, vec: MessageVector, scenario: int, top: int = 3) -> list[str]:
        """The character pairs of the message that weigh most for the scenario."""
        col = int(np.searchsorted(self.classes, scenario))
        if col >= len(self.classes) or self.classes[col] != scenario:
            return []
        contrib = vec.contributions[:, col]
        out: list[str] = []
        for i in np.argsort(-contrib, kind="stable").tolist():
            if contrib[i] <= 0 or len(out) == top:
                break
            name = str(self.features[vec.features[i]])
            if len(name) > 1:  # single characters weigh, but explain nothing
                out.append(name)
        return out
