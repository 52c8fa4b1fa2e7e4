"""Read views of a county's list for the API and CLI: domains, departments, items (the full
说明书 of a matter), laws, articles, and the citation check for legal reviewers."""

from __future__ import annotations

from datetime import date
from typing import Any

from .engine import citation_out
from .errors import BadInput, NotFound
from .model import Item, KnowledgeBase, TimeLimit
from .normalize import normalize
from .source import CountyFile
from .statutes import StatuteText

GENERAL_CHAPTERS = ("总则", "附则")


def domains(kb: KnowledgeBase) -> list[dict[str, Any]]:
    counts: dict[str, int] = {}
    for item in kb.items.values():
        counts[item.domain] = counts.get(item.domain, 0) + 1
    return [{"id": d, "name": name, "items": counts.get(d, 0)} for d, name in kb.domains.items()]


def departments(kb: KnowledgeBase) -> list[dict[str, Any]]:
    out = []
    for d in kb.departments.values():
        out.append({
            "id": d.id, "name": d.name, "alt_names": list(d.alt), "level": d.level,
            "kind": "stationed_agency" if d.is_agency else "department",
            "department": d.parent, "handles": list(d.handles),
        })
    return out


def _dept(kb: KnowledgeBase, dept_id: str) -> None:
    if dept_id not in kb.departments:
        raise NotFound(f"未知部门编号 {dept_id}", f"unknown department id {dept_id!r}")


def department_items(kb: KnowledgeBase, dept_id: str) -> dict[str, Any]:
    _dept(kb, dept_id)
    rows = []
    for item in kb.items.values():
        for role, parties in (("primary", item.primary), ("supporting", item.supporting)):
            for p in parties:
                if p.party == dept_id:
                    rows.append({"item": {"id": item.id, "name": item.name}, "domain": item.domain, "role": role, "duties": p.duties})
        for sc in item.scenarios:
            if dept_id in sc.primary_override:
                rows.append({"item": {"id": item.id, "name": item.name}, "scenario": {"id": sc.id, "name": sc.name},
                             "domain": item.domain, "role": "primary", "duties": f"情形「{sc.name}」由该部门承担主体责任。"})
    return {"department": {"id": dept_id, "name": kb.department_name(dept_id)}, "items": rows}


def item_summary(kb: KnowledgeBase, item: Item) -> dict[str, Any]:
    return {
        "id": item.id, "name": item.name, "domain": {"id": item.domain, "name": kb.domains[item.domain]},
        "type": item.type, "primary": [{"id": p.party, "name": kb.department_name(p.party)} for p in item.primary],
        "scenarios": len(item.scenarios),
    }


def items(kb: KnowledgeBase, domain: str | None, q: str | None) -> list[dict[str, Any]]:
    if domain is not None and domain not in kb.domains:
        raise NotFound(f"未知领域编号 {domain}", f"unknown domain id {domain!r}", kb.domains)
    needle = normalize(q) if q and q.strip() else None
    out = []
    for item in kb.items.values():
        if domain and item.domain != domain:
            continue
        if needle:
            hay = " ".join([item.name, *item.alt_names, *(s.name for s in item.scenarios), *(t for s in item.scenarios for t in s.triggers)])
            if needle not in normalize(hay):
                continue
        out.append(item_summary(kb, item))
    return out


def _limit(tl: TimeLimit, kb: KnowledgeBase) -> dict[str, Any]:
    return {
        "what": tl.what, "limit": tl.limit, "working_days": tl.working_days, "days": tl.days, "hours": tl.hours,
        "basis": citation_out(tl.basis).model_dump(mode="json") if tl.basis else None,
        "source": kb.sources.get(tl.source, tl.source) if tl.source else None,
    }


def item_detail(kb: KnowledgeBase, county: CountyFile, item_id: str) -> dict[str, Any]:
    item = kb.items.get(item_id)
    if item is None:
        raise NotFound(f"未知事项编号 {item_id}", f"unknown item id {item_id!r}")
    parties = {p.party for p in (*item.primary, *item.supporting)} | {p for s in item.scenarios for p in s.primary_override}
    agencies = [a for p in parties for a in kb.agencies_of(p) if item.id in a.handles]
    return {
        **item_summary(kb, item),
        "alt_names": list(item.alt_names),
        "county_duties": item.county_duties,
        "township_duties": item.township_duties,
        "primary": [{"id": p.party, "name": kb.department_name(p.party), "duties": p.duties} for p in item.primary],
        "supporting": [{"id": p.party, "name": kb.department_name(p.party), "duties": p.duties} for p in item.supporting],
        "scenarios": [
            {"id": s.id, "name": s.name,
             "primary": [{"id": p, "name": kb.department_name(p)} for p in item.primary_for(s)],
             "facts": s.facts, "triggers": list(s.triggers),
             "citations": [citation_out(c).model_dump(mode="json") for c in s.citations]}
            for s in item.scenarios
        ],
        "procedure": [{"order": s.order, "step": s.step, "actor": {"id": s.actor, "name": kb.department_name(s.actor)}, "text": s.text}
                      for s in item.procedure],
        "time_limits": [_limit(t, kb) for t in item.time_limits],
        "citations": [citation_out(c).model_dump(mode="json") for c in item.citations],
        "stationed_agencies": [{"id": a.id, "name": a.name, "department": a.parent} for a in agencies],
        "contacts": [
            {"party": c.party, "name": kb.department_name(c.party), "office": c.office, "phone": c.phone, "example": county.example}
            for c in county.contacts if c.party in parties
        ],
        "source": {"id": item.source, "title": kb.sources.get(item.source, item.source)},
        "county": {"id": county.id, "name": county.name, "example": county.example},
    }


