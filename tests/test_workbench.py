"""What users read, off the page: the CLI's text mode, the county profile and the law look-up by
title (issue 14).  No internal id or English fact name reaches a reader."""

from __future__ import annotations

import re

import subprocess
import sys

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from shudi.api import create_app
from shudi.cli import app
from shudi.engine import Engine
from tests.plaintext import debris as plain

runner = CliRunner()


def cli(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_cli_text_mode_speaks_chinese() -> None:
    for args in (("classify", "村里有人在耕地上盖房子"), ("classify", "液化气罐泄漏了"), ("classify", "用电打鱼"),
                 ("precheck", "--township", "东关镇", "--text", "液化气罐泄漏了"),
                 ("precheck", "--township", "东关镇", "--text", "河里有人偷偷排污水", "--no-emergency"),
                 ("item", "非法占用土地"), ("law", "土地管理法", "77"), ("law", "中华人民共和国土地管理法")):
        out = cli(*args)
        assert not plain(out), f"shudi {' '.join(args)} shows {plain(out)[:5]}"
    assert "人工核对" in cli("classify", "用电打鱼")  # an unsure answer says so on the terminal too


def test_cli_item_is_the_whole_manual() -> None:
    out = cli("item", "秸秆焚烧")
    for part in ("办理流程:", "办理时限:" , "联系方式", "电话", "示例", "依据 《"):
        assert part in out, part
    assert cli("item", "ee.straw-burning") == out  # the id still works, for scripts
    many = runner.invoke(app, ["item", "噪声"])
    assert many.exit_code == 2 and "多个事项" in many.output


def test_law_by_title_short_title_or_id(engine: Engine) -> None:
    by_id = cli("law", "land-administration-law", "77")
    assert cli("law", "土地管理法", "77") == by_id == cli("law", "《中华人民共和国土地管理法》", "第七十七条")
    assert "第七十七条" in by_id and "被引用: 非法占用土地" in by_id
    client = TestClient(create_app(engine=engine))
    assert client.get("/v1/laws/土地管理法").json()["id"] == "land-administration-law"
    assert client.get("/v1/laws/土地管理法/articles/77").json()["article"] == "第七十七条"
    missing = client.get("/v1/laws/火星法")
    assert missing.status_code == 404 and "火星法" in missing.json()["error"]["message_zh"]


def test_help_is_plain() -> None:
    for args in (["--help"], ["precheck", "--help"], ["classify", "--help"], ["law", "--help"]):
        out = runner.invoke(app, args, env={"COLUMNS": "80"}).output
        assert "<bool>" not in out and "╭" not in out, out
    out = runner.invoke(app, ["precheck", "--help"], env={"COLUMNS": "80"}).output
    assert "--agency-can-solve / --agency-cannot-solve" in out  # whole option names, never cut


def test_cli_prints_no_library_chatter() -> None:
    done = subprocess.run([sys.executable, "-m", "shudi.cli", "classify", "河里有人偷偷排污水"],
                          capture_output=True, text=True, timeout=300, check=True)
    assert "Building prefix dict" not in done.stderr and "Loading model" not in done.stderr, done.stderr
    assert "主体责任" in done.stdout


def test_county_profile_for_the_operator(engine: Engine) -> None:
    client = TestClient(create_app(engine=engine))
    counties = client.get("/v1/counties").json()
    assert {"id": "template", "name": "模板县(示例)", "example": True} in counties
    profile = client.get("/v1/counties/template").json()
    assert profile["townships"] and all(t["name"] for t in profile["townships"])
    contact = next(c for c in profile["contacts"] if c["party"] == "county.agriculture-rural")
    assert contact["name"] == "县农业农村局" and contact["example"] and "示例" in contact["phone"] and contact["hours"]
    steps = profile["response"]["steps"]
    assert steps[-1]["working_days"] == 5 and steps[-1]["due"] > profile["response"]["from"]
    assert client.get("/readyz").json()["county_name"] == "模板县(示例)"
    assert client.get("/v1/counties/mars").status_code == 404


def test_classify_flags_unsure_answers_and_never_repeats_the_owner(engine: Engine) -> None:
    unsure = engine.classify("用电打鱼")
    assert unsure.matched and unsure.unsure and unsure.confidence < engine.params.unsure_below
    sure = engine.classify("河里有人偷偷排污水")
    assert sure.matched and not sure.unsure
    for text in ("楼上邻居装修噪音太大", "村里有人在耕地上盖房子", "广场舞音响太吵了"):
        for c in engine.classify(text).candidates:
            assert not {p.id for p in c.primary} & {s.id for s in c.supporting}, (text, c.item.name)
            assert not [e for e in c.evidence if plain(e)], c.evidence


def test_precheck_reasons_carry_no_rule_ids(engine: Engine) -> None:
    client = TestClient(create_app(engine=engine))
    for facts in ({}, {"emergency": False}, {"emergency": False, "studied_cannot_solve": True}):
        r = client.post("/v1/calls/precheck", json={"township": "东关镇", "text": "河里有人偷偷排污水", "facts": facts}).json()
        for reason in r["reasons"]:
            for part in (reason["principle"], reason["why"], reason["source"]):
                assert not plain(part), part


def _commands(group, path=()):  # noqa: ANN001, ANN202 - every command path of the CLI
    import typer.main

    cmd = typer.main.get_command(app) if group is None else group
    ctx = cmd.make_context("shudi", ["--help"], resilient_parsing=True) if hasattr(cmd, "make_context") else None
    for name in getattr(cmd, "list_commands", lambda _ctx: [])(ctx):
        sub = cmd.get_command(ctx, name)
        yield (*path, name)
        yield from _commands(sub, (*path, name))


def test_every_help_is_plain() -> None:
    """No typer type labels (<str>, <int range>), no braces, no command summary cut with '...'."""
    paths = [(), *_commands(None)]
    assert ("call", "report") in paths and ("list", "import") in paths
    for path in paths:
        out = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "80"}).output
        assert not re.search(r"<(?:str|int|bool|float|path|text)\b|\{[A-Z_]+\}|╭", out), f"shudi {' '.join(path)} --help:\n{out}"
        assert not re.search(r"\w\.\.\.\n", out.split("Commands:")[-1] if "Commands:" in out else ""), out


