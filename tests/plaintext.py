"""What users read must not carry developers' words (issue 14): `fact=value` debris, dotted ids of
items, scenarios, rules and departments (ee.water-pollution, county.public-security), county ids
(template, example-a), raw booleans and JavaScript's empty values.  One pattern for the pages,
the handbook and the CLI's text mode."""

from __future__ import annotations

import re

DEBRIS = re.compile(r"[a-z_]+=|\b[a-z]+(?:\.[a-z0-9-]+)+\b|\bexample-[a-z]\b|<(?:str|int|bool|float|path)\b|"
                    r"\b(?:true|false|unknown|null|None|undefined|template|NaN)\b")


def debris(text: str) -> list[str]:
    return DEBRIS.findall(text)


def assert_plain(text: str, where: str) -> None:
    found = debris(text)
    assert not found, f"{where} shows developers' words: {found[:5]}"