def _versions(kb: KnowledgeBase, law_id: str) -> list[StatuteText]:
    if law_id not in kb.lawbook.laws:
        raise NotFound(f"未知法规编号 {law_id}", f"unknown law id {law_id!r}")
    versions = kb.lawbook.versions.get(law_id)
    if not versions:
        raise NotFound(f"法规 {law_id} 未收录文本", f"law {law_id!r} is registered but no text is vendored")
    return versions


def laws(kb: KnowledgeBase) -> list[dict[str, Any]]:
    cited: dict[str, int] = {}
    for _, c in kb.all_citations():
        cited[c.law_id] = cited.get(c.law_id, 0) + 1
    out = []
    for law_id, versions in kb.lawbook.versions.items():
        law = kb.lawbook.laws[law_id]
        out.append({
            "id": law_id, "title": versions[-1].full_title, "short_title": law.title, "level": law.level,
            "current_version": versions[-1].version.isoformat(), "versions": [v.version.isoformat() for v in versions],
            "replaced_by": law.replaced_by, "citations": cited.get(law_id, 0),
        })
    return out


def law_detail(kb: KnowledgeBase, law_id: str) -> dict[str, Any]:
    versions = _versions(kb, law_id)
    law = kb.lawbook.laws[law_id]
    return {
        "id": law_id, "title": versions[-1].full_title, "short_title": law.title, "level": law.level,
        "replaced_by": law.replaced_by,
        "versions": [
            {"version": v.version.isoformat(), "current": v is versions[-1] and not law.replaced_by,
             "superseded_by": versions[i + 1].version.isoformat() if i + 1 < len(versions) else law.replaced_by,
             "articles": len(v.articles), "history": v.history, "file": f"kb/laws/{v.path.parent.name}/{v.path.name}"}
            for i, v in enumerate(versions)
        ],
        "cited_articles": sorted({c.article_label for _, c in kb.all_citations() if c.law_id == law_id}),
    }


def _parse_article_number(number: str) -> tuple[int, int]:
    from .statutes import cn_to_int

    text = number.strip().removeprefix("第").replace("条", "")
    main, _, suffix = text.partition("之")
    try:
        n = int(main) if main.isdigit() else cn_to_int(main)
        s = (int(suffix) if suffix.isdigit() else cn_to_int(suffix)) if suffix else 0
    except ValueError:
        n = 0
    if n <= 0:
        raise BadInput(f"条号无效 {number}", f"not an article number: {number!r}", code="invalid_article_number")
    return n, s


def article_detail(kb: KnowledgeBase, law_id: str, number: str, version: str | None) -> dict[str, Any]:
    versions = _versions(kb, law_id)
    if version:
        try:
            wanted = date.fromisoformat(version)
        except ValueError as exc:
            raise NotFound("版本日期无效(应为 YYYY-MM-DD)", f"not a version date: {version!r} (YYYY-MM-DD)") from exc
        text = next((v for v in versions if v.version == wanted), None)
        if text is None:
            raise NotFound(f"{law_id} 无 {version} 版本", f"{law_id} has no version {version}",
                           [v.version.isoformat() for v in versions])
    else:
        text = versions[-1]
    n, s = _parse_article_number(number)
    art = text.article(n, s)
    if art is None:
        raise NotFound(f"《{text.full_title}》({text.version})无此条:{number}", f"{text.full_title}({text.version}) has no article {number}")
    citing = [
        {"id": owner, "label": c.label, "paragraph": c.paragraph, "clause": c.clause}
        for owner, c in kb.all_citations()
        if c.law_id == law_id and c.version == text.version and c.article == n and c.article_suffix == s
    ]
    law = kb.lawbook.laws[law_id]
    return {
        "law": {"id": law_id, "title": text.full_title, "level": law.level},
        "version": text.version.isoformat(),
        "current": text is versions[-1] and not law.replaced_by,
        "superseded": kb.lawbook.is_superseded(law_id, text.version),
        "article": art.label, "number": art.number, "chapter": art.chapter,
        "paragraphs": [{"text": p.text, "items": p.items} for p in art.paragraphs],
        "text": art.text,
        "cited_by": citing,
    }


def citations_check(kb: KnowledgeBase) -> dict[str, Any]:
    """What a legal reviewer must look at: citations to superseded texts, vendored laws whose
    articles no item cites, and items resting only on general clauses (总则/附则)."""
    superseded = [
        {"cited_by": owner, "label": c.label, "version": c.version.isoformat(),
         "current_version": (kb.lawbook.current(c.law_id).version.isoformat() if kb.lawbook.current(c.law_id) else None),
         "replaced_by": kb.lawbook.laws[c.law_id].replaced_by}
        for owner, c in kb.all_citations() if c.superseded
    ]
    cited_laws = {c.law_id for _, c in kb.all_citations()}
    uncited = [
        {"law": law_id, "title": vs[-1].full_title}
        for law_id, vs in kb.lawbook.versions.items() if law_id not in cited_laws
    ]
    general_only = []
    for item in kb.items.values():
        cites = [*item.citations, *(c for s in item.scenarios for c in s.citations)]
        chapters = []
        for c in cites:
            text = next((v for v in kb.lawbook.versions.get(c.law_id, []) if v.version == c.version), None)
            art = text.article(c.article, c.article_suffix) if text else None
            chapters.append(art.chapter if art else "")
        if chapters and all(any(g in ch for g in GENERAL_CHAPTERS) for ch in chapters):
            general_only.append({"item": item.id, "name": item.name, "citations": [c.label for c in cites]})
    return {
        "superseded_citations": superseded,
        "laws_not_cited": uncited,
        "items_only_general_clauses": general_only,
        "counts": {"superseded_citations": len(superseded), "laws_not_cited": len(uncited), "items_only_general_clauses": len(general_only)},
    }
