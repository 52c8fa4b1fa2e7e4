"""Load the knowledge base of one county: source files + statutes → model + RDF graph.

A county's list is the provincial baseline (kb/baseline) plus its profile
(kb/counties/<id>/county.yaml: removals, overrides of parties, duties and citations, contacts,
policy) and its own extra items (kb/counties/<id>/items/*.yaml), resolved at load time.  The result is cached under
.cache/, keyed by a hash of every input file and of the code that builds it, so a change to
any KB file is never served stale.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph

from . import graph as graph_mod
from .lawbook import Lawbook
from .model import KnowledgeBase, UnresolvedCitation, build_knowledge_base
from .settings import DEFAULT_COUNTY, Settings
from .source import CountyFile, DomainFile, ItemSrc, KBSourceError, read_model
from .sourcecheck import KBSource, Problem, check_examples, check_source, read_examples, read_kb_source

_CODE_FILES = ("source.py", "statutes.py", "lawbook.py", "model.py", "graph.py", "kb.py", "sourcecheck.py")


class KBLoadError(RuntimeError):
    """The KB cannot be loaded; the message lists every problem with file and line."""


class UnknownCounty(KBLoadError):
    pass


def project_root() -> Path:
    """Where kb/, ontologies/ and rules/ live, for callers handed no settings (the CLI)."""
    return Settings().root


@dataclass
class County:
    profile: CountyFile
    extra_files: list[Path]


@dataclass
class LoadedKB:
    """A county's resolved list.  The RDF graph is built (or read from the cache) on first use:
    classification needs only the model, SPARQL and validation need the graph."""

    kb: KnowledgeBase
    county: CountyFile
    problems: list[Problem] = field(default_factory=list)
    fingerprint: str = ""
    load_seconds: float = 0.0
    _graph: Graph | None = None
    _graph_cache: Path | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "warning"]

    @property
    def graph(self) -> Graph:
        if self._graph is None:
            with self._lock:
                if self._graph is None:
                    self._graph = self._read_graph_cache() or graph_mod.compile_graph(self.kb)
        return self._graph

    def _read_graph_cache(self) -> Graph | None:
        if self._graph_cache is None or not self._graph_cache.is_file():
            return None
        try:
            with self._graph_cache.open("rb") as fh:
                return pickle.load(fh)
        except Exception:  # noqa: BLE001 - a bad cache is rebuilt, never served
            return None

    def __getstate__(self) -> dict:
        # the graph is cached in its own file; the lock cannot be pickled
        return {k: v for k, v in self.__dict__.items() if k not in ("_graph", "_lock", "_graph_cache")}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._graph, self._graph_cache, self._lock = None, None, threading.Lock()


def counties(root: Path | None = None) -> list[str]:
    root = root or project_root()
    return sorted(p.parent.name for p in (root / "kb" / "counties").glob("*/county.yaml"))


_COUNTY_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


def county_file(root: Path, county: str) -> Path:
    """The county's profile file; an id that is not a plain slug (path tricks, NUL) or has no
    profile is an unknown county."""
    path = root / "kb" / "counties" / county / "county.yaml"
    if not _COUNTY_ID.fullmatch(county) or not path.is_file():
        raise UnknownCounty(f"unknown county {county!r}; known: {', '.join(counties(root))}")
    return path


def read_county(root: Path, county: str) -> County:
    path = county_file(root, county)
    return County(read_model(path, CountyFile), sorted((path.parent / "items").glob("*.yaml")))


def _fingerprint(root: Path, county: str) -> str:
    h = hashlib.sha256(county.encode())
    files = sorted((root / "kb").rglob("*.yaml")) + sorted((root / "kb" / "laws").rglob("*.md"))
    files += sorted((root / "ontologies").glob("*.ttl"))
    files += [Path(__file__).parent / name for name in _CODE_FILES]
    for f in files:
        h.update(str(f.relative_to(root) if f.is_relative_to(root) else f.name).encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:20]


def resolve_county_items(kb: KBSource, county: County) -> tuple[list[tuple[str, str, ItemSrc]], list[Problem]]:
    """Baseline items, minus removals, with overrides applied, plus the county's own items."""
    problems: list[Problem] = []
    where = f"counties/{county.profile.id}/county.yaml"
    items: dict[str, tuple[str, str, ItemSrc]] = {}
    for _, dom in kb.domains:
        for item in dom.items:
            items[item.id] = (dom.domain, dom.source, item)
    for path in county.extra_files:
        dom = read_model(path, DomainFile)
        for item in dom.items:
            if item.id in items:
                problems.append(Problem("error", str(path), f"item {item.id} already in the baseline: use overrides"))
            items[item.id] = (dom.domain, dom.source, item)
    for item_id in county.profile.remove_items:
        if items.pop(item_id, None) is None:
            problems.append(Problem("error", where, f"remove_items: unknown item {item_id!r}"))
    for ov in county.profile.overrides:
        if ov.item not in items:
            problems.append(Problem("error", where, f"overrides: unknown item {ov.item!r}"))
            continue
        domain, source, src = items[ov.item]
        for party in [*(ov.primary or []), *(ov.supporting or [])]:
            if party.party not in kb.party_ids():
                problems.append(Problem("error", where, f"overrides {ov.item}: unknown party {party.party!r}"))
        items[ov.item] = (domain, source, src.model_copy(update=ov.changes()))
    return list(items.values()), problems


