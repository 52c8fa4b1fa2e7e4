"""What users read must not carry developers' words (issue 14): `fact=value` debris, dotted ids of
items, scenarios, rules and departments (ee.water-pollution, county.public-security), hyphenated
ids of laws and counties (land-administration-law, example-a), snake_case names, the English
names of the facts the engine reads (emergency, homestead …, taken from rules/cues.yaml and the
pre-check, so a new fact is covered the day it is added), raw booleans and JavaScript's empty
values.  One pattern for the pages, the handbook and the CLI's text mode."""

from __future__ import annotations

import re

import yaml

from shudi.kb import project_root
from shudi.precheck import FACTS as PRECHECK_FACTS


def _fact_names() -> list[str]:
    cues = yaml.safe_load((project_root() / "rules" / "cues.yaml").read_text(encoding="utf-8"))["cues"]
    names = {c["fact"] for c in cues} | set(PRECHECK_FACTS) | {"rural", "urban"}  # planning_area's values
    return sorted(names, key=len, reverse=True)


DEBRIS = re.compile(r"[a-z_]+=|\b[a-z]+(?:\.[a-z0-9-]+)+\b|\b[a-z]+(?:-[a-z0-9]+)+\b|\b[a-z]+(?:_[a-z0-9]+)+\b|"
                    r"<(?:str|int|bool|float|path)\b|"
                    r"\b(?:true|false|unknown|null|None|undefined|template|NaN|" + "|".join(_fact_names()) + r")\b")


def debris(text: str) -> list[str]:
    return DEBRIS.findall(text)


def assert_plain(text: str, where: str) -> None:
    found = debris(text)
    assert not found, f"{where} shows developers' words: {found[:5]}"
