"""Pydantic models at the edges: the /v1/classify and /v1/calls/precheck contract, shared by
the Python API, the CLI (--json) and the HTTP service."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_TEXT = 5000


class Ref(BaseModel):
    id: str
    name: str


class SupportingParty(Ref):
    duties: str


class CitationOut(BaseModel):
    law: str  # full title, e.g. 中华人民共和国土地管理法
    law_id: str
    version: date
    superseded: bool
    article: str  # 第七十七条
    article_number: int
    paragraph: int | None = None
    clause: int | None = None
    label: str  # 《中华人民共和国土地管理法》第七十七条第一款
    text: str


class Candidate(BaseModel):
    item: Ref
    domain: Ref
    scenario: Ref | None
    score: float = Field(ge=0, le=1)
    primary: list[Ref]
    supporting: list[SupportingParty]
    citations: list[CitationOut]
    evidence: list[str]
    rules: list[str]


class ClassifyResult(BaseModel):
    matched: bool
    candidates: list[Candidate]
    text: str = Field(description="the original text, for display")
    normalized: str = Field(description="the text as matched (cleaned, simplified)")
    facts: dict[str, bool] = Field(default_factory=dict, description="facts read from the text (emergency, planning_area...)")
    county: str = "template"
    confidence: float | None = Field(None, description="how sure the best candidate is on the list (the classifier's confidence)")
    unsure: bool = Field(False, description="matched, but with a confidence under rules/classifier.yaml unsure_below: check by hand")
    level: str | None = Field(None, description="how sure the answer is: 高, 中 or 低 (低 is also unsure); None when not matched")
    level_share_correct: float | None = Field(None, description="measured share of answers at this level whose primary department was right")
    off_list_topic: str | None = Field(None, description="when not matched: the off-list topic the message resembles (学校教育, 医疗卫生…), if any")


def _text_ok(v: str) -> str:
    if not v or not v.strip():
        raise ValueError("text is empty / 文本为空")
    if len(v) > MAX_TEXT:
        raise ValueError(f"text longer than {MAX_TEXT} characters / 文本超过{MAX_TEXT}字")
    return v


class ClassifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(description="what the caller said", max_length=MAX_TEXT)
    top_k: int = Field(3, ge=1, le=20)
    county: str | None = None

    @field_validator("text")
    @classmethod
    def _text(cls, v: str) -> str:
        return _text_ok(v)


class CallFacts(BaseModel):
    model_config = ConfigDict(extra="forbid")
    emergency: bool | None = None
    studied_cannot_solve: bool | None = None
    within_township_authority: bool | None = None
    dispatched_agency_can_solve: bool | None = None


class PrecheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str | None = Field(None, max_length=MAX_TEXT)
    item_id: str | None = None
    township: str = Field(min_length=1, max_length=100)
    facts: CallFacts = CallFacts()
    at: datetime | None = None
    county: str | None = None
    complexity: Literal["simple", "complex"] | None = None

    @field_validator("text")
    @classmethod
    def _text(cls, v: str | None) -> str | None:
        return None if v is None else _text_ok(v)


class Reason(BaseModel):
    rule: str
    principle: str
    why: str
    source: str


class Deadline(BaseModel):
    what: str
    working_days: int
    due: date | None
    note: str | None = None


class AgencyRef(Ref):
    department: str


class PrecheckResult(BaseModel):
    decision: Literal["call", "no_call", "study_first"]
    mode: Literal["urgent", "normal"] | None
    item: Ref | None
    scenario: Ref | None
    township: str
    call_departments: list[Ref]
    coordinate_agencies: list[AgencyRef]
    facts: dict[str, bool | None]
    derived: dict[str, str]
    reasons: list[Reason]
    deadlines: list[Deadline]
    response_profile: str
    at: datetime
    county: str
