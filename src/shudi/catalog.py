"""Read views of a county's list for the API and CLI: domains, departments, items (the full
说明书 of a matter), laws, articles, and the citation check for legal reviewers."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from .contract import Ref
from .engine import Engine, citation_out
from .errors import BadInput, NotFound
from .kb import counties as kb_counties
from .kb import read_county
from .model import Item, KnowledgeBase, Party, TimeLimit
from .normalize import normalize
from .policy import ResponseProfile
from .source import CountyFile
from .statutes import StatuteText
from .views import (AgencyOut, ArticleView, CitationsCheck, CitingOwner, ContactOut, CountyContact, CountyOut, CountyRef,
                    CountyView, DepartmentItemRow, DepartmentItems, DepartmentOut, DomainOut, GeneralOnlyItem, ItemDetail,
                    ItemSummary, LawDetail, LawRef, LawSummary, LawVersionOut, ParagraphOut, PartyOut, ResponseStep,
                    ResponseView, ScenarioOut, SourceRef, StepOut, SupersededCitation, TimeLimitOut, UncitedLaw)
from .workdays import add_working_days

GENERAL_CHAPTERS = ("总则", "附则")


def domains(kb: KnowledgeBase) -> list[DomainOut]:
    counts: dict[str, int] = {}
    for item in kb.items.values():
        counts[item.domain] = counts.get(item.domain, 0) + 1
    return [DomainOut(id=d, name=name, items=counts.get(d, 0)) for d, name in kb.domains.items()]


def departments(kb: KnowledgeBase) -> list[DepartmentOut]:
    return [
        DepartmentOut(id=d.id, name=d.name, alt_names=list(d.alt), level=d.level,
                      kind="stationed_agency" if d.is_agency else "department", department=d.parent, handles=list(d.handles))
        for d in kb.departments.values()
    ]


def _ref(kb: KnowledgeBase, party: str) -> Ref:
    return Ref(id=party, name=kb.department_name(party))


def _dept(kb: KnowledgeBase, dept_id: str) -> None:
    if dept_id not in kb.departments:
        raise NotFound(f"未知部门编号 {dept_id}", f"unknown department id {dept_id!r}")


def department_items(kb: KnowledgeBase, dept_id: str) -> DepartmentItems:
    _dept(kb, dept_id)
    rows = []
    for item in kb.items.values():
        ref = Ref(id=item.id, name=item.name)
        for role, parties in (("primary", item.primary), ("supporting", item.supporting)):
            rows += [DepartmentItemRow(item=ref, domain=item.domain, role=role, duties=p.duties) for p in parties if p.party == dept_id]
        rows += [DepartmentItemRow(item=ref, scenario=Ref(id=sc.id, name=sc.name), domain=item.domain, role="primary",
                                   duties=f"情形「{sc.name}」由该部门承担主体责任。")
                 for sc in item.scenarios if dept_id in sc.primary_override]
    return DepartmentItems(department=_ref(kb, dept_id), items=rows)


def item_summary(kb: KnowledgeBase, item: Item) -> ItemSummary:
    return ItemSummary(id=item.id, name=item.name, domain=Ref(id=item.domain, name=kb.domains[item.domain]), type=item.type,
                       primary=[_ref(kb, p.party) for p in item.primary], scenarios=len(item.scenarios))


def items(kb: KnowledgeBase, domain: str | None, q: str | None) -> list[ItemSummary]:
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


def _limit(tl: TimeLimit, kb: KnowledgeBase) -> TimeLimitOut:
    return TimeLimitOut(what=tl.what, limit=tl.limit, working_days=tl.working_days, days=tl.days, hours=tl.hours,
                        basis=citation_out(tl.basis) if tl.basis else None,
                        source=kb.sources.get(tl.source, tl.source) if tl.source else None)


def _party(kb: KnowledgeBase, p: Party) -> PartyOut:
    return PartyOut(id=p.party, name=kb.department_name(p.party), duties=p.duties,
                    citations=[citation_out(c) for c in p.citations])


def item_detail(kb: KnowledgeBase, county: CountyFile, item_id: str) -> ItemDetail:
    item = kb.items.get(item_id)
    if item is None:
        raise NotFound(f"未知事项编号 {item_id}", f"unknown item id {item_id!r}")
    parties = {p.party for p in (*item.primary, *item.supporting)} | {p for s in item.scenarios for p in s.primary_override}
    agencies = [a for p in parties for a in kb.agencies_of(p) if item.id in a.handles]
    summary = item_summary(kb, item)
    return ItemDetail(
        id=summary.id, name=summary.name, domain=summary.domain, type=summary.type,
        alt_names=list(item.alt_names),
        county_duties=item.county_duties,
        township_duties=item.township_duties,
        primary=[_party(kb, p) for p in item.primary],
        supporting=[_party(kb, p) for p in item.supporting],
        scenarios=[
            ScenarioOut(id=s.id, name=s.name, primary=[_ref(kb, p) for p in item.primary_for(s)], facts=s.facts,
                        triggers=list(s.triggers), citations=[citation_out(c) for c in s.citations])
            for s in item.scenarios
        ],
        procedure=[StepOut(order=s.order, step=s.step, actor=_ref(kb, s.actor), text=s.text) for s in item.procedure],
        time_limits=[_limit(t, kb) for t in item.time_limits],
        citations=[citation_out(c) for c in item.citations],
        stationed_agencies=[AgencyOut(id=a.id, name=a.name, department=a.parent) for a in agencies],
        contacts=[
            ContactOut(party=c.party, name=kb.department_name(c.party), office=c.office, phone=c.phone,
                       hours=c.hours or county.office_hours, example=county.example or "示例" in c.phone)
            for c in county.contacts if c.party in parties
        ],
        source=SourceRef(id=item.source, title=kb.sources.get(item.source, item.source)),
        county=CountyRef(id=county.id, name=county.name, example=county.example),
    )


def _title_key(title: str) -> str:
    return title.strip().strip("《》").removeprefix("中华人民共和国").replace(" ", "")


def resolve_law(kb: KnowledgeBase, key: str) -> str:
    """The law id a reviewer means: the id itself, or the Chinese title, full (中华人民共和国土地管理法)
    or short (土地管理法), with or without 《》.  Where a repealed law and its successor share a title,
    the one in force is meant."""
    if key in kb.lawbook.laws:
        return key
    wanted = _title_key(key)
    hits = [
        law_id for law_id, law in kb.lawbook.laws.items()
        if wanted and wanted in {_title_key(law.title), *(_title_key(v.full_title) for v in kb.lawbook.versions.get(law_id, []))}
    ]
    hits.sort(key=lambda law_id: kb.lawbook.laws[law_id].replaced_by is not None)
    if not hits:
        raise NotFound(f"未找到法规「{key}」(可用编号、全称或简称)", f"unknown law {key!r} (id or title)")
    return hits[0]


def resolve_item(kb: KnowledgeBase, key: str) -> str:
    """The item id a user means: the id, the name or an alternative name, or the one item whose
    name contains the words given."""
    if key in kb.items:
        return key
    wanted = normalize(key)
    exact = [i.id for i in kb.items.values() if wanted in {normalize(n) for n in (i.name, *i.alt_names)}]
    partial = [i.id for i in kb.items.values() if wanted and wanted in normalize(i.name)]
    hits = exact or partial
    if len(hits) == 1:
        return hits[0]
    if hits:
        names = "、".join(kb.items[h].name for h in hits[:8])
        raise NotFound(f"「{key}」对应多个事项:{names},请写全名称", f"{key!r} names several items")
    raise NotFound(f"未找到事项「{key}」(可用事项名称或编号)", f"unknown item {key!r}")


def _versions(kb: KnowledgeBase, law_id: str) -> list[StatuteText]:
    law_id = resolve_law(kb, law_id)
    versions = kb.lawbook.versions.get(law_id)
    if not versions:
        raise NotFound(f"法规 {law_id} 未收录文本", f"law {law_id!r} is registered but no text is vendored")
    return versions


def laws(kb: KnowledgeBase) -> list[LawSummary]:
    cited: dict[str, int] = {}
    for _, c in kb.all_citations():
        cited[c.law_id] = cited.get(c.law_id, 0) + 1
    out = []
    for law_id, versions in kb.lawbook.versions.items():
        law = kb.lawbook.laws[law_id]
        out.append(LawSummary(
            id=law_id, title=versions[-1].full_title, short_title=law.title, level=law.level,
            current_version=versions[-1].version.isoformat(), versions=[v.version.isoformat() for v in versions],
            replaced_by=law.replaced_by, citations=cited.get(law_id, 0),
        ))
    return out


def law_detail(kb: KnowledgeBase, law_id: str) -> LawDetail:
    law_id = resolve_law(kb, law_id)
    versions = _versions(kb, law_id)
    law = kb.lawbook.laws[law_id]
    return LawDetail(
        id=law_id, title=versions[-1].full_title, short_title=law.title, level=law.level,
        replaced_by=law.replaced_by,
        versions=[
            LawVersionOut(version=v.version.isoformat(), current=v is versions[-1] and not law.replaced_by,
                          superseded_by=versions[i + 1].version.isoformat() if i + 1 < len(versions) else law.replaced_by,
                          articles=len(v.articles), history=v.history, file=f"kb/laws/{v.path.parent.name}/{v.path.name}")
            for i, v in enumerate(versions)
        ],
        cited_articles=sorted({c.article_label for _, c in kb.all_citations() if c.law_id == law_id}),
    )


def _owner_name(kb: KnowledgeBase, owner: str) -> str:
    """The Chinese name of what cites an article: an item, or 「item」的情形「scenario」."""
    if owner in kb.items:
        return kb.items[owner].name
    sc = kb.scenarios.get(owner)
    if sc is not None:
        item = kb.items.get(sc.item_id)
        return f"{item.name if item else ''}(情形:{sc.name})"
    return owner


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


def article_detail(kb: KnowledgeBase, law_id: str, number: str, version: str | None) -> ArticleView:
    law_id = resolve_law(kb, law_id)
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
        CitingOwner(id=owner, name=_owner_name(kb, owner), label=c.label, paragraph=c.paragraph, clause=c.clause)
        for owner, c in kb.all_citations()
        if c.law_id == law_id and c.version == text.version and c.article == n and c.article_suffix == s
    ]
    law = kb.lawbook.laws[law_id]
    return ArticleView(
        law=LawRef(id=law_id, title=text.full_title, level=law.level),
        version=text.version.isoformat(),
        current=text is versions[-1] and not law.replaced_by,
        superseded=kb.lawbook.is_superseded(law_id, text.version),
        article=art.label, number=art.number, chapter=art.chapter,
        paragraphs=[ParagraphOut(text=p.text, items=p.items) for p in art.paragraphs],
        text=art.text,
        cited_by=citing,
    )


def citations_check(kb: KnowledgeBase) -> CitationsCheck:
    """What a legal reviewer must look at: citations to superseded texts, vendored laws whose
    articles no item cites, and items resting only on general clauses (总则/附则)."""
    superseded = [
        SupersededCitation(cited_by=owner, label=c.label, version=c.version.isoformat(),
                           current_version=(kb.lawbook.current(c.law_id).version.isoformat() if kb.lawbook.current(c.law_id) else None),
                           replaced_by=kb.lawbook.laws[c.law_id].replaced_by)
        for owner, c in kb.all_citations() if c.superseded
    ]
    cited_laws = {c.law_id for _, c in kb.all_citations()}
    uncited = [
        UncitedLaw(law=law_id, title=vs[-1].full_title)
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
            general_only.append(GeneralOnlyItem(item=item.id, name=item.name, citations=[c.label for c in cites]))
    return CitationsCheck(
        superseded_citations=superseded,
        laws_not_cited=uncited,
        items_only_general_clauses=general_only,
        counts={"superseded_citations": len(superseded), "laws_not_cited": len(uncited), "items_only_general_clauses": len(general_only)},
    )


# -- the county profile, as the operator page shows it ---------------------------------------
def county_list(root: Path) -> list[CountyOut]:
    """Every county profile of the KB: id, Chinese name, and whether it is example data (示例)."""
    out = []
    for cid in kb_counties(root):
        profile = read_county(root, cid).profile
        out.append(CountyOut(id=profile.id, name=profile.name, example=profile.example))
    return out


def county_profile(county: CountyFile, profile: ResponseProfile, kb: KnowledgeBase, today: date) -> CountyView:
    """What an operator needs of a county beside the matter: its townships, whom to ring (office,
    phone, hours; 示例 where the profile is example data) and the response deadline, counted in
    working days from today on the Chinese calendar."""
    steps = []
    for step in profile.steps:
        due, known = add_working_days(today, step.working_days)
        steps.append(ResponseStep(
            what=step.what, working_days=step.working_days,
            complexity={"simple": "一般事项", "complex": "复杂事项"}.get(step.complexity or "", None),
            due=due.isoformat(),
            note=None if known else "该年度法定节假日安排尚未收录,按周一至周五计算。",
        ))
    return CountyView(
        id=county.id, name=county.name, example=county.example, note=county.note,
        townships=[Ref(id=t.id, name=t.name) for t in county.townships],
        contacts=[
            CountyContact(party=c.party, name=kb.department_name(c.party), office=c.office, phone=c.phone,
                          person=c.person, hours=c.hours or county.office_hours, example=county.example or "示例" in c.phone)
            for c in county.contacts
        ],
        response=ResponseView(label=profile.label, source=kb.sources.get(profile.source, profile.source), steps=steps,
                              from_=today.isoformat()),
    )


def county_view(engine: Engine, county: str | None) -> CountyView:
    """county_profile of a loaded county, the deadline counted from today in China."""
    from .precheck import CHINA

    ctx = engine.county(county)
    profile = engine.profiles[ctx.loaded.county.policy.response_profile]
    return county_profile(ctx.loaded.county, profile, ctx.kb, datetime.now(CHINA).date())


def item_text(detail: ItemDetail) -> list[str]:
    """item_detail as a reviewer reads it on a terminal: every part of the 说明书, in Chinese."""
    out = [f"{detail.name}({detail.domain.name} · {detail.type})", f"县级部门职责:{detail.county_duties}",
           f"乡镇(街道)职责:{detail.township_duties}"]
    out += [f"{role} {p.name}:{p.duties}" + (f"(依据 {'、'.join(c.label for c in p.citations)})" if p.citations else "")
            for role, parties in (("主体责任", detail.primary), ("配合责任", detail.supporting)) for p in parties]
    out += [f"情形 {s.name} → 主体责任 {'、'.join(p.name for p in s.primary)}" for s in detail.scenarios]
    # the headings always: a reviewer must see that the list says nothing, not wonder if it was left out
    out.append("办理流程:" + ("" if detail.procedure else "清单未载明。"))
    out += [f"  {s.order}. {s.step}({s.actor.name}):{s.text}" for s in detail.procedure]
    out.append("办理时限:" + ("" if detail.time_limits else "清单未载明。"))
    out += [f"  {t.what}:{t.limit}" + (f"(依据 {t.basis.label})" if t.basis else "") for t in detail.time_limits]
    if detail.stationed_agencies:
        out.append("派驻机构:" + "、".join(a.name for a in detail.stationed_agencies))
    county = detail.county
    out.append(f"联系方式({county.name}):" if detail.contacts else f"联系方式:{county.name}资料未载明。")
    out += [f"  {c.name} {c.office} 电话 {c.phone}" + ("(示例,非真实电话)" if c.example else "") for c in detail.contacts]
    out += [f"依据 {c.label}:{c.text}" for c in detail.citations]
    return out
