"""Read every KB source file and check what the schema alone cannot: identifiers are unique,
parties and sources exist, every citation resolves to an article of a vendored statute.

`python -m shudi.sourcecheck [--laws DIR] [FILE ...]` checks domain files while they are
being written; `shudi kb validate` runs the same checks on the whole KB, then the SHACL shapes.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from .lawbook import Lawbook
from .source import (
    CitationSrc,
    DepartmentsFile,
    DomainFile,
    ExamplesFile,
    KBSourceError,
    SourcesFile,
    read_model,
)

MIN_TRIGGERS = 5
MIN_SCENARIOS = 3


@dataclass(frozen=True)
class Problem:
    level: Literal["error", "warning"]
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.level}: {self.where}: {self.message}"


@dataclass
class KBSource:
    root: Path
    departments: DepartmentsFile
    sources: SourcesFile
    domains: list[tuple[Path, DomainFile]] = field(default_factory=list)
    examples: list[tuple[Path, ExamplesFile]] = field(default_factory=list)

    def party_ids(self) -> set[str]:
        ids = {d.id for d in self.departments.departments}
        ids |= {a.id for d in self.departments.departments for a in d.agencies}
        return ids


def read_kb_source(root: Path, domain_files: list[Path] | None = None) -> KBSource:
    """Read kb/ (departments, sources, baseline domain files); raises KBSourceError listing
    every file that fails, not just the first."""
    errors: list[str] = []
    departments = sources = None
    try:
        departments = read_model(root / "departments.yaml", DepartmentsFile)
    except KBSourceError as exc:
        errors.append(str(exc))
    try:
        sources = read_model(root / "sources.yaml", SourcesFile)
    except KBSourceError as exc:
        errors.append(str(exc))
    domains: list[tuple[Path, DomainFile]] = []
    for path in domain_files if domain_files is not None else sorted((root / "baseline").glob("*.yaml")):
        try:
            domains.append((path, read_model(path, DomainFile)))
        except KBSourceError as exc:
            errors.append(str(exc))
    examples = read_examples(root / "examples", errors) if domain_files is None else []
    if errors:
        raise KBSourceError("\n".join(errors))
    assert departments is not None and sources is not None
    return KBSource(root, departments, sources, domains, examples)


def read_examples(folder: Path, errors: list[str]) -> list[tuple[Path, ExamplesFile]]:
    out = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            out.append((path, read_model(path, ExamplesFile)))
        except KBSourceError as exc:
            errors.append(str(exc))
    return out


def check_examples(files: list[tuple[Path, ExamplesFile]], scenarios: set[str]) -> list[Problem]:
    """Every example names a scenario of the list; the same text twice is a slip."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for path, ex in files:
        for group in ex.examples:
            if group.scenario not in scenarios:
                problems.append(Problem("error", f"{path.name}", f"examples for unknown scenario {group.scenario!r}"))
            for text in group.texts:
                if text in seen:
                    problems.append(Problem("warning", f"{path.name}:{group.scenario}", f"example repeated: {text[:30]}"))
                seen.add(text)
    for path, ex in files:
        for text in ex.out_of_scope:
            if text in seen:  # the same call both on and off the list would teach both answers
                problems.append(Problem("error", f"{path.name}:out_of_scope", f"also given as an example of a scenario, or twice: {text[:30]}"))
            seen.add(text)
    return problems


def cited_law_ids(domains: list[DomainFile]) -> set[str]:
    ids: set[str] = set()
    for dom in domains:
        for item in dom.items:
            ids |= {c.law for c in item.citations}
            ids |= {t.source.law for t in item.time_limits if isinstance(t.source, CitationSrc)}
            ids |= {c.law for s in item.scenarios for c in s.citations}
    return ids


