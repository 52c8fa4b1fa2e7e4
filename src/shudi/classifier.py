"""Free text → ranked scenarios and items.

Every scenario is a small document made of its trigger phrases, its name, its item's names and,
at a fraction of their weight, the words of its example calls (kb/examples).  A message is scored
against all of them with BM25 (postings as numpy arrays) over three kinds of features:
  w: words from jieba in search mode (whole phrases and their sub-words), with a user dictionary
     generated from the KB's own phrases; a word's weight is its BM25 weight across the KB times
     how specific it is in general Chinese (jieba's own frequency table), so that 我们, 问题,
     孩子, 学校 — context, not matter — weigh little;
  b: Han character bigrams, robust when segmentation differs;
  p: toneless pinyin bigrams, so homophone typos from pinyin input still hit (违章见筑).
Whole trigger phrases found in the message (literally or by pinyin) add phrase evidence, and
rapidfuzz aligns the best near-form (私搭乱建 ~ 乱搭乱建) for the explanation and a bonus.
A linear model learned from the same phrases and the example calls (shudi.learned) ranks the
candidates together with BM25.  Whether the message is on the list at all (abstention) is decided
on its margin over the off-list calls' class plus the word and phrase evidence, against a
threshold calibrated on data (rules/classifier.yaml, docs/classifier.md).
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import pickle
import re
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import ahocorasick
import jieba
import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict
from rapidfuzz import fuzz

from . import learned as learned_module
from .learned import OUT_OF_SCOPE, LearnedScorer, MessageVector
from .model import Item, KnowledgeBase, Scenario
from .normalize import normalize, pinyin_key, syllable

# jieba announces every dictionary load on its own logger ("Building prefix dict…", "Loading
# model cost…"): chatter in every CLI call and in the service log, never news to a user
jieba.setLogLevel(logging.WARNING)

_HAN_RUN = re.compile(r"[\u3400-\u9fff]+")
_WORD_OK = re.compile(r"^[\u3400-\u9fffa-z0-9]{2,}$")


class ClassifierParams(BaseModel):
    """The classifier's parameters.  Their values live only in rules/classifier.yaml (each one
    chosen and explained there); every field is required, so a value missing from the file is
    an error at load instead of a second, silently different default here."""

    model_config = ConfigDict(extra="forbid")
    k1: float
    b: float
    weight_word: float
    weight_bigram: float
    weight_pinyin: float
    phrase_bonus: float
    fuzzy_cutoff: float
    fuzzy_bonus: float
    fuzzy_top: int
    item_name_weight: int
    abstain_below: float
    unsure_below: float  # answered, but shown to users with a low-confidence warning
    score_scale: float
    general_low: float
    general_high: float
    general_floor: float
    bigram_norm: int
    inquiry_factor: float
    word_cap: float
    example_weight: float  # term frequency a word of an example call (示例来电) adds to its scenario
    # the learned linear model (shudi.learned) and how its decision values join BM25's
    learned_c: float  # SVM regularisation
    learned_prune: float  # weights smaller than this are dropped (no measurable accuracy)
    learned_weight: float  # rank = BM25 score/(score+score_scale) + learned_weight·max(0, value+learned_offset)
    learned_offset: float
    learned_out_of_scope: bool  # off-list example calls form a class of their own
    learned_duties: bool  # the item's duty texts teach each of its scenarios
    learned_by_item: bool  # one class per item instead of per scenario
    strength_weight: float  # confidence = margin over the off-list class + strength_weight·evidence strength
    max_candidates: int


def load_params(path: Path) -> ClassifierParams:
    """The parameters of rules/classifier.yaml (`params:`); a missing file or field is an error."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return ClassifierParams.model_validate(data.get("params") or {})


def _features(text: str, tokenizer: jieba.Tokenizer) -> tuple[set[str], list[str]]:
    """(features, words) of normalised text."""
    feats: set[str] = set()
    words = [w for w in tokenizer.lcut_for_search(text, HMM=False) if _WORD_OK.match(w)]
    feats.update("w:" + w for w in words)
    for run in _HAN_RUN.findall(text):
        feats.update("b:" + run[i : i + 2] for i in range(len(run) - 1))
        syl = pinyin_key(run)
        feats.update("p:" + syl[i] + " " + syl[i + 1] for i in range(len(syl) - 1))
    return feats, words


