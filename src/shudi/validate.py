"""`shudi kb validate`: source checks, then the SHACL shapes (pyshacl) over the compiled graph."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pyshacl import validate as shacl_validate
from rdflib import Graph, Namespace

from .graph import TurtleError, parse_turtle
from .kb import KBLoadError, LoadedKB, load, project_root
from .sourcecheck import Problem

SH = Namespace("http://www.w3.org/ns/shacl#")


@dataclass
class ValidationReport:
    ok: bool
    errors: list[str]
    warnings: list[str]


def shacl_problems(data: Graph, root: Path) -> list[str]:
    shapes = parse_turtle(root / "ontologies" / "shapes.ttl")
    ontology = parse_turtle(root / "ontologies" / "shudi.ttl")
    conforms, report, _ = shacl_validate(data, shacl_graph=shapes, ont_graph=ontology, inference="none", allow_warnings=True)
    if conforms:
        return []
    out = []
    for result in report.subjects(predicate=None, object=SH.ValidationResult):
        focus = report.value(result, SH.focusNode)
        path = report.value(result, SH.resultPath)
        msg = report.value(result, SH.resultMessage)
        out.append(f"{focus} {path.n3(report.namespace_manager) if path else ''}: {msg}")
    return sorted(out)


def validate_kb(county: str = "template", root: Path | None = None) -> ValidationReport:
    root = root or project_root()
    try:
        loaded: LoadedKB = load(county, root)
    except KBLoadError as exc:
        return ValidationReport(False, str(exc).splitlines(), [])
    try:
        errors = shacl_problems(loaded.graph, root)
    except TurtleError as exc:
        return ValidationReport(False, [str(exc)], [])
    warnings = [str(p) for p in loaded.problems if p.level == "warning"]
    errors += [str(p) for p in loaded.problems if p.level == "error"]
    return ValidationReport(not errors, errors, warnings)


__all__ = ["ValidationReport", "validate_kb", "shacl_problems", "Problem"]