def _build(root: Path, county_id: str) -> LoadedKB:
    t0 = time.perf_counter()
    try:
        source = read_kb_source(root / "kb")
        county = read_county(root, county_id)
        lawbook = Lawbook.load(root / "kb" / "laws" / "registry.yaml", root / "kb" / "laws")
    except KBSourceError as exc:
        raise KBLoadError(str(exc)) from exc
    problems = check_source(source, lawbook)
    resolved, county_problems = resolve_county_items(source, county)
    problems += county_problems
    parties = source.party_ids()
    for c in county.profile.contacts:
        if c.party not in parties:
            problems.append(Problem("error", f"counties/{county_id}/county.yaml", f"contact for unknown party {c.party!r}"))
    read_errors: list[str] = []
    county_examples = read_examples(root / "kb" / "counties" / county_id / "examples", read_errors)
    if read_errors:
        raise KBLoadError("\n".join(read_errors))
    problems += check_examples(county_examples, {sc.id for _, _, i in resolved for sc in i.scenarios})
    errors = [p for p in problems if p.level == "error"]
    if errors:
        raise KBLoadError("\n".join(str(p) for p in errors))
    try:
        # baseline examples of items the county removed simply drop out with the items
        kb = build_knowledge_base(county_id, source, resolved, lawbook, [ex for _, ex in source.examples + county_examples])
    except UnresolvedCitation as exc:
        raise KBLoadError(str(exc)) from exc
    loaded = LoadedKB(kb, county.profile, problems)
    loaded._graph = graph_mod.compile_graph(kb)
    loaded.load_seconds = time.perf_counter() - t0
    return loaded


def load(county: str = DEFAULT_COUNTY, root: Path | None = None, use_cache: bool = True) -> LoadedKB:
    root = root or project_root()
    county_file(root, county)
    t0 = time.perf_counter()
    fp = _fingerprint(root, county)
    cache = root / ".cache" / f"kb-{county}-{fp}.pickle"
    graph_cache = cache.with_suffix(".graph.pickle")
    if use_cache and cache.is_file():
        try:
            with cache.open("rb") as fh:
                loaded: LoadedKB = pickle.load(fh)
            loaded._graph_cache = graph_cache
            loaded.load_seconds = time.perf_counter() - t0
            return loaded
        except Exception:  # noqa: BLE001 - a bad cache is rebuilt, never served
            cache.unlink(missing_ok=True)
    loaded = _build(root, county)
    loaded.fingerprint = fp
    if use_cache:
        cache.parent.mkdir(exist_ok=True)
        for old in cache.parent.glob(f"kb-{county}-*.pickle"):
            old.unlink(missing_ok=True)
        for target, obj in ((graph_cache, loaded.graph), (cache, loaded)):
            # concurrent builders never share a temp file; the model is written last, so a model
            # in the cache always has its graph beside it
            tmp = target.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
            with tmp.open("wb") as fh:
                pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)
            tmp.replace(target)
    loaded.load_seconds = time.perf_counter() - t0
    return loaded