def _message_features(text: str, tokenizer: jieba.Tokenizer) -> tuple[set[str], set[str], set[str], list[str]]:
    """(words, "b:" bigram features, "p:" pinyin pair features, the syllables of all Han characters)
    of normalised text in one walk: the same features as `_features`, by kind."""
    words = {w for w in tokenizer.lcut_for_search(text, HMM=False) if _WORD_OK.match(w)}
    bigrams: set[str] = set()
    pairs: set[str] = set()
    syl: list[str] = []
    for run in _HAN_RUN.findall(text):
        bigrams.update(["b:" + a + b for a, b in zip(run, run[1:])])
        s = [syllable(ch) for ch in run]
        pairs.update(["p:" + a + " " + b for a, b in zip(s, s[1:])])
        syl += s
    return words, bigrams, pairs, syl


def _doc_features(phrases: list[str], tokenizer: jieba.Tokenizer) -> Counter[str]:
    counts: Counter[str] = Counter()
    for ph in phrases:
        feats, _ = _features(ph, tokenizer)
        counts.update(feats)
    return counts


def _read_cache(path: Path, fields: tuple[str, ...] = ()) -> dict[str, Any] | None:
    """The dict pickled at path if it holds exactly `fields` (default: the index's)."""
    try:
        with path.open("rb") as fh:
            state = pickle.load(fh)
    except FileNotFoundError:
        return None
    except Exception:  # noqa: BLE001 - a bad cache is rebuilt, never used
        path.unlink(missing_ok=True)
        return None
    return state if isinstance(state, dict) and set(state) == set(fields or _INDEX_FIELDS) else None


