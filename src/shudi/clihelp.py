"""Plain `--help` for every `shudi` command: option and argument names as click prints them
(`--county COUNTY`), not typer's type labels (`<str>`, `<int range>`, `<bool>`), and no rich
boxes that cut long option names in a narrow terminal.  Every Typer app of the CLI is built with
`cls=PlainGroup` and `rich_markup_mode=None`.  Also the --county option and the two ways a
command answers (JSON out, a message and an exit code), shared by the command modules."""

from __future__ import annotations

import json
from typing import Any

import typer
from typer.core import TyperArgument, TyperGroup, TyperOption

from .kb import DEFAULT_COUNTY

CountyOpt = typer.Option(DEFAULT_COUNTY, "--county", help="county profile id (kb/counties/<id>)")


def emit(obj: object) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


def fail(message: str, code: int = 1) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code)

# typer vendors its own click (typer._click): its commands and contexts are not the installed
# click's classes, so they are typed loosely here


def _no_type(ctx: Any) -> None:  # noqa: ARG001 - typer's display_type_rich signature
    return None


def plain_params(cmd: Any) -> Any:
    for p in cmd.params:
        if isinstance(p, TyperOption) and not p.is_flag and not p.count and p.metavar is None:
            p.metavar = (p.name or "value").upper()  # TyperOption shows its metavar instead of <type>
        elif isinstance(p, TyperArgument):
            if p.metavar is None:
                p.metavar = (p.name or "value").upper()
            # TyperArgument's help row always appends <type> after the name, metavar or not, and
            # its usage line wraps a required one in braces ({LAW}): plain names, as click writes them
            p.display_type_rich = _no_type  # type: ignore[method-assign]
            if p.required:
                p._usage_display_name = lambda p=p: p.metavar + ("..." if p.nargs != 1 else "")  # type: ignore[method-assign]
    return cmd


class PlainGroup(TyperGroup):
    """A command group whose subcommands print plain help (see the module docstring)."""

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        cmd = super().get_command(ctx, cmd_name)
        return plain_params(cmd) if cmd is not None else None

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """Each command's first sentence whole, wrapped, instead of cut to the terminal with '...'."""
        rows = [(name, cmd.get_short_help_str(limit=500)) for name in self.list_commands(ctx)
                if (cmd := self.get_command(ctx, name)) is not None and not cmd.hidden]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
