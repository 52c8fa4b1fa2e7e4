"""Typed views of the list for readers (API, CLI --json): the shapes `catalog` answers in.
The classify / pre-check contract lives in `contract`; these are the list's reading side."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .contract import CitationOut, Ref
from .diff import ListDiff


class DomainOut(BaseModel):
    id: str
    name: str
    items: int


class DepartmentOut(BaseModel):
    id: str
    name: str
    alt_names: list[str]
    level: str
    kind: str
    department: str | None
    handles: list[str]


class DepartmentItemRow(BaseModel):
    item: Ref
    scenario: Ref | None = None
    domain: str
    role: str
    duties: str


class DepartmentItems(BaseModel):
    department: Ref
    items: list[DepartmentItemRow]


class ItemSummary(BaseModel):
    id: str
    name: str
    domain: Ref
    type: str
    primary: list[Ref]
    scenarios: int


class PartyOut(Ref):
    duties: str
    citations: list[CitationOut] = []  # the articles this party's duty rests on, where the list names them


class ScenarioOut(BaseModel):
    id: str
    name: str
    primary: list[Ref]
    facts: dict[str, Any]
    triggers: list[str]
    citations: list[CitationOut]


class StepOut(BaseModel):
    order: int
    step: str
    actor: Ref
    text: str


class TimeLimitOut(BaseModel):
    what: str
    limit: str
    working_days: int | None = None
    days: int | None = None
    hours: int | None = None
    basis: CitationOut | None = None
    source: str | None = None


class AgencyOut(Ref):
    department: str | None


class ContactOut(BaseModel):
    party: str
    name: str
    office: str
    phone: str
    hours: str | None = None
    example: bool


class SourceRef(BaseModel):
    id: str
    title: str


class CountyRef(BaseModel):
    id: str
    name: str
    example: bool


class ItemDetail(BaseModel):
    id: str
    name: str
    domain: Ref
    type: str
    alt_names: list[str]
    county_duties: str
    township_duties: str
    primary: list[PartyOut]
    supporting: list[PartyOut]
    scenarios: list[ScenarioOut]
    procedure: list[StepOut]
    time_limits: list[TimeLimitOut]
    citations: list[CitationOut]
    stationed_agencies: list[AgencyOut]
    contacts: list[ContactOut]
    source: SourceRef
    county: CountyRef


class LawSummary(BaseModel):
    id: str
    title: str
    short_title: str
    level: str
    current_version: str
    versions: list[str]
    replaced_by: str | None
    citations: int


class LawVersionOut(BaseModel):
    version: str
    current: bool
    superseded_by: str | None
    articles: int
    history: list[str]
    file: str


class LawDetail(BaseModel):
    id: str
    title: str
    short_title: str
    level: str
    replaced_by: str | None
    versions: list[LawVersionOut]
    cited_articles: list[str]


class LawRef(BaseModel):
    id: str
    title: str
    level: str


class ParagraphOut(BaseModel):
    text: str
    items: list[str]


class CitingRow(BaseModel):
    id: str
    label: str
    paragraph: int | None
    clause: int | None


class CitingOwner(CitingRow):
    """A citing row with the Chinese name of what cites (the CLI prints it; the API's
    ArticleDetail answers without it)."""

    name: str


class ArticleDetail(BaseModel):
    law: LawRef
    version: str
    current: bool
    superseded: bool
    article: str
    number: int
    chapter: str
    paragraphs: list[ParagraphOut]
    text: str
    cited_by: list[CitingRow]


class ArticleView(ArticleDetail):
    """article_detail as catalog builds it: ArticleDetail whose citing rows carry their names."""

    cited_by: list[CitingOwner]


class SupersededCitation(BaseModel):
    cited_by: str
    label: str
    version: str
    current_version: str | None
    replaced_by: str | None


class UncitedLaw(BaseModel):
    law: str
    title: str


class GeneralOnlyItem(BaseModel):
    item: str
    name: str
    citations: list[str]


class CitationsCheck(BaseModel):
    superseded_citations: list[SupersededCitation]
    laws_not_cited: list[UncitedLaw]
    items_only_general_clauses: list[GeneralOnlyItem]
    counts: dict[str, int]


class Health(BaseModel):
    status: str


class Ready(BaseModel):
    status: str
    county: str
    county_name: str
    kb: dict[str, Any]


class CountyOut(BaseModel):
    id: str
    name: str
    example: bool


class CountyContact(BaseModel):
    party: str
    name: str
    office: str
    phone: str
    person: str | None = None
    hours: str | None = None
    example: bool


class ResponseStep(BaseModel):
    what: str
    working_days: int
    complexity: str | None
    due: str
    note: str | None


class ResponseView(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    label: str
    source: str
    steps: list[ResponseStep]
    from_: str = Field(alias="from")


class CountyView(BaseModel):
    id: str
    name: str
    example: bool
    note: str | None
    townships: list[Ref]
    contacts: list[CountyContact]
    response: ResponseView


class VersionOut(BaseModel):
    version: int
    proposal: int
    fingerprint: str
    at: str


class AuditEntry(BaseModel):
    id: int
    at: str
    actor: str
    role: str
    action: str
    county: str
    detail: dict[str, Any]


class DiffOut(ListDiff):
    text: str
