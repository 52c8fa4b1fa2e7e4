"""Case files: the 说明书's expectations as YAML beside the rules (rules/tests/), one pytest item
per case, named by the case's own (Chinese) name — the way openfisca-core's YAML plugin runs a
country package's tests.

A file names its kind and holds `cases`:

    kind: rules          # facts given to one rule set → the rules that fire (and only those)
    ruleset: determination
    cases:
      - {name: …, facts: {…}, fires: [rule ids]}

    kind: classify | precheck | delegation    # a request to the service's function → its answer
    cases:
      - name: …
        request: {…}     # the fields of ClassifyRequest / PrecheckRequest / DelegationRequest
        expect: {…}      # the answer's fields that must hold (see VIEWS for the names)
        absent_items: […]  # classify only: matters that must be among no candidate (a county's removals)

Files in a sub-folder named after a county (rules/tests/example-a/) run against that county's list:
they hold the cases where the county differs from the baseline.  Registered by the project's root
conftest.py; `pytest rules/tests` runs only the cases.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from shudi.contract import ClassifyRequest, ClassifyResult, PrecheckRequest, PrecheckResult
from shudi.delegation import DelegationRequest, DelegationResult, check_delegation
from shudi.engine import Engine
from shudi.precheck import precheck

CASES_DIR = Path("rules") / "tests"
ENGINE = pytest.StashKey[Engine]()


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    facts: dict[str, str] | None = None
    fires: list[str] | None = None
    request: dict[str, Any] | None = None
    expect: dict[str, Any] | None = None
    absent_items: list[str] = []


class CaseFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["rules", "classify", "precheck", "delegation"]
    ruleset: str | None = None
    cases: list[Case] = Field(min_length=1)

    @model_validator(mode="after")
    def _shape(self) -> CaseFile:
        for case in self.cases:
            if self.kind == "rules" and (self.ruleset is None or case.facts is None or case.fires is None):
                raise ValueError(f"{case.name}: a rules case file names its ruleset; each case gives facts and fires")
            if self.kind != "rules" and (case.request is None or not (case.expect or case.absent_items)):
                raise ValueError(f"{case.name}: a {self.kind} case gives a request and what to expect")
            if case.absent_items and self.kind != "classify":
                raise ValueError(f"{case.name}: absent_items is for classify cases")
        if len({c.name for c in self.cases}) != len(self.cases):
            raise ValueError("two cases share a name")
        return self


def _ids(refs: list[Any]) -> list[str]:
    return [r.id for r in refs]


def _classify_view(r: ClassifyResult) -> dict[str, Any]:
    top = r.candidates[0] if r.matched and r.candidates else None
    return {
        "matched": r.matched,
        "item": top.item.id if top else None,
        "scenario": top.scenario.id if top and top.scenario else None,
        "domain": top.domain.id if top else None,
        "primary": _ids(top.primary) if top else [],
        "supporting": _ids(top.supporting) if top else [],
        "rules": top.rules if top else [],
        "top3_items": list(dict.fromkeys(c.item.id for c in r.candidates))[:3],
        "candidate_items": [c.item.id for c in r.candidates],
        "facts": r.facts,
    }


def _precheck_view(r: PrecheckResult) -> dict[str, Any]:
    return {
        "decision": r.decision,
        "mode": r.mode,
        "item": r.item.id if r.item else None,
        "scenario": r.scenario.id if r.scenario else None,
        "township": r.township,
        "call_departments": _ids(r.call_departments),
        "coordinate_agencies": _ids(r.coordinate_agencies),
        "facts": r.facts,
        "rules": [reason.rule for reason in r.reasons],
        "working_days": [d.working_days for d in r.deadlines],
        "response_profile": r.response_profile,
    }


def _delegation_view(r: DelegationResult) -> dict[str, Any]:
    return {
        "decision": r.decision,
        "department": r.department.id,
        "item": r.item.id if r.item else None,
        "department_role": r.department_role,
        "township_role": r.township_role,
        "rules": [reason.rule for reason in r.reasons],
    }


def _run_classify(engine: Engine, request: dict[str, Any]) -> dict[str, Any]:
    req = ClassifyRequest.model_validate(request)
    return _classify_view(engine.classify(req.text, top_k=req.top_k, county=req.county))


def _run_precheck(engine: Engine, request: dict[str, Any]) -> dict[str, Any]:
    return _precheck_view(precheck(engine, PrecheckRequest.model_validate(request)))


def _run_delegation(engine: Engine, request: dict[str, Any]) -> dict[str, Any]:
    return _delegation_view(check_delegation(engine, DelegationRequest.model_validate(request)))


# kind → (the service function, returning the answer as the plain fields a case may expect)
VIEWS: dict[str, Callable[[Engine, dict[str, Any]], dict[str, Any]]] = {
    "classify": _run_classify,
    "precheck": _run_precheck,
    "delegation": _run_delegation,
}


class CaseFailed(AssertionError):
    pass


def check_case(engine: Engine, spec: CaseFile, case: Case, county: str | None) -> None:
    """Raises CaseFailed naming each expected field that does not hold."""
    if spec.kind == "rules":
        fired = [f.rule.id for f in engine.rules.evaluate(spec.ruleset or "", [case.facts or {}])]
        if fired != case.fires:
            raise CaseFailed(f"{case.name}: fired {fired}, expected {case.fires}")
        return
    request = dict(case.request or {})
    if county is not None:
        request.setdefault("county", county)
    got = VIEWS[spec.kind](engine, request)
    unknown = sorted(set(case.expect or {}) - set(got))
    if unknown:
        raise CaseFailed(f"{case.name}: no answer field {unknown}; a {spec.kind} case may expect {sorted(got)}")
    wrong = {k: (v, got[k]) for k, v in (case.expect or {}).items() if got[k] != v}
    present = [i for i in case.absent_items if i in got.get("candidate_items", [])]
    if present:
        wrong["candidate_items"] = (f"none of {present}", got["candidate_items"])
    if wrong:
        raise CaseFailed(f"{case.name}: " + "; ".join(f"{k}: expected {v!r}, got {g!r}" for k, (v, g) in wrong.items()))


def _case_lines(text: str) -> list[int]:
    """The line of each case in the file (1-based), for the report."""
    root = yaml.compose(text)
    for key, value in root.value if root is not None else []:
        if key.value == "cases":
            return [node.start_mark.line + 1 for node in value.value]
    return []


class CaseFileCollector(pytest.File):
    def collect(self) -> Iterator[CaseItem]:
        text = self.path.read_text(encoding="utf-8")
        spec = CaseFile.model_validate(yaml.safe_load(text))
        folder = self.path.parent.name
        county = None if self.path.parent == self.config.rootpath / CASES_DIR else folder
        lines = _case_lines(text)
        for i, case in enumerate(spec.cases):
            yield CaseItem.from_parent(self, name=case.name, spec=spec, case=case, county=county,
                                       line=lines[i] if i < len(lines) else 0)


class CaseItem(pytest.Item):
    def __init__(self, *, spec: CaseFile, case: Case, county: str | None, line: int, **kw: Any) -> None:
        super().__init__(**kw)
        self.spec, self.case, self.county, self.line = spec, case, county, line

    def runtest(self) -> None:
        engine = self.config.stash.get(ENGINE, None)
        if engine is None:  # one engine per test process, built by the first case that needs it
            engine = self.config.stash[ENGINE] = Engine(self.config.rootpath)
        check_case(engine, self.spec, self.case, self.county)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:  # noqa: ANN401
        if isinstance(excinfo.value, CaseFailed):
            return f"{self.path.name}:{self.line}: {excinfo.value}"
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, max(self.line - 1, 0), f"{self.spec.kind} case: {self.name}"


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> CaseFileCollector | None:
    cases = parent.config.rootpath / CASES_DIR
    if file_path.suffix == ".yaml" and cases in file_path.parents:
        return CaseFileCollector.from_parent(parent, path=file_path)
    return None
