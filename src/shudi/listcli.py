"""`shudi list …`: a county's list from the command line — diff between versions, change
proposals and decisions, the audit log, and the published table in and out of Excel."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from .clihelp import CountyOpt, PlainGroup, emit as _emit, fail as _fail
from .kb import KBLoadError, project_root

if TYPE_CHECKING:
    from .proposals import ListChanges, Principal

list_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, cls=PlainGroup, help="A county's list: diff, change proposals, audit, Excel import/export.")


@list_app.command("diff")
def list_diff(
    old: str = typer.Argument(..., help="a version number of `shudi list proposals` (e.g. 2), a git revision (e.g. HEAD~1), "
                                        "a county folder (kb/counties/example-a) or a folder holding kb/"),
    new: str = typer.Argument("WORKTREE", help="as OLD; default: the list as it is now"),
    county: str = CountyOpt,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """What changed in the county's list between two versions (in Chinese)."""
    from .diff import RevisionError, diff_versions

    try:
        d = diff_versions(project_root(), county, old, new)
    except RevisionError as exc:
        _fail(str(exc), 2)
    typer.echo(d.model_dump_json(indent=2) if as_json else d.to_text())


def _changes() -> "ListChanges":
    from .engine import Engine
    from .proposals import ListChanges

    return ListChanges(Engine())


def _who(changes: "ListChanges", token: Optional[str], allowed: tuple[str, ...]) -> "Principal":
    from .errors import PermissionDenied
    from .proposals import authorize

    try:
        return authorize(changes.tokens, token, allowed)
    except PermissionDenied as exc:
        _fail(str(exc), 3)
    raise AssertionError("unreachable")


TokenOpt = typer.Option(None, "--token", envvar="SHUDI_TOKEN", help="API token (role proposer or reviewer)")


@list_app.command("propose")
def list_propose(
    file: Path = typer.Argument(..., help="YAML/JSON proposal: kind, item_id, reason, and domain+item / primary / supporting"),
    county: str = CountyOpt,
    token: Optional[str] = TokenOpt,
) -> None:
    """Submit a change proposal (validated, recorded as pending; nothing is applied)."""
    import yaml
    from pydantic import ValidationError

    from .errors import ShudiError
    from .proposals import ProposalIn

    changes = _changes()
    who = _who(changes, token, ("proposer", "reviewer"))
    try:
        p = ProposalIn.model_validate(yaml.safe_load(file.read_text(encoding="utf-8")))
        out = changes.propose(county, p, who)
    except (ValidationError, ShudiError) as exc:
        _fail(f"proposal refused / 变更申请未通过校验:\n{exc}", 2)
    typer.echo(out.model_dump_json(indent=2))


@list_app.command("decide")
def list_decide(
    proposal: int = typer.Argument(...),
    approve: bool = typer.Option(..., "--approve/--reject"),
    note: Optional[str] = typer.Option(None, "--note"),
    county: str = CountyOpt,
    token: Optional[str] = TokenOpt,
) -> None:
    """Approve (apply as a new version) or reject a pending proposal — reviewer role."""
    from .errors import ShudiError

    changes = _changes()
    who = _who(changes, token, ("reviewer",))
    try:
        out = changes.decide(county, proposal, who, approve, note)
    except ShudiError as exc:
        _fail(str(exc), 2)
    typer.echo(out.model_dump_json(indent=2))


@list_app.command("proposals")
def list_proposals(county: str = CountyOpt, status: Optional[str] = typer.Option(None, "--status")) -> None:
    """List change proposals of a county."""
    _emit([p.model_dump() for p in _changes().list(county, status)])


@list_app.command("import")
def list_import(
    file: Path = typer.Argument(..., help="the county's published table (.xlsx)"),
    county: str = CountyOpt,
    name: Optional[str] = typer.Option(None, "--name", help="county name when the county is new"),
    partial: bool = typer.Option(False, "--partial", help="take what validates and report the rest (never removes)"),
    replace_list: bool = typer.Option(False, "--replace-list", help="the table is the whole list: baseline items it does not name are removed"),
    dry_run: bool = typer.Option(False, "--dry-run", help="check only: the review table, nothing recorded or written"),
    as_json: bool = typer.Option(False, "--json", help="one JSON object: rows (sheet, row, item, status, confidence, problems) and the changes"),
    token: Optional[str] = TokenOpt,
) -> None:
    """Import a county list from Excel.  The change set becomes a change proposal (proposer
    token), applied at once only with a reviewer token; --dry-run records and writes nothing."""
    from .errors import ShudiError
    from .excel import import_workbook

    if not file.is_file():
        _fail(f"没有这个文件 / no such file: {file.name}", 2)
    report = import_workbook(file, project_root(), county, name=name, partial=partial, replace_list=replace_list,
                             dry_run=dry_run, write=False)
    if report.ok and report.ops and not dry_run:
        from .countyfiles import ChangeSet

        changes = _changes()
        who = _who(changes, token, ("proposer", "reviewer"))
        try:
            out = changes.propose_changes(county, ChangeSet.model_validate({"ops": report.ops}), f"导入 {file.name}", who)
            report.proposal = out.id
            if who.role == "reviewer":
                changes.decide(county, out.id, who, True, f"shudi list import {file.name}")
                report.written = True
        except ShudiError as exc:
            report.ok = False
            _fail(f"导入未能提交 / import not filed:\n{exc}", 2)
    typer.echo(json.dumps(report.review(), ensure_ascii=False, indent=2) if as_json else report.to_text())
    raise typer.Exit(0 if report.ok else 1)


@list_app.command("export")
def list_export(
    file: Path = typer.Argument(..., help="output .xlsx"),
    county: str = CountyOpt,
) -> None:
    """Export the county's list as the published table (plus 情形 and 程序时限 sheets)."""
    from .excel import export_workbook

    try:
        report = export_workbook(project_root(), county, file)
    except KBLoadError as exc:
        _fail(f"KB does not load:\n{exc}")
    typer.echo(f"{report.path}: {report.items} items, {report.scenarios} scenarios, {report.steps} steps, {report.time_limits} time limits")


@list_app.command("audit")
def list_audit(county: Optional[str] = typer.Option(None, "--county"), limit: int = typer.Option(100, "--limit")) -> None:
    """The append-only audit log of writes."""
    _emit(_changes().store.audit_log(county, limit))