def _write_cache(path: Path, state: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # concurrent builders never share a temp file; the rename is atomic
    tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    with tmp.open("wb") as fh:
        pickle.dump(state, fh, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(path)


def index_key(params: ClassifierParams) -> str:
    """What a cached index depends on besides the KB: the parameters and the code of this module
    and of shudi.learned."""
    h = hashlib.sha256(params.model_dump_json().encode())
    h.update(Path(__file__).read_bytes())
    h.update(Path(learned_module.__file__).read_bytes())  # the index holds a learned model
    return h.hexdigest()[:12]


# the suffix of a word that weighed through the model learned from example calls (what users read)
LEARNED_MARK = "(同类来电用语)"


@dataclass
class ScenarioMatch:
    scenario: Scenario
    item: Item
    raw: float
    evidence: list[str] = field(default_factory=list)
    strength: float = 0.0  # word and phrase evidence only: decides abstention
    margin: float = 0.0  # learned value of this scenario minus that of the off-list class


@dataclass
class _Phrase:
    text: str
    pinyin: str
    scenarios: tuple[int, ...]


# what a built classifier keeps besides its tokenizer: the index cache holds exactly these
_INDEX_FIELDS = ("user_words", "_general_total", "_general_freq", "core_words", "postings", "capped",
                 "phrases", "by_first_bigram", "by_first_syllables", "phrases_of", "learned", "learned_label")


class Classifier:
    """Owns its jieba tokenizer and indexes; read-only after construction (thread-safe).

    Building the index tokenises every trigger phrase and example call; `cache` (a file path) keeps
    it between processes so that a worker starts in about a second (the caller keys the path by
    the KB's fingerprint, the parameters and this module's code)."""

    def __init__(self, kb: KnowledgeBase, params: ClassifierParams, cache: Path | None = None, model_cache: Path | None = None) -> None:
        self.kb = kb
        self.params = params
        self.scenarios: list[Scenario] = [s for i in kb.items.values() for s in i.scenarios]
        self.index = {s.id: n for n, s in enumerate(self.scenarios)}
        self._id_rank = np.argsort(np.argsort(np.array([s.id for s in self.scenarios], dtype=object)))
        self.tokenizer = jieba.Tokenizer()
        self.tokenizer.initialize()
        # learned models are keyed by their training data alone, so any list may share them
        self._cache_dir = model_cache or (cache.parent if cache is not None else None)
        state = _read_cache(cache) if cache is not None else None
        if state is not None:
            for word, freq in state["user_words"]:
                self.tokenizer.add_word(word, freq=freq)
            self.__dict__.update(state)
        else:
            self._build()
            if cache is not None:
                _write_cache(cache, {f: getattr(self, f) for f in _INDEX_FIELDS})
        self._prepare()

    def _build(self) -> None:
        kb, params = self.kb, self.params
        memo: dict[str, str] = {}  # item names recur in every scenario of the item

        def norm(phrase: str) -> str:
            if phrase not in memo:
                memo[phrase] = normalize(phrase)
            return memo[phrase]

        phrases_by_scenario = [[norm(p) for p in self._phrases(s)] for s in self.scenarios]
        # how common each KB word is in general Chinese, read before the KB's words are added
        self._general_total = self.tokenizer.total
        vocab = {w for ps in phrases_by_scenario for p in ps for w in self.tokenizer.lcut_for_search(p, HMM=False)}
        self._general_freq = {w: self.tokenizer.FREQ.get(w, 0) for w in vocab}
        self.user_words: list[tuple[str, int]] = []
        for word in sorted({p for ps in phrases_by_scenario for p in ps}):
            if 2 <= len(word) <= 8 and _WORD_OK.match(word):
                self._general_freq.setdefault(word, self.tokenizer.FREQ.get(word, 0))
                freq = self.tokenizer.suggest_freq(word, tune=False) + 10
                self.tokenizer.add_word(word, freq=freq)
                self.user_words.append((word, freq))
        docs = [_doc_features(ps, self.tokenizer) for ps in phrases_by_scenario]
        # example calls teach how callers describe a scenario (what they see, hear, smell, at
        # length); their words count at a fraction of a trigger's weight so that their many context
        # words do not drown the list's own terms.  Words only: their bigrams added postings (time)
        # and no accuracy in cross-validation on the examples (docs/classifier.md).
        for d, sc in zip(docs, self.scenarios):
            for t in kb.examples.get(sc.id, ()):
                for w in {w for w in self.tokenizer.lcut_for_search(norm(t), HMM=False) if _WORD_OK.match(w)}:
                    # words new to the KB are unchanged by add_word: their general frequency holds
                    self._general_freq.setdefault(w, self.tokenizer.FREQ.get(w, 0))
                    if self.specificity(w) > params.general_floor:  # 我们, 没有, 现在: no signal, only cost
                        d["w:" + w] += params.example_weight
        # words of the official names (事项, 别名, 情形) name the matter itself; words found only in
        # trigger phrases are often context (身份, 快递, 邻居) and are capped in the evidence
        # party names (乡镇, 街道, 村委会) say who, not what: they are never core
        party_words = {
            w for d in kb.departments.values() for name in (d.name, *d.alt)
            for w in self.tokenizer.lcut_for_search(normalize(name), HMM=False)
        }
        self.core_words = {
            w for s in self.scenarios for name in (s.name, kb.items[s.item_id].name, *kb.items[s.item_id].alt_names)
            for w in self.tokenizer.lcut_for_search(normalize(name), HMM=False) if _WORD_OK.match(w)
        } - party_words
        self._build_bm25(docs)
        self._build_phrases(phrases_by_scenario)
        texts = [ph for ps in phrases_by_scenario for ph in ps]
        label_of, label_names = self._learned_labels()
        labels = [label_of[idx] for idx, ps in enumerate(phrases_by_scenario) for _ in ps]
        for idx, sc in enumerate(self.scenarios):
            examples = [norm(t) for t in kb.examples.get(sc.id, ())]
            if params.learned_duties:
                # the list's own administrative wording (负责…的巡查、发现、制止和报告): what a
                # department writes when it hands a task to a township (shudi.delegation)
                item = kb.items[sc.item_id]
                examples += [norm(t) for t in (item.county_duties, item.township_duties, *(p.duties for p in item.supporting)) if t]
            texts += examples
            labels += [label_of[idx]] * len(examples)
        if params.learned_out_of_scope:
            off = [norm(t) for t in kb.out_of_scope_examples]
            texts += off
            labels += [OUT_OF_SCOPE] * len(off)
        self.learned = self._learn(texts, labels, label_names)
        self.learned_label = label_of

    def _learned_labels(self) -> tuple[np.ndarray, list[str]]:
        """(the learned model's class of each scenario, the id each class stands for): the scenario
        itself, or its item (`learned_by_item`: a quarter of the classes to train, the scenario left
        to BM25)."""
        if self.params.learned_by_item:
            items = list(dict.fromkeys(s.item_id for s in self.scenarios))
            return np.array([items.index(s.item_id) for s in self.scenarios], dtype=np.intp), items
        return np.arange(len(self.scenarios), dtype=np.intp), [s.id for s in self.scenarios]

    def _learn(self, texts: list[str], labels: list[int], names: list[str]) -> LearnedScorer | None:
        """Train the learned model, or reuse one trained on exactly these texts and labels: most
        changes to a list (parties, citations, time limits…) leave them as they were, and
        training takes as long as building the rest of the index."""
        p = self.params
        h = hashlib.sha256(f"{p.learned_c} {p.learned_prune} {metadata.version('scikit-learn')}".encode())
        h.update(Path(learned_module.__file__).read_bytes())
        for text, label in zip(texts, labels):
            h.update(f"{names[label] if label >= 0 else '-'}\t{text}\n".encode())
        path = self._cache_dir / f"learned-{h.hexdigest()[:20]}.pickle" if self._cache_dir is not None else None
        state = _read_cache(path, ("model",)) if path is not None else None
        if state is not None:
            return state["model"]
        model = LearnedScorer.fit(texts, labels, p.learned_c, p.learned_prune)
        if path is not None:
            _write_cache(path, {"model": model})
            # keep the most recent: a list under review, and its example counties, switch among a few
            for old in sorted(path.parent.glob("learned-*.pickle"), key=lambda f: f.stat().st_mtime)[:-8]:
                old.unlink(missing_ok=True)
        return model

    def _phrases(self, s: Scenario) -> list[str]:
        item = self.kb.items[s.item_id]
        return [*s.triggers, s.name, *([item.name, *item.alt_names] * self.params.item_name_weight)]

    def specificity(self, word: str) -> float:
        """1 for words rare in general Chinese (渣土, 占道), down to general_floor for 我们, 问题."""
        p = self.params
        surprisal = math.log(self._general_total / (self._general_freq.get(word, 0) + 1))
        return min(1.0, max(p.general_floor, (surprisal - p.general_low) / (p.general_high - p.general_low)))

    def _build_bm25(self, docs: list[Counter[str]]) -> None:
        p = self.params
        n = len(docs)
        df: Counter[str] = Counter()
        for d in docs:
            df.update(d.keys())
        lengths = [sum(d.values()) for d in docs]
        avg = sum(lengths) / max(n, 1)
        kind_weight = {"w": p.weight_word, "b": p.weight_bigram, "p": p.weight_pinyin}
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        idf = {feat: math.log(1 + (n - dfi + 0.5) / (dfi + 0.5)) for feat, dfi in df.items()}
        spec = {feat: self.specificity(feat[2:]) for feat in df if feat[0] == "w"}
        for idx, d in enumerate(docs):
            length_norm = p.k1 * (1 - p.b + p.b * lengths[idx] / avg)
            for feat, tf in d.items():
                w = kind_weight[feat[0]] * spec.get(feat, 1.0)
                postings[feat].append((idx, w * idf[feat] * tf * (p.k1 + 1) / (tf + length_norm)))
        # as arrays, so that a message is scored by a few numpy calls, not a loop per posting
        self.postings: dict[str, tuple[np.ndarray, np.ndarray]] = {
            feat: (np.array([i for i, _ in ps], dtype=np.intp), np.array([w for _, w in ps])) for feat, ps in postings.items()
        }
        # a word's share of the evidence strength: capped unless the word names the matter itself
        self.capped = {
            feat: w if feat[2:] in self.core_words else np.minimum(w, p.word_cap)
            for feat, (_, w) in self.postings.items() if feat[0] == "w"
        }

    def _build_phrases(self, phrases_by_scenario: list[list[str]]) -> None:
        owners: dict[str, set[int]] = defaultdict(set)
        for idx, phrases in enumerate(phrases_by_scenario):
            for ph in phrases:
                if len(ph) >= 2:
                    owners[ph].add(idx)
        self.phrases: list[_Phrase] = []
        self.by_first_bigram: dict[str, list[_Phrase]] = defaultdict(list)
        self.by_first_syllables: dict[str, list[_Phrase]] = defaultdict(list)
        for text, idxs in owners.items():
            syl = pinyin_key(text)
            ph = _Phrase(text, " ".join(syl), tuple(sorted(idxs)))
            self.phrases.append(ph)
            self.by_first_bigram[text[:2]].append(ph)
            if len(syl) >= 2:
                self.by_first_syllables[" ".join(syl[:2])].append(ph)
        self.phrases_of: dict[int, list[str]] = defaultdict(list)
        for ph in self.phrases:
            for idx in ph.scenarios:
                self.phrases_of[idx].append(ph.text)

    def _prepare(self) -> None:
        """What matching needs besides the cached index, derived from it in milliseconds: every
        posting in three flat arrays (a message's postings are then gathered by one numpy index),
        and two Aho-Corasick automata that find every trigger phrase in a message in one pass, by
        its characters and by its pinyin."""
        feats = list(self.postings)
        self._feat_id = {f: k for k, f in enumerate(feats)}
        lens = np.array([len(self.postings[f][0]) for f in feats], dtype=np.intp)
        self._post_len = lens
        self._post_start = np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.intp) if len(lens) else lens
        self._post_idx = np.concatenate([self.postings[f][0] for f in feats]) if feats else np.zeros(0, np.intp)
        self._post_val = np.concatenate([self.postings[f][1] for f in feats]) if feats else np.zeros(0)
        self._post_cap = np.concatenate([self.capped.get(f, self.postings[f][1]) for f in feats]) if feats else np.zeros(0)
        self._phrase_order = {ph.text: k for k, ph in enumerate(self.phrases)}
        self._by_text = ahocorasick.Automaton()
        for ph in self.phrases:
            self._by_text.add_word(ph.text, ph)
        self._by_pinyin = ahocorasick.Automaton()
        for ph in self.phrases:
            if len(ph.text) >= 3 and " " in ph.pinyin:
                self._by_pinyin.add_word(ph.pinyin, ph.pinyin)
        for automaton in (self._by_text, self._by_pinyin):
            if len(automaton):
                automaton.make_automaton()

    def _gather(self, ids: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(scenario index, BM25 weight, capped weight, which of `ids`) of every posting of the features."""
        fid = np.array(ids, dtype=np.intp)
        lens = self._post_len[fid]
        ends = np.cumsum(lens)
        pos = np.repeat(self._post_start[fid] - ends + lens, lens) + np.arange(ends[-1] if len(ends) else 0)
        return self._post_idx[pos], self._post_val[pos], self._post_cap[pos], np.repeat(np.arange(len(fid)), lens)

    def match(self, text: str) -> tuple[str, list[ScenarioMatch]]:
        """(normalised text, scenario matches sorted best first; empty when nothing hit)."""
        p = self.params
        norm = normalize(text)
        words, bigrams, pairs, syl = _message_features(norm, self.tokenizer)
        n = len(self.scenarios)
        # a long message collects many weak bigram hits: damp them so length alone does not score
        damp = min(1.0, math.sqrt(p.bigram_norm / len(bigrams))) if bigrams else 1.0
        fid = self._feat_id
        hit_words = [w for w in words if "w:" + w in fid]
        other = [k for k in (fid.get(f) for f in (*bigrams, *pairs)) if k is not None]
        widx, wval, wcap, wword = self._gather([fid["w:" + w] for w in hit_words])
        oidx, oval, _, _ = self._gather(other)
        scores = np.bincount(widx, wval, minlength=n) + damp * np.bincount(oidx, oval, minlength=n)
        # search mode yields 老年 and 老年人 for one span: count the longest only, and cap each
        # word, so that one context word (身份, 快递, 邻居) cannot carry a message onto the list:
        # a word's posting counts for the strength only where no longer word of the span hit
        pos = {w: k for k, w in enumerate(hit_words)}
        shorter, longer = [], []
        for k, w in enumerate(hit_words):
            for sub in {w[i:j] for i in range(len(w) - 1) for j in range(i + 2, len(w) + (i > 0))}:
                if sub in pos:
                    shorter.append(pos[sub])
                    longer.append(k)
        if shorter:
            lidx, _, _, which = self._gather([fid["w:" + hit_words[k]] for k in longer])
            covered = np.array(shorter, dtype=np.intp)[which] * n + lidx
            keep = ~np.isin(wword * n + widx, covered)
            strength = np.bincount(widx[keep], wcap[keep], minlength=n)
        else:
            strength = np.bincount(widx, wcap, minlength=n)
        evidence: dict[int, list[str]] = defaultdict(list)
        # whole phrases, literally present: in order of where they start, then of the phrase list
        found: set[str] = set()
        if len(self._by_text):
            order = self._phrase_order
            at = sorted(((end - len(ph.text) + 1, order[ph.text], ph) for end, ph in self._by_text.iter(norm)),
                        key=lambda t: t[:2])
            for _, _, ph in at:
                if ph.text not in found:
                    found.add(ph.text)
                    self._phrase_hit(ph, ph.text, scores, evidence, strength)
        # whole phrases by pinyin (homophone typos): a phrase whose first two syllables the message
        # has, and whose pinyin is in the message's, in order of the message's syllable pairs
        if len(self._by_pinyin) and len(syl) > 1:
            present = {ph for _, ph in self._by_pinyin.iter(" ".join(syl))}
            seen: set[str] = set()
            for a, b in zip(syl, syl[1:]):
                first = a + " " + b
                if first in seen:
                    continue
                seen.add(first)
                for ph in self.by_first_syllables.get(first, ()):
                    if ph.text not in found and len(ph.text) >= 3 and ph.pinyin in present:
                        found.add(ph.text)
                        self._phrase_hit(ph, f"{ph.text}(同音)", scores, evidence, strength)
        # near-forms for the best candidates, aligned by rapidfuzz
        top = [int(i) for i in np.argsort(-scores, kind="stable")[: p.fuzzy_top] if scores[i] > 0]
        present = set(norm)
        min_shared = p.fuzzy_cutoff / (200 - p.fuzzy_cutoff)
        for idx in top:
            best, best_ph, span = 0.0, "", ""
            for ph_text in self.phrases_of[idx]:
                if len(ph_text) < 3 or ph_text in found:
                    continue
                # an alignment of m shared characters scores at most 200m/(len+m) (a window cut
                # short at the message's edge), so fewer shared characters than this can never reach
                # the cut-off: an exact filter, far cheaper than aligning
                if len(ph_text) <= len(norm) and sum(ch in present for ch in ph_text) < min_shared * len(ph_text) - 1e-9:
                    continue
                al = fuzz.partial_ratio_alignment(ph_text, norm, score_cutoff=p.fuzzy_cutoff)
                if al is not None and al.score > best:
                    best, best_ph, span = al.score, ph_text, norm[al.dest_start : al.dest_end]
            if best_ph:
                bonus = p.fuzzy_bonus * (best / 100) * min(len(best_ph), 6) / 6
                scores[idx] += bonus
                strength[idx] += bonus
                evidence[idx].append(f"{span}(近似「{best_ph}」)")  # users read it: no scores, no symbols
        if self.learned is not None:
            per_label, off_list, x = self.learned.scores(norm)
            learned = per_label[self.learned_label]
        else:
            learned, off_list, x = np.zeros(n), 0.0, None
        rank = scores / (scores + p.score_scale) + p.learned_weight * np.maximum(learned + p.learned_offset, 0.0)
        touched = np.flatnonzero(rank > 0)
        # best first; summation order varies with set iteration (hash seed), so scores are rounded
        # and ties break by scenario id, the same in every process
        touched = touched[np.lexsort((self._id_rank[touched], -np.round(rank[touched], 9)))][: p.max_candidates]
        raw, power, margin = rank.tolist(), strength.tolist(), (learned - off_list).tolist()
        out = [
            ScenarioMatch(self.scenarios[i], self.kb.items[self.scenarios[i].item_id], raw[i], evidence[i], power[i], margin[i])
            for i in touched.tolist()
        ]
        if hit_words:
            self._explain_flat(out, hit_words, widx, wval, wword)
        if x is not None:
            self._explain_learned(out, x)
        return norm, out

    def _explain_learned(self, out: list[ScenarioMatch], x: MessageVector, items: int = 5) -> None:
        """The character pairs the learned model weighed most, for the best scenario of the first items."""
        seen: set[str] = set()
        for m in out:
            if m.item.id in seen:
                continue
            seen.add(m.item.id)
            if len(seen) > items:
                break
            for pair in self.learned.evidence(x, int(self.learned_label[self.index[m.scenario.id]])):
                # only pairs that are words: 下那, 我家 weigh a little but explain nothing
                if self.tokenizer.FREQ.get(pair) and self.specificity(pair) > self.params.general_floor and not any(pair in e for e in m.evidence):
                    m.evidence.append(f"{pair}{LEARNED_MARK}")

    def _explain(self, out: list[ScenarioMatch], words: list[str], word_idx: list[np.ndarray], word_val: list[np.ndarray]) -> None:
        """Add the words that weighed most to each item's best scenario (what is shown); listing
        them for every scenario a common word touched would cost more than the matching itself."""
        lens = [len(i) for i in word_idx]
        self._explain_flat(out, words, np.concatenate(word_idx), np.concatenate(word_val), np.repeat(np.arange(len(words)), lens))

    def _explain_flat(self, out: list[ScenarioMatch], words: list[str], idx: np.ndarray, val: np.ndarray, word: np.ndarray) -> None:
        """_explain on the postings of the hit words in flat arrays (`word`: which word each is)."""
        best_of: dict[str, ScenarioMatch] = {}
        for m in out:
            best_of.setdefault(m.item.id, m)
        by_index = {self.index[m.scenario.id]: m for m in best_of.values()}
        shown = np.zeros(len(self.scenarios), dtype=bool)
        shown[list(by_index)] = True
        sel = shown[idx]
        idx, val, word = idx[sel], val[sel], word[sel]
        if not len(idx):  # the words hit only scenarios that are not their item's best
            return
        alpha = np.argsort(np.argsort(np.array(words, dtype=object)))  # ties: alphabetical word
        order = np.lexsort((alpha[word], -val, idx))  # per scenario, heaviest word first
        idx, word = idx[order], word[order]
        first = np.r_[True, idx[1:] != idx[:-1]]
        start = np.maximum.accumulate(np.where(first, np.arange(len(idx)), 0))
        top = (np.arange(len(idx)) - start) < 5
        for i, w in zip(idx[top].tolist(), word[top].tolist()):
            m = by_index[i]
            if not any(words[w] in e for e in m.evidence):
                m.evidence.append(words[w])

    def _phrase_hit(self, ph: _Phrase, label: str, scores: np.ndarray, evidence: dict[int, list[str]], strength: np.ndarray) -> None:
        bonus = self.params.phrase_bonus * min(len(ph.text), 6) / 6 / len(ph.scenarios)
        for idx in ph.scenarios:
            scores[idx] += bonus
            strength[idx] += bonus
            evidence[idx].append(label)

    def score01(self, raw: float) -> float:
        return round(raw / (raw + 1.0), 4) if raw > 0 else 0.0

    def confidence(self, m: ScenarioMatch, inquiry: bool = False) -> float:
        """How sure the best scenario is on the list at all: the learned model's margin over the
        off-list class plus the BM25 word and phrase evidence; a service inquiry (怎么办理,
        需要哪些材料) counts its word evidence at 1/inquiry_factor."""
        p = self.params
        return m.margin + p.strength_weight * m.strength / (p.inquiry_factor if inquiry else 1.0)

    def accepts(self, m: ScenarioMatch, inquiry: bool = False) -> bool:
        """On the list, or abstain (threshold calibrated on data: docs/classifier.md)?"""
        return self.confidence(m, inquiry) >= self.params.abstain_below