def check_source(kb: KBSource, lawbook: Lawbook, partial: bool = False) -> list[Problem]:
    """All problems found; `partial` skips checks that need every domain file present."""
    problems: list[Problem] = []
    parties = kb.party_ids()
    source_ids = {s.id for s in kb.sources.sources}
    seen: Counter[str] = Counter()
    item_ids: set[str] = set()

    def cite(where: str, c: CitationSrc) -> None:
        resolved = lawbook.resolve(c)
        if isinstance(resolved, str):
            problems.append(Problem("error", where, f"unresolved citation: {resolved}"))
        elif resolved.superseded:
            problems.append(
                Problem("warning", where, f"cites a superseded text: {resolved.label} ({resolved.version.version})")
            )

    for path, dom in kb.domains:
        if path.stem != dom.domain:
            problems.append(Problem("error", str(path), f"file name should be {dom.domain}.yaml"))
        if dom.source not in source_ids:
            problems.append(Problem("error", str(path), f"unknown source {dom.source!r}"))
        for item in dom.items:
            w = f"{path.name}:{item.id}"
            seen[item.id] += 1
            item_ids.add(item.id)
            if item.source and item.source not in source_ids:
                problems.append(Problem("error", w, f"unknown source {item.source!r}"))
            if not item.primary:
                problems.append(Problem("error", w, "no primary party (主体责任)"))
            if not item.supporting:
                problems.append(Problem("error", w, "no supporting party (配合责任)"))
            for p in [*item.primary, *item.supporting]:
                if p.party not in parties:
                    problems.append(Problem("error", w, f"unknown party {p.party!r}"))
            for step in item.procedure:
                if step.actor not in parties:
                    problems.append(Problem("error", w, f"procedure step {step.step}: unknown actor {step.actor!r}"))
            if not item.citations:
                problems.append(Problem("error", w, "no citation"))
            for c in item.citations:
                cite(w, c)
            for tl in item.time_limits:
                if isinstance(tl.source, CitationSrc):
                    cite(f"{w} time limit {tl.what}", tl.source)
                elif tl.source not in source_ids:
                    problems.append(Problem("error", w, f"time limit {tl.what}: unknown source {tl.source!r}"))
                if tl.working_days is None and tl.days is None and tl.hours is None:
                    problems.append(Problem("error", w, f"time limit {tl.what}: give working_days, days or hours"))
            if len(item.scenarios) < MIN_SCENARIOS:
                problems.append(Problem("warning", w, f"only {len(item.scenarios)} scenarios (aim for {MIN_SCENARIOS}+)"))
            for sc in item.scenarios:
                ws = f"{path.name}:{sc.id}"
                seen[sc.id] += 1
                if not sc.id.startswith(item.id + "."):
                    problems.append(Problem("error", ws, f"scenario id should start with {item.id}."))
                for party in sc.primary or []:
                    if party not in parties:
                        problems.append(Problem("error", ws, f"unknown primary party {party!r}"))
                for c in sc.citations:
                    cite(ws, c)
                triggers = [t.strip() for t in sc.triggers if t.strip()]
                if len(set(triggers)) < MIN_TRIGGERS:
                    problems.append(Problem("error", ws, f"{len(set(triggers))} distinct triggers (need {MIN_TRIGGERS}+)"))
    for ident, n in seen.items():
        if n > 1:
            problems.append(Problem("error", ident, f"identifier used {n} times"))
    if not partial:
        problems += check_examples(kb.examples, {sc.id for _, d in kb.domains for i in d.items for sc in i.scenarios})
        for dept in kb.departments.departments:
            for agency in dept.agencies:
                for handled in agency.handles:
                    if handled not in item_ids:
                        problems.append(Problem("error", f"departments.yaml:{agency.id}", f"handles unknown item {handled!r}"))
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Check KB source files (schema, ids, citations).")
    ap.add_argument("files", nargs="*", type=Path, help="domain files (default: all of kb/baseline)")
    ap.add_argument("--kb", type=Path, default=Path("kb"))
    ap.add_argument("--laws", type=Path, default=None, help="statute folder (default: kb/laws)")
    args = ap.parse_args(argv)
    try:
        kb = read_kb_source(args.kb, args.files or None)
    except KBSourceError as exc:
        print(exc, file=sys.stderr)
        return 1
    lawbook = Lawbook.load(args.kb / "laws" / "registry.yaml", args.laws or args.kb / "laws")
    problems = check_source(kb, lawbook, partial=bool(args.files))
    for p in problems:
        print(p)
    n_items = sum(len(d.items) for _, d in kb.domains)
    n_sc = sum(len(i.scenarios) for _, d in kb.domains for i in d.items)
    n_tr = sum(len(s.triggers) for _, d in kb.domains for i in d.items for s in i.scenarios)
    errors = sum(p.level == "error" for p in problems)
    print(f"{n_items} items, {n_sc} scenarios, {n_tr} triggers; {errors} errors, {len(problems) - errors} warnings")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
