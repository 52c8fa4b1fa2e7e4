"""A county's own model of which department owns a message, learned from its work orders.

Counties hold years of work orders with the office that handled each.  `shudi learn` trains, beside
the KB, a logistic regression over character 1–3-grams on those orders together with the KB's own
example calls (kb/examples), one class per primary department of the list and one class for "not on
the list" (orders handled by offices that own no list item, and the KB's off-list calls).  Its
probabilities re-rank the KB classifier's candidates and feed the gate (shudi.calibration); the KB
still names the item, the scenario, the article and the evidence of every answer.

The artifact holds weights only, no texts: the n-grams are hashed (crc32) into a fixed number of
buckets, so nothing of an order can be read back from it.  It lives in kb/counties/<id>/learned/,
not in .cache: the orders are not kept by the project, so the model cannot be rebuilt from the KB
and must be versioned and backed up with the county's list (docs/classifier.md).
"""

from __future__ import annotations

import json
import math
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .calibration import Gate

OFF = ""  # the class of messages that are on no item of the list
BUCKETS = 1 << 18
MODEL_FILE = "model.npz"
META_FILE = "model.json"


def grams(text: str) -> Counter[int]:
    """Hashed character 1–3-grams of normalised text (whitespace runs count as one space)."""
    text = " ".join(text.split())
    out: Counter[int] = Counter()
    n = len(text)
    for size in (1, 2, 3):
        for i in range(n - size + 1):
            out[zlib.crc32(text[i : i + size].encode()) & (BUCKETS - 1)] += 1
    return out


def _vector(text: str, idf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    g = grams(text)
    if not g:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.float32)
    idx = np.fromiter(g.keys(), dtype=np.intp, count=len(g))
    w = (1.0 + np.log(np.fromiter(g.values(), dtype=np.float64, count=len(g)))) * idf[idx]
    norm = float(np.linalg.norm(w))
    return idx, (w / norm if norm else w).astype(np.float32)


def matrix(texts: list[str], idf: np.ndarray) -> Any:
    """The TF-IDF rows (scipy CSR) of texts, exactly as `CountyModel.proba` sees a message."""
    from scipy.sparse import csr_matrix

    rows, cols, vals = [], [], []
    for r, t in enumerate(texts):
        idx, w = _vector(t, idf)
        rows.append(np.full(len(idx), r, dtype=np.intp))
        cols.append(idx)
        vals.append(w)
    return csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(len(texts), BUCKETS))


def fit_idf(texts: list[str]) -> np.ndarray:
    df = np.zeros(BUCKETS, dtype=np.float64)
    for t in texts:
        df[list(grams(t))] += 1
    return (np.log((1 + len(texts)) / (1 + df)) + 1.0).astype(np.float32)


@dataclass
class CountyModel:
    classes: list[str]  # department ids, OFF for "not on the list"
    idf: np.ndarray  # BUCKETS
    weights: Any  # scipy CSR, BUCKETS × classes
    intercept: np.ndarray
    meta: dict[str, Any]  # what it was trained on (counts only), its figures, its gate

    @classmethod
    def fit(cls, texts: list[str], labels: list[str], c: float = 32.0, meta: dict[str, Any] | None = None) -> "CountyModel":
        """texts normalised (shudi.normalize); labels department ids or OFF."""
        from scipy.sparse import csr_matrix
        from sklearn.linear_model import LogisticRegression

        idf = fit_idf(texts)
        x = matrix(texts, idf)
        # tol 1e-3: converges in ~45 iterations (18 s on 9,000 texts) to the same answers as 1e-4 in 300
        lr = LogisticRegression(C=c, max_iter=100, tol=1e-3, random_state=0).fit(x, labels)
        coef = lr.coef_ if len(lr.classes_) > 2 else np.vstack([-lr.coef_[0], lr.coef_[0]])
        inter = lr.intercept_ if len(lr.classes_) > 2 else np.array([-lr.intercept_[0], lr.intercept_[0]])
        coef = np.where(np.abs(coef) < 1e-3, 0.0, coef).astype(np.float32)  # most buckets: no weight
        return cls([str(k) for k in lr.classes_], idf, csr_matrix(coef.T), inter.astype(np.float32), meta or {})

    def proba(self, norm: str) -> dict[str, float]:
        """P(class | message) for every class (department id, OFF)."""
        idx, w = _vector(norm, self.idf)
        logits = self.intercept.astype(np.float64).copy()
        if len(idx):
            rows = self.weights[idx]
            logits += rows.T @ w
        logits -= logits.max()
        p = np.exp(logits)
        p /= p.sum()
        return dict(zip(self.classes, p.tolist()))

    # -- the artifact ------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{MODEL_FILE}.tmp.npz"
        w = self.weights.tocsr()
        np.savez_compressed(tmp, idf=self.idf, intercept=self.intercept, data=w.data, indices=w.indices,
                            indptr=w.indptr, shape=np.array(w.shape))
        tmp.replace(folder / MODEL_FILE)
        meta = {"classes": self.classes, **self.meta}
        (folder / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> "CountyModel | None":
        """The county's model, or None when it has learned nothing yet."""
        from scipy.sparse import csr_matrix

        if not (folder / MODEL_FILE).is_file() or not (folder / META_FILE).is_file():
            return None
        z = np.load(folder / MODEL_FILE)
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
        weights = csr_matrix((z["data"], z["indices"], z["indptr"]), shape=tuple(z["shape"]))
        return cls(meta.pop("classes"), z["idf"], weights, z["intercept"], meta)


@dataclass
class LearnedCounty:
    """A county's learned model and the gate calibrated with it (both in kb/counties/<id>/learned/)."""

    model: CountyModel
    gate: Gate

    @classmethod
    def load(cls, folder: Path) -> "LearnedCounty | None":
        model = CountyModel.load(folder)
        if model is None or "gate" not in model.meta:
            return None
        return cls(model, Gate.model_validate(model.meta["gate"]))


def learned_dir(root: Path, county: str) -> Path:
    return root / "kb" / "counties" / county / "learned"


def log_len(text: str) -> float:
    return math.log(1 + len(text))
