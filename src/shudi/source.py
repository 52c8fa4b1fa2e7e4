"""The editable source of the knowledge base: YAML files under kb/, read into pydantic models.

These models are the schema county editors write against (docs/kb-authoring.md); the RDF
graph is compiled from them (shudi.graph).  Errors name the file and the line.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Annotated, Literal, TypeVar

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .settings import source_root

class DomainSrc(BaseModel):
    """One domain of the list (kb/domains.yaml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    name: str  # as the published table prints it
    prefix: str  # first part of its items' ids
    synonyms: tuple[str, ...] = ()  # how counties write it


def read_domains(path: Path) -> tuple[DomainSrc, ...]:
    """The domains in table order.  Written once in kb/domains.yaml: the eight domains are the
    reform's, not a county's, so the project's file is read even for a scratch copy of kb/."""
    return tuple(DomainSrc.model_validate(d) for d in yaml.safe_load(path.read_text(encoding="utf-8"))["domains"])


DOMAIN_LIST = read_domains(source_root() / "kb" / "domains.yaml")
DOMAINS: dict[str, str] = {d.id: d.name for d in DOMAIN_LIST}  # id → Chinese name, in table order
ITEM_TYPES = ("行政处罚", "行政检查", "行政强制", "其他")
_ID_RE = re.compile(r"^[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)*$")


def _kebab_id(v: str) -> str:
    if not _ID_RE.match(v):
        raise ValueError(f"identifier must be lower-case English kebab/dotted: {v!r}")
    return v


KebabId = Annotated[str, AfterValidator(_kebab_id)]  # the ids of items and scenarios


class KBSourceError(ValueError):
    """A KB source file that cannot be read; the message names the file and line."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CitationSrc(Strict):
    law: str
    article: int = Field(ge=1)
    article_suffix: int = Field(0, ge=0)  # 第N条之M
    paragraph: int | None = Field(None, ge=1)  # 款
    clause: int | None = Field(None, ge=1)  # 项
    version: date | None = None
    note: str | None = None


class PartySrc(Strict):
    party: str
    duties: str = Field(min_length=2)
    citations: list[CitationSrc] = []  # the articles this duty rests on (usually some of the item's)


class StepSrc(Strict):
    step: str
    actor: str
    text: str


class TimeLimitSrc(Strict):
    what: str
    limit: str
    working_days: int | None = Field(None, ge=0)
    days: int | None = Field(None, ge=0)
    hours: int | None = Field(None, ge=0)
    source: CitationSrc | str


class ScenarioSrc(Strict):
    id: KebabId
    name: str
    primary: list[str] | None = None
    citations: list[CitationSrc] = []
    facts: dict[str, str | bool] = {}
    triggers: list[str] = []


class ItemSrc(Strict):
    id: KebabId
    name: str
    alt_names: list[str] = []
    type: Literal["行政处罚", "行政检查", "行政强制", "其他"]
    county_duties: str
    township_duties: str
    primary: list[PartySrc]
    supporting: list[PartySrc]
    procedure: list[StepSrc] = []
    time_limits: list[TimeLimitSrc] = []
    citations: list[CitationSrc]
    scenarios: list[ScenarioSrc] = []
    source: str | None = None


class DomainFile(Strict):
    domain: str
    source: str = "src.template-list"
    items: list[ItemSrc]

    @field_validator("domain")
    @classmethod
    def _domain(cls, v: str) -> str:
        if v not in DOMAINS:
            raise ValueError(f"unknown domain {v!r}; one of {', '.join(DOMAINS)}")
        return v


class ScenarioExamplesSrc(Strict):
    scenario: str
    texts: list[str] = Field(min_length=1)


class ExamplesFile(Strict):
    """示例来电: messages as callers say them, per scenario, plus near-misses that are on no list
    item.  They teach the classifier how callers talk; kb/examples/ (baseline) and
    kb/counties/<id>/examples/ (a county's own items)."""

    domain: str | None  # null: a file of out-of-scope calls only (general 12345 topics)
    examples: list[ScenarioExamplesSrc] = []
    out_of_scope: list[str] = []

    @field_validator("domain")
    @classmethod
    def _domain(cls, v: str | None) -> str | None:
        if v is not None and v not in DOMAINS:
            raise ValueError(f"unknown domain {v!r}; one of {', '.join(DOMAINS)}")
        return v

    @model_validator(mode="after")
    def _scenario_examples_need_a_domain(self) -> "ExamplesFile":
        if self.domain is None and self.examples:
            raise ValueError("examples of scenarios belong in the file of their domain (domain: null holds out_of_scope only)")
        return self


class AgencySrc(Strict):
    id: str
    name: str
    alt: list[str] = []
    handles: list[str] = []


class DepartmentSrc(Strict):
    id: str
    name: str
    alt: list[str] = []
    level: Literal["county", "township", "village"]
    agencies: list[AgencySrc] = []


class DepartmentsFile(Strict):
    source: str
    departments: list[DepartmentSrc]


class SourceDoc(Strict):
    id: str
    title: str
    kind: str
    note: str | None = None


class SourcesFile(Strict):
    sources: list[SourceDoc]


class LawSrc(Strict):
    id: str
    title: str
    level: Literal["法律", "行政法规", "地方性法规", "部门规章"]
    category: str
    replaced_by: str | None = None


class LawRegistryFile(Strict):
    laws: list[LawSrc]


class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """SafeLoader that remembers where each mapping starts, for error messages (libyaml's when
    PyYAML has it: the KB's YAML parses ten times faster)."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _strip_lines(data: object) -> object:
    if isinstance(data, dict):
        return {k: _strip_lines(v) for k, v in data.items() if k != "__line__"}
    if isinstance(data, list):
        return [_strip_lines(v) for v in data]
    return data


def _line_of(data: object, loc: tuple[int | str, ...]) -> int | None:
    line = data.get("__line__") if isinstance(data, dict) else None
    node = data
    for key in loc:
        try:
            node = node[key]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, dict) and "__line__" in node:
            line = node["__line__"]
    return line


def load_yaml(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise KBSourceError(f"{path}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from exc
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        raise KBSourceError(f"{path}{where}: YAML syntax error: {getattr(exc, 'problem', exc)}") from exc


M = TypeVar("M", bound=BaseModel)


def read_model(path: Path, model: type[M]) -> M:
    raw = load_yaml(path)
    try:
        return model.model_validate(_strip_lines(raw))
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            line = _line_of(raw, err["loc"])
            loc = ".".join(str(p) for p in err["loc"])
            problems.append(f"{path}:{line or '?'}: {loc}: {err['msg']}")
        raise KBSourceError("\n".join(problems)) from exc


class ContactSrc(Strict):
    party: str
    office: str  # 责任科室
    phone: str  # must be marked 示例 in example profiles
    person: str | None = None
    hours: str | None = None  # 办公时间 of this office; default: the county's office_hours


class CountyPolicySrc(Strict):
    response_profile: str = "five-day"  # a profile id of rules/response-profiles.yaml


class ItemOverrideSrc(Strict):
    """County changes to a baseline item (清单调整): each field given replaces the baseline's."""

    item: str
    primary: list[PartySrc] | None = None
    supporting: list[PartySrc] | None = None
    county_duties: str | None = Field(None, min_length=2)  # 县级部门职责
    township_duties: str | None = Field(None, min_length=2)  # 乡镇(街道)职责
    citations: list[CitationSrc] | None = Field(None, min_length=1)  # 法律法规及文件依据
    reason: str

    def changes(self) -> dict[str, object]:
        """The item fields this override replaces."""
        return {f: getattr(self, f) for f in OVERRIDABLE if getattr(self, f) is not None}


OVERRIDABLE = ("primary", "supporting", "county_duties", "township_duties", "citations")


class TownshipSrc(Strict):
    id: str
    name: str
    alt: list[str] = []


class CountyFile(Strict):
    id: str
    name: str
    example: bool = False
    note: str | None = None
    version: int = 1  # bumped each time an approved change proposal is applied
    policy: CountyPolicySrc = CountyPolicySrc()
    office_hours: str | None = None  # 办公时间 of the county's offices, unless a contact says otherwise
    contacts: list[ContactSrc] = []
    remove_items: list[str] = []
    overrides: list[ItemOverrideSrc] = []
    townships: list[TownshipSrc] = []  # the county's townships and sub-districts (乡镇/街道)
