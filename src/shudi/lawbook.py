"""The statutes the KB may cite: the registry (kb/laws/registry.yaml) joined with the vendored
texts, and resolution of a citation to one article of one version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from .source import CitationSrc, LawRegistryFile, LawSrc, read_model
from .statutes import Article, Paragraph, StatuteText, int_to_cn, parse_file_name, parse_statute


@dataclass(frozen=True)
class ResolvedCitation:
    law: LawSrc
    version: StatuteText
    article: Article
    paragraph: int | None
    clause: int | None
    superseded: bool  # a newer version of the same law is vendored, or the law was repealed

    @property
    def text(self) -> str:
        """The most precise text the citation designates (款/项 when given)."""
        if self.paragraph is None:
            return self.article.text
        para: Paragraph | None = self.article.paragraph(self.paragraph)
        if para is None:
            return self.article.text
        if self.clause is not None and 1 <= self.clause <= len(para.items):
            return f"{para.text}\n{para.items[self.clause - 1]}" if para.text else para.items[self.clause - 1]
        return para.full_text

    @property
    def label(self) -> str:
        parts = [f"《{self.version.full_title}》", self.article.label]
        if self.paragraph:
            parts.append(f"第{int_to_cn(self.paragraph)}款")
        if self.clause:
            parts.append(f"第（{int_to_cn(self.clause)}）项")
        return "".join(parts)


class Lawbook:
    def __init__(self, registry: list[LawSrc], texts: dict[str, list[StatuteText]]) -> None:
        self.laws = {law.id: law for law in registry}
        # oldest first; the last one is current
        self.versions = {law_id: sorted(vs, key=lambda v: v.version) for law_id, vs in texts.items()}

    @classmethod
    def load(cls, registry_path: Path, laws_dir: Path, only_cited: bool = False) -> Lawbook:
        registry = read_model(registry_path, LawRegistryFile).laws
        by_title = {law.title: law for law in registry}
        texts: dict[str, list[StatuteText]] = {}
        seen: set[tuple[str, date]] = set()
        for path in sorted(laws_dir.glob("*/*.md")):
            title, version = parse_file_name(path)
            law = by_title.get(title)
            if law is None or (title, version) in seen:
                continue  # not in the registry, or the same text filed under two categories
            seen.add((title, version))
            texts.setdefault(law.id, []).append(parse_statute(path))
        return cls(registry, texts)

    def current(self, law_id: str) -> StatuteText | None:
        vs = self.versions.get(law_id)
        return vs[-1] if vs else None

    def is_superseded(self, law_id: str, version: date) -> bool:
        law = self.laws[law_id]
        current = self.current(law_id)
        return law.replaced_by is not None or (current is not None and current.version > version)

    def resolve(self, c: CitationSrc) -> ResolvedCitation | str:
        """The article a citation designates, or a message saying why it does not resolve."""
        law = self.laws.get(c.law)
        if law is None:
            return f"unknown law id {c.law!r} (not in kb/laws/registry.yaml)"
        versions = self.versions.get(c.law)
        if not versions:
            return f"no vendored text for {law.title} ({c.law})"
        if c.version is None:
            text = versions[-1]
        else:
            text = next((v for v in versions if v.version == c.version), None)
            if text is None:
                have = ", ".join(v.version.isoformat() for v in versions)
                return f"{law.title}: no vendored version {c.version} (have {have})"
        article = text.article(c.article, c.article_suffix)
        if article is None:
            return f"{law.title}({text.version}) has no article {c.article}"
        if c.paragraph is not None:
            para = article.paragraph(c.paragraph)
            if para is None:
                return f"{law.title} {article.label} has no 第{c.paragraph}款 (it has {len(article.paragraphs)})"
            if c.clause is not None and not 1 <= c.clause <= len(para.items):
                return f"{law.title} {article.label} 第{c.paragraph}款 has no 第{c.clause}项 (it has {len(para.items)})"
        elif c.clause is not None:
            return f"{law.title} {article.label}: a 项 needs its 款 (paragraph)"
        return ResolvedCitation(law, text, article, c.paragraph, c.clause, self.is_superseded(c.law, text.version))
