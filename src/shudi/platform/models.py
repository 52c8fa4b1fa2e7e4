"""Pydantic models at the platform's edges (HTTP and CLI)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..contract import MAX_TEXT, CallFacts

Action = Literal["accept", "assess", "dispatch", "sign", "return", "feedback", "rate", "reopen", "close",
                 "rate_township", "handover"]
Speed = Literal["及时", "响应慢", "不响应"]
Effect = Literal["好", "较好", "一般", "差"]


class CallIn(BaseModel):
    """A township's call, filed from a pre-check: the platform runs the pre-check again itself."""

    model_config = ConfigDict(extra="forbid")
    county: str | None = Field(None, max_length=64)
    township: str | None = Field(None, max_length=100, description="default: the token's township")
    text: str | None = Field(None, max_length=MAX_TEXT)
    item_id: str | None = Field(None, max_length=128)
    facts: CallFacts = CallFacts()
    urgency: Literal["normal", "urgent"] = "normal"
    complexity: Literal["simple", "complex"] | None = None
    reason: str | None = Field(None, max_length=2000, description="required when the pre-check says no_call")
    at: datetime | None = Field(None, description="when the call is filed; default now")


class TaskIn(BaseModel):
    """双向派单 (黄陂): a department hands a township a list matter that is the township's duty."""

    model_config = ConfigDict(extra="forbid")
    county: str | None = Field(None, max_length=64)
    township: str = Field(min_length=1, max_length=100)
    department: str | None = Field(None, max_length=128, description="default: the token's department")
    task: str | None = Field(None, max_length=MAX_TEXT)
    item_id: str | None = Field(None, max_length=128)
    approved: bool | None = None
    at: datetime | None = None


class ReportIn(BaseModel):
    """双向派单 (黄陂): a street reports a list matter it found that a county department owns."""

    model_config = ConfigDict(extra="forbid")
    county: str | None = Field(None, max_length=64)
    township: str | None = Field(None, max_length=100)
    text: str | None = Field(None, max_length=MAX_TEXT)
    item_id: str | None = Field(None, max_length=128)
    found_at: datetime
    at: datetime | None = None


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Action
    expected_version: int | None = Field(None, ge=1, description="compare-and-set: refuse (409) if the call moved on")
    reason: str | None = Field(None, max_length=2000)
    department: str | None = Field(None, max_length=128, description="assess: the owner; default the list's primary")
    agency: str | None = Field(None, max_length=128, description="assess: a stationed agency of the owner")
    complexity: Literal["simple", "complex"] | None = None
    result: str | None = Field(None, max_length=5000, description="feedback: what was done")
    speed: Speed | None = None
    effect: Effect | None = None
    cooperation: Effect | None = None
    at: datetime | None = Field(None, description="when it happened; default now")


class EventOut(BaseModel):
    seq: int
    at: datetime
    actor: str
    role: str
    unit: str | None
    action: str
    action_label: str
    from_state: str | None
    to_state: str | None
    reason: str | None
    data: dict[str, Any]


class DeadlineOut(BaseModel):
    step: str
    what: str
    working_days: int | None
    anchor_at: datetime
    due_at: datetime
    done_at: datetime | None
    status: Literal["open", "met", "late", "overdue"]
    calendar_known: bool


class CallOut(BaseModel):
    id: int
    county: str
    flow: str
    flow_label: str
    township: str
    township_name: str
    department: str | None
    department_name: str | None
    agency: str | None
    agency_name: str | None
    item_id: str | None
    item_name: str | None
    text: str
    urgency: str
    complexity: str | None
    state: str
    state_label: str
    version: int
    flagged: bool
    flag_reason: str | None
    example: bool
    found_at: datetime | None
    created_at: datetime
    updated_at: datetime
    overdue: bool
    next_due: datetime | None
    supervision_level: int
    speed: str | None
    effect: str | None
    satisfied: bool | None
    cooperation: str | None
    on_time: bool | None
    allowed_actions: list[str] = []
    detail: dict[str, Any] = {}


class CallDetail(CallOut):
    events: list[EventOut]
    deadlines: list[DeadlineOut]


class CallList(BaseModel):
    total: int
    calls: list[CallOut]


class SweepOut(BaseModel):
    raised: list[dict[str, Any]]


class Bucket(BaseModel):
    key: str
    label: str
    count: int


class Dashboard(BaseModel):
    county: str
    total: int
    by_matter: list[Bucket]
    by_department: list[Bucket]
    by_township: list[Bucket]
    by_month: list[Bucket]
    by_state: list[Bucket]
    on_time_share: float | None
    satisfaction: float | None
    overdue: int
    flagged: int
    returned: int