def test_call_text_mode_is_plain(tmp_path) -> None:  # noqa: ANN001
    """`shudi call` in text mode: names and labels, never ids; the action words are given beside them."""
    env = {"SHUDI_DB_URL": f"sqlite:///{tmp_path / 'p.sqlite'}", "SHUDI_PLATFORM_TOKENS": "", "SHUDI_COUNTY": "template"}
    town, disp = "example:template:township:chengguan", "example:template:dispatcher:"

    def call(*args: str) -> str:
        result = runner.invoke(app, ["call", *args], env=env)
        assert result.exit_code == 0, result.output
        assert not plain(result.output), f"shudi call {' '.join(args[:2])} shows {plain(result.output)[:5]}"
        return result.output

    out = call("file", "--text", "村里有人在耕地上盖房子", "--studied", "--no-agency", "--token", town)
    cid = out.split("第")[1].split("号")[0]
    assert "责任单位:县" in out and "(accept)" not in out  # the township cannot accept
    assert "受理(accept)" in call("show", cid, "--token", disp)
    call("act", cid, "accept", "--token", disp)
    call("list", "--token", disp)
    call("list", "--supervision", "--token", "example:template:supervisor:")
    # 双向派单 in 示例县甲, where 秸秆禁烧 is the township's duty on the list
    out = call("task", "--county", "example-a", "--township", "huanghe", "--item", "ee.straw-burning", "--token",
               "example:example-a:department:county.ecology-environment")
    assert "秸秆" in out and "签收(sign)" not in out
