"""The `shudi` command line (typer).  Every command that answers from the list takes --county."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Optional

import typer

from .kb import DEFAULT_COUNTY, KBLoadError, load, project_root
from .source import KBSourceError
from .sourcecheck import read_kb_source

app = typer.Typer(add_completion=False, no_args_is_help=True, help="属地管理 rules engine and knowledge base.")
kb_app = typer.Typer(no_args_is_help=True, help="Knowledge-base maintenance: validate, stats, vendor statutes.")
app.add_typer(kb_app, name="kb")

CountyOpt = typer.Option(DEFAULT_COUNTY, "--county", help="county profile id (kb/counties/<id>)")


def _emit(obj: object) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


def _fail(message: str, code: int = 1) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code)


@kb_app.command("validate")
def kb_validate(county: str = CountyOpt, as_json: bool = typer.Option(False, "--json")) -> None:
    """Check the KB: schema, identifiers, citations, SHACL shapes.  Exit 1 on any violation."""
    from .validate import validate_kb

    report = validate_kb(county)
    if as_json:
        _emit({"ok": report.ok, "errors": report.errors, "warnings": report.warnings})
    else:
        for line in report.errors:
            typer.echo(f"✗ {line}")
        for line in report.warnings:
            typer.echo(f"! {line}")
        typer.echo(f"KB {'valid' if report.ok else 'INVALID'}: {len(report.errors)} errors, {len(report.warnings)} warnings")
    raise typer.Exit(0 if report.ok else 1)


@kb_app.command("stats")
def kb_stats_cmd(county: str = CountyOpt, as_json: bool = typer.Option(False, "--json")) -> None:
    """Counts of domains, items, scenarios, departments, laws, articles, citations, triggers."""
    from .stats import kb_stats, per_domain

    try:
        loaded = load(county)
    except KBLoadError as exc:
        _fail(f"KB does not load:\n{exc}")
    stats = kb_stats(loaded.graph)
    if as_json:
        typer.echo(json.dumps(stats, ensure_ascii=False))
    else:
        for key, value in stats.items():
            typer.echo(f"{key:24} {value}")
        for row in per_domain(loaded.graph):
            typer.echo(f"  {row['domain']:28} items {row['items']:3}  scenarios {row['scenarios']:3}")


@kb_app.command("vendor-laws")
def kb_vendor_laws(
    from_dir: Path = typer.Option(Path("../shared/laws"), "--from", help="folder of official statute texts"),
) -> None:
    """Copy every version of each statute the KB cites into kb/laws/<category>/."""
    from .source import DomainFile, LawRegistryFile, read_model
    from .sourcecheck import cited_law_ids
    from .statutes import parse_file_name

    root = project_root()
    try:
        source = read_kb_source(root / "kb")
        registry = read_model(root / "kb" / "laws" / "registry.yaml", LawRegistryFile)
    except KBSourceError as exc:
        _fail(str(exc))
    county_files = [read_model(p, DomainFile) for p in sorted((root / "kb" / "counties").glob("*/items/*.yaml"))]
    cited = cited_law_ids([d for _, d in source.domains] + county_files)
    by_id = {law.id: law for law in registry.laws}
    # a repealed law's successor is vendored too, so reviewers can read what replaced it
    cited |= {by_id[c].replaced_by for c in list(cited) if c in by_id and by_id[c].replaced_by}
    wanted = {by_id[c].title: by_id[c] for c in cited if c in by_id}
    copied = 0
    for path in sorted(from_dir.glob("*/*.md")):
        title, _ = parse_file_name(path)
        law = wanted.get(title)
        if law is None:
            continue
        target = root / "kb" / "laws" / law.category / path.name
        if any(t.name == path.name for t in (root / "kb" / "laws").glob(f"*/{path.name}")):
            continue  # the same text filed under two categories upstream
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        copied += 1
    unknown = sorted(c for c in cited if c not in by_id)
    typer.echo(f"{len(wanted)} laws cited; {copied} files copied into kb/laws")
    if unknown:
        _fail("unknown law ids cited: " + ", ".join(unknown))


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
