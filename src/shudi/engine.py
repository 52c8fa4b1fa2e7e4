"""The engine: the one owner of loaded knowledge bases, classifiers and the rules host.

Create one `Engine` per process (the service keeps it in app.state, the CLI makes one per
command); everything it holds is read-only after loading except the county cache, which is
guarded by a lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .calibration import Level, load_gate, rerank, signals, top_dept
from .classifier import Classifier, ScenarioMatch, index_key, load_params
from .contract import Candidate, CitationOut, ClassifyResult, Ref, SupportingParty
from .countymodel import META_FILE, LearnedCounty, learned_dir
from .cues import CueHit, CueReader
from .errors import NotFound
from .kb import KBLoadError, LoadedKB, UnknownCounty, county_file, load
from .letters import LetterReader, merge
from .model import Citation, Item, KnowledgeBase, Scenario
from .normalize import has_han, normalize
from .offlist import TopicReader
from .policy import load_profiles
from .rules import Firing, RulesEngine
from .settings import Settings

# the slow stage of a first start (or after the list changed): shudi.startup tells users about it
BUILDING = "正在构建检索索引并训练模型"
RULE_FILES = ("determination.yaml", "precheck.yaml", "delegation.yaml")


@dataclass
class CountyContext:
    loaded: LoadedKB
    classifier: Classifier
    stamp: int
    county_model: LearnedCounty | None = None  # learned from the county's work orders (shudi learn)

    @property
    def kb(self) -> KnowledgeBase:
        return self.loaded.kb


@dataclass
class Reading:
    norm: str
    matches: list[ScenarioMatch]
    picks: list["Pick"]
    hits: list[CueHit]
    text_facts: dict[str, str]
    inquiry: bool
    confidence: float | None


@dataclass
class Pick:
    """A candidate item with the scenario chosen for it and why."""

    item: Item
    scenario: Scenario | None
    raw: float
    evidence: list[str]
    rules: list[str] = field(default_factory=list)


def citation_out(c: Citation) -> CitationOut:
    return CitationOut(
        law=c.law_title,
        law_id=c.law_id,
        version=c.version,
        superseded=c.superseded,
        article=c.article_label,
        article_number=c.article,
        paragraph=c.paragraph,
        clause=c.clause,
        label=c.label,
        text=c.text,
    )


class Engine:
    def __init__(self, root: Path | None = None, default_county: str | None = None, use_cache: bool = True,
                 settings: Settings | None = None, progress: Callable[[str], None] | None = None) -> None:
        # a root or county given here (tests, scratch copies) overrides the settings' own
        settings = settings or Settings()
        update = {k: v for k, v in (("root", root), ("county", default_county)) if v is not None}
        self.settings = settings.model_copy(update=update) if update else settings
        self.root = self.settings.root
        self.default_county = self.settings.county
        # progress: told in plain Chinese what loading is doing (the service's /readyz shows it)
        self._progress = progress or (lambda _stage: None)
        self.use_cache = use_cache
        rules_dir = self.root / "rules"
        self.rules = RulesEngine([rules_dir / f for f in RULE_FILES if (rules_dir / f).is_file()])
        self.params = load_params(rules_dir / "classifier.yaml")
        self.cues = CueReader(rules_dir / "cues.yaml")
        self.letters = LetterReader(rules_dir / "letters.yaml")
        self.gate = load_gate(rules_dir / "classifier.yaml")
        self.gate_weight = self.gate.combine_weight if self.gate is not None else 1.0
        self.topics = TopicReader(rules_dir / "offlist-topics.yaml")
        self.profiles = load_profiles(rules_dir / "response-profiles.yaml")
        self._counties: dict[str, CountyContext] = {}
        self._lock = threading.Lock()
        self.county(default_county)

    # -- counties ---------------------------------------------------------------------------
    def _stamp(self, cid: str) -> int:
        # Every approved change rewrites the county profile (its version number), so its mtime tells
        # a worker process that another worker applied a change; one stat() per request.
        # `shudi learn` rewrites the county's learned model: its mtime counts too
        try:
            stamp = county_file(self.root, cid).stat().st_mtime_ns
        except (UnknownCounty, OSError):
            return -1
        model = learned_dir(self.root, cid) / META_FILE
        return stamp + (model.stat().st_mtime_ns if model.is_file() else 0)

    def county(self, county: str | None = None) -> CountyContext:
        cid = county or self.default_county
        ctx = self._counties.get(cid)
        if ctx is None or ctx.stamp != self._stamp(cid):
            with self._lock:
                stamp = self._stamp(cid)
                ctx = self._counties.get(cid)
                if ctx is None or ctx.stamp != stamp:
                    self._progress("正在读取清单和法律文本")
                    loaded = load(cid, self.root, use_cache=self.use_cache)
                    if loaded.county.policy.response_profile not in self.profiles:
                        raise KBLoadError(
                            f"counties/{cid}/county.yaml: unknown response_profile "
                            f"{loaded.county.policy.response_profile!r}; known: {', '.join(self.profiles)}"
                        )
                    index = self._index_cache(cid, loaded)
                    self._progress("正在读取检索索引" if index is not None and index.exists() else BUILDING)
                    models = self.settings.model_cache if index else None
                    ctx = CountyContext(loaded, Classifier(loaded.kb, self.params, index, models), stamp,
                                        LearnedCounty.load(learned_dir(self.root, cid)))
                    self._counties[cid] = ctx
        return ctx

    def _index_cache(self, cid: str, loaded: LoadedKB) -> Path | None:
        """Where the classifier index of this exact list and these parameters is kept."""
        if not self.use_cache:
            return None
        path = self.root / ".cache" / f"clf-{cid}-{loaded.fingerprint}-{index_key(self.params)}.pickle"
        if not path.exists():
            for old in path.parent.glob(f"clf-{cid}-*.pickle"):
                old.unlink(missing_ok=True)
        return path

    def is_loaded(self, county: str | None = None) -> bool:
        cid = county or self.default_county
        ctx = self._counties.get(cid)
        return ctx is not None and ctx.stamp == self._stamp(cid)

    def invalidate(self, county: str) -> None:
        """Forget a county's loaded list (its files changed); the next request reloads it."""
        with self._lock:
            self._counties.pop(county, None)

    def item(self, item_id: str, county: str | None = None) -> Item:
        kb = self.county(county).kb
        if item_id not in kb.items:
            raise NotFound(f"未知事项编号 {item_id}", f"unknown item id {item_id!r}")
        return kb.items[item_id]

    # -- classification ---------------------------------------------------------------------
    def _rollup(self, matches: list[ScenarioMatch]) -> list[Pick]:
        best: dict[str, Pick] = {}
        for m in matches:  # sorted best first
            if m.item.id not in best:
                best[m.item.id] = Pick(m.item, m.scenario, m.raw, list(m.evidence))
        return list(best.values())

    def _determine(self, kb: KnowledgeBase, picks: list[Pick], text_facts: dict[str, str], matches: list[ScenarioMatch]) -> list[Pick]:
        facts = [
            {
                "item": p.item.id,
                "scenario": p.scenario.id if p.scenario else "",
                "scenario_primary": ",".join(p.scenario.primary_override) if p.scenario else "",
                "planning_area": text_facts.get("planning_area", "unknown"),
                "homestead": text_facts.get("homestead", "unknown"),
                "licensed": text_facts.get("licensed", "unknown"),
                "emergency": text_facts.get("emergency", "unknown"),
            }
            for p in picks
        ]
        for firing in self.rules.evaluate("determination", facts):
            self._apply(kb, picks[firing.fact_index], firing, matches)
        merged: dict[str, Pick] = {}
        for p in picks:  # a switch may land on an item already ranked: keep the better one
            if p.item.id not in merged:
                merged[p.item.id] = p
            else:
                merged[p.item.id].rules += p.rules
        return list(merged.values())

    def _apply(self, kb: KnowledgeBase, pick: Pick, firing: Firing, matches: list[ScenarioMatch]) -> None:
        then = firing.rule.then
        action = then["action"]
        if action == "switch_item":
            target_id = then["item"]
            target = kb.items.get(target_id)
            if target is None:  # a county list without that item
                return
            pick.item = target
            scored = [m for m in matches if m.item.id == target_id]
            pick.scenario = scored[0].scenario if scored else (target.scenarios[0] if target.scenarios else None)
        elif action == "prefer_scenario":
            options = list(pick.item.scenarios)
            if "primary" in then:
                # "" asks for a scenario that keeps the item's own primary party
                want = then["primary"]
                options = [s for s in options if (want in s.primary_override if want else not s.primary_override)]
            else:
                options = [s for s in options if s.facts.get(then["fact"]) == then["value"]]
            if not options:
                return
            rank = {m.scenario.id: n for n, m in enumerate(matches)}
            options.sort(key=lambda s: rank.get(s.id, len(rank)))
            if pick.scenario is not None and pick.scenario.id == options[0].id:
                pick.rules.append(f"{firing.rule.id}: {firing.rule.statement}")
                return
            pick.scenario = options[0]
        else:
            raise ValueError(f"rule {firing.rule.id}: unknown action {action!r}")
        pick.rules.append(f"{firing.rule.id}: {firing.rule.statement}")

    def candidate(self, kb: KnowledgeBase, pick: Pick, score: float) -> Candidate:
        item, sc = pick.item, pick.scenario
        cites: dict[str, Citation] = {}
        for c in [*(sc.citations if sc else ()), *item.citations]:
            cites.setdefault(c.label, c)
        primary = item.primary_for(sc)
        return Candidate(
            item=Ref(id=item.id, name=item.name),
            domain=Ref(id=item.domain, name=kb.domains[item.domain]),
            scenario=Ref(id=sc.id, name=sc.name) if sc else None,
            score=score,
            primary=[Ref(id=p, name=kb.department_name(p)) for p in primary],
            # the owner is not its own supporter: a scenario that moves the primary responsibility to a
            # supporting party (社会生活噪声 → 县公安局) leaves that party in the primary box only
            supporting=[SupportingParty(id=p.party, name=kb.department_name(p.party), duties=p.duties)
                        for p in item.supporting if p.party not in primary],
            citations=[citation_out(c) for c in cites.values()],
            evidence=pick.evidence,
            rules=pick.rules,
        )

    def read(self, text: str, county: str | None = None) -> Reading:
        """What the KB classifier sees in a message, before the gate decides (also used to learn
        a county's model on its work orders: shudi.learning)."""
        ctx = self.county(county)
        norm = normalize(text)
        # a letter is scored as its views (without framing, title alone, windows of a long body)
        views = self.letters.read(text).views()
        matches = merge([ctx.classifier.match(v)[1] for v in views]) if len(views) > 1 else ctx.classifier.match(views[0])[1]
        hits = self.cues.read(norm)
        text_facts = CueReader.facts(hits)
        inquiry = text_facts.get("inquiry") == "true"
        confidence = ctx.classifier.confidence(matches[0], inquiry) if matches else None
        return Reading(norm, matches, self._rollup(matches), hits, text_facts, inquiry, confidence)

    def classify(self, text: str, top_k: int = 3, county: str | None = None) -> ClassifyResult:
        ctx = self.county(county)
        r = self.read(text, county)
        norm, matches, picks, hits, text_facts, confidence = r.norm, r.matches, r.picks, r.hits, r.text_facts, r.confidence
        model = ctx.county_model
        gate = model.gate if model is not None else self.gate
        proba = model.model.proba(norm) if model is not None else None
        picks, combined = rerank(ctx.kb, picks, proba, self.gate_weight)
        # the list is Chinese: a message without a single Han character is out of scope
        level: Level | None = None
        if gate is not None and matches:
            sig = signals(confidence or 0.0, matches[0].strength, picks[0].raw, norm, proba, top_dept(ctx.kb, picks[0]), self.gate_weight)
            p = gate.probability(sig)
            # the KB's own gate only grades answers: its abstention, fitted on real letters, cost the
            # invented gold set 3 points; the classifier's threshold decides until a county has learned
            matched = has_han(norm) and (p >= gate.abstain_below if model is not None else ctx.classifier.accepts(matches[0], r.inquiry))
            level = gate.level(p) if matched else None
        else:
            matched = bool(matches) and has_han(norm) and ctx.classifier.accepts(matches[0], r.inquiry)
        candidates: list[Candidate] = []
        if matched:
            # candidates far below the best are noise, not alternatives
            picks = [p for p, c in zip(picks, combined) if c >= 0.3 * combined[0]][: top_k + 2]
            picks = self._determine(ctx.kb, picks, text_facts, matches)[:top_k]
            for p in picks:
                p.evidence += [f"{h.phrase}→{h.label}" for h in hits]  # the fact in plain Chinese
            candidates = [self.candidate(ctx.kb, p, ctx.classifier.score01(p.raw)) for p in picks]
        facts = {k: v == "true" for k, v in text_facts.items() if v in ("true", "false")}
        if "planning_area" in text_facts:
            facts["rural_planning_area"] = text_facts["planning_area"] == "rural"
        # a county that learned from its own work orders has a gate calibrated on them: its level
        # decides.  Otherwise either signal asks for a check by hand: the KB gate's 低 (calibrated on
        # letters) or the KB confidence under unsure_below (calibrated on calls)
        low = level is not None and level.name == "低"
        under = confidence is not None and confidence < self.params.unsure_below
        unsure = matched and (low if model is not None else (low or under))
        return ClassifyResult(
            matched=matched, candidates=candidates, text=text, normalized=norm, facts=facts, county=ctx.kb.county,
            confidence=round(confidence, 4) if confidence is not None else None, unsure=unsure,
            level=level.name if level is not None else None,
            level_share_correct=level.share_correct if level is not None else None,
            off_list_topic=None if matched else self.topics.closest(norm),
        )
