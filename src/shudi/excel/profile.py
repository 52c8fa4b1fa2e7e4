"""The county's townships (乡镇 sheet) and contacts (联系方式 sheet), read and written.

A county brought in from its table needs both: the pre-check names the township a call comes
from, and the handbook and answers give each department's office and phone."""

from __future__ import annotations

import re
from collections import Counter

from openpyxl.workbook import Workbook
from pydantic import ValidationError
from pypinyin import lazy_pinyin

from ..model import KnowledgeBase
from ..source import ContactSrc, CountyFile, TownshipSrc
from .context import Context, aux_rows
from .grid import CONTACT_SPEC, TOWNSHIP_SPEC, Grid, Header
from .report import ImportReport
from .text import CONTACT_SHEET, TOWNSHIP_SHEET, split_list

TOWNSHIP_HEADERS = ["编码", "乡镇(街道)", "别名"]
CONTACT_HEADERS = ["单位", "责任科室", "联系人", "电话", "办公时间"]


def township_id(name: str, taken: set[str]) -> str:
    """城关街道 → chengguan-jiedao (a slug the pre-check and the files can use)."""
    base = re.sub(r"[^a-z0-9]+", "-", "-".join(lazy_pinyin(re.sub(r"[(（].*?[)）]", "", name))).lower()).strip("-") or "township"
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    taken.add(candidate)
    return candidate


def read_townships(grid: Grid, h: Header, report: ImportReport) -> list[TownshipSrc]:
    out: list[TownshipSrc] = []
    taken: set[str] = set()
    for a in aux_rows(grid, h):
        name = a.values.get("name", "").strip()
        if not name:
            report.issues.append(a.issue("error", "name", "乡镇(街道)名称为空", TOWNSHIP_SPEC))
            continue
        given = a.values.get("id", "").strip()
        if given and not re.fullmatch(r"[a-z0-9][a-z0-9-]*", given):
            report.issues.append(a.issue("error", "id", f"乡镇编码「{given}」只能用小写字母、数字和连字符", TOWNSHIP_SPEC))
            continue
        if given in taken:
            report.issues.append(a.issue("error", "id", f"乡镇编码「{given}」重复", TOWNSHIP_SPEC))
            continue
        if given:
            taken.add(given)
        out.append(TownshipSrc(id=given or township_id(name, taken), name=name, alt=split_list(a.values.get("alt", ""))))
    return out


def read_contacts(grid: Grid, h: Header, ctx: Context, report: ImportReport) -> tuple[list[ContactSrc], str | None]:
    """The contacts, and the county's office hours: the 办公时间 most rows give (the others keep
    their own), as the export writes each office's hours out in full."""
    rows: list[tuple[ContactSrc, str]] = []
    for a in aux_rows(grid, h):
        text = a.values.get("party", "").strip()
        party = ctx.parties.match(text) if text else None
        if party is None:
            guess = ctx.parties.suggest(text) if text else None
            report.issues.append(a.issue("error", "party", f"无法识别的单位「{text}」" + (f"(最接近的是{guess})" if guess else "")
                                         if text else "单位为空", CONTACT_SPEC))
            continue
        try:
            rows.append((ContactSrc(party=party, office=a.values.get("office", "").strip() or ctx.party_name(party),
                                    phone=a.values.get("phone", "").strip(), person=a.values.get("person", "").strip() or None),
                         a.values.get("hours", "").strip()))
        except ValidationError as exc:
            report.issues.append(a.issue("error", None, f"联系方式不合法:{exc.errors()[0]['msg']}", CONTACT_SPEC))
    given = Counter(hours for _, hours in rows if hours)
    office_hours = given.most_common(1)[0][0] if given else None
    # an office whose own hours the county file already names keeps them, even when they are the county's
    own = {c.party: c.hours for c in (ctx.county_file.contacts if ctx.county_file else []) if c.hours}
    return [c.model_copy(update={"hours": hours}) if hours and (hours != office_hours or own.get(c.party) == hours) else c
            for c, hours in rows], office_hours


def write_profile_sheets(wb: Workbook, county: CountyFile, kb: KnowledgeBase, put, header_row) -> None:  # type: ignore[no-untyped-def]
    """Append the 乡镇 and 联系方式 sheets (put / header_row: the export's cell writers)."""
    ws = wb.create_sheet(TOWNSHIP_SHEET)
    header_row(ws, 1, TOWNSHIP_HEADERS, [24, 24, 40])
    for r, t in enumerate(county.townships, 2):
        for c, value in enumerate([t.id, t.name, "、".join(t.alt)], 1):
            put(ws, r, c, value)
    ws = wb.create_sheet(CONTACT_SHEET)
    header_row(ws, 1, CONTACT_HEADERS, [28, 28, 16, 24, 36])
    for r, ct in enumerate(county.contacts, 2):
        hours = ct.hours or county.office_hours or ""
        for c, value in enumerate([kb.department_name(ct.party), ct.office, ct.person or "", ct.phone, hours], 1):
            put(ws, r, c, value)
