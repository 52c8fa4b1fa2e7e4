"""工作手册: a printable HTML handbook of a county's list, rendered from the KB — the list table by
domain, then each matter's 说明书 (duties per party, scenarios, procedure as a flow chart, time
limits, contacts, cited article texts).  A PDF is printed with headless Chromium where present."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from html import escape
from pathlib import Path

from . import catalog
from .kb import LoadedKB
from .model import Item, KnowledgeBase

CSS = """
@page { size: A4; margin: 16mm 14mm 18mm;
        @bottom-center { content: "第 " counter(page) " 页,共 " counter(pages) " 页"; font-size: 9pt; color: #555; } }
@page list { size: A4 landscape; margin: 12mm 12mm 15mm;
             @bottom-center { content: "第 " counter(page) " 页,共 " counter(pages) " 页"; font-size: 9pt; color: #555; } }
@page cover { @bottom-center { content: none; } }
.cover { page: cover; }
.list { page: list; max-width: 273mm; margin: 0 auto; }
.manual { max-width: 190mm; margin: 0 auto; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "Microsoft YaHei", sans-serif;
       font-size: 10.5pt; color: #1d1d1d; line-height: 1.55; margin: 0 auto; max-width: 273mm; }
h1 { font-size: 20pt; text-align: center; margin: 40mm 0 6mm; }
h2 { font-size: 14pt; border-bottom: 2px solid #8b1a1a; padding-bottom: 2px; margin-top: 10mm; page-break-before: always; }
h3 { font-size: 12pt; margin: 6mm 0 2mm; color: #8b1a1a; }
h4 { font-size: 10.5pt; margin: 3mm 0 1mm; }
/* a heading never stands alone at a page's foot: it goes over with what it heads */
h2, h3, h4 { break-after: avoid; page-break-after: avoid; }
h4 + table, h4 + svg, h4 + p { break-before: avoid; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
.toc { page-break-before: always; max-width: 190mm; margin: 0 auto; }
.toc h2 { page-break-before: avoid; }
.toc ol { list-style: none; padding: 0; margin: 0; }
.toc li { display: flex; align-items: baseline; margin: 1mm 0; }
.toc li.part { font-weight: bold; margin-top: 3mm; }
.toc li.domain { font-weight: bold; margin: 2mm 0 0 4mm; }
.toc li.entry { margin-left: 8mm; }
.toc a { color: inherit; text-decoration: none; }
.toc .dots { flex: 1; border-bottom: 1px dotted #999; margin: 0 2mm; min-width: 10mm; }
.toc .pg { width: 12mm; text-align: right; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0; font-size: 9pt; }
th, td { border: 1px solid #777; padding: 2px 4px; vertical-align: top; }
th { background: #f1e6e6; }
.cover-note { text-align: center; color: #555; }
.example { color: #b00; font-weight: bold; }
.basis { color: #555; font-size: 8.5pt; }
.law { background: #faf8f2; border-left: 3px solid #c9a; padding: 2px 6px; margin: 1mm 0; white-space: pre-wrap; font-size: 9pt; }
.item { page-break-inside: avoid; }
.item + .item { page-break-before: always; }
svg text { font-family: inherit; }
"""


def _wrap(text: str, width: int) -> list[str]:
    return [text[i : i + width] for i in range(0, len(text), width)] or [""]


def flow_chart(kb: KnowledgeBase, item: Item) -> str:
    """The procedure as a vertical flow chart, inline SVG (no external renderer needed); a long
    step wraps onto more lines rather than being cut."""
    steps = item.procedure
    if not steps:
        return ""
    box_w, gap, chars = 620, 22, 46
    lines = [_wrap(step.text, chars) for step in steps]
    heights = [30 + 15 * len(ls) for ls in lines]
    height = sum(heights) + gap * (len(steps) - 1) + 8
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{box_w + 20}" height="{height}" role="img" '
             f'aria-label="{escape(item.name)}办理流程">',
             '<defs><marker id="arrow" markerWidth="8" markerHeight="8" refX="4" refY="4" orient="auto">'
             '<path d="M0,0 L8,4 L0,8 z" fill="#555"/></marker></defs>']
    y = 4
    for n, (step, box_h) in enumerate(zip(steps, heights)):
        fill = "#f1e6e6" if kb.departments.get(step.actor) and kb.departments[step.actor].level != "county" else "#e6eef6"
        parts.append(f'<rect x="10" y="{y}" width="{box_w}" height="{box_h}" rx="6" fill="{fill}" stroke="#555"/>')
        parts.append(f'<text x="22" y="{y + 19}" font-size="13" font-weight="bold">{n + 1}. {escape(step.step)} · '
                     f'{escape(kb.department_name(step.actor))}</text>')
        for k, line in enumerate(lines[n]):
            parts.append(f'<text x="22" y="{y + 37 + 15 * k}" font-size="11">{escape(line)}</text>')
        if n + 1 < len(steps):
            parts.append(f'<line x1="{10 + box_w / 2}" y1="{y + box_h}" x2="{10 + box_w / 2}" y2="{y + box_h + gap - 2}" '
                         'stroke="#555" marker-end="url(#arrow)"/>')
        y += box_h + gap
    parts.append("</svg>")
    return "".join(parts)


def _table(rows: list[list[str]], head: list[str], widths: list[int] | None = None) -> str:
    cols = "<colgroup>" + "".join(f'<col style="width:{w}%">' for w in widths) + "</colgroup>" if widths else ""
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table>{cols}<thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


# the published list is a wide table: duties get the room, one-word columns stay narrow
LIST_HEAD = ["序号", "事项类型", "事项名称", "县级部门职责", "乡镇(街道)职责", "法律法规及文件依据", "主体责任", "配合责任"]
LIST_WIDTHS = [4, 6, 9, 24, 24, 15, 8, 10]


def list_order(kb: KnowledgeBase) -> list[tuple[str, list[Item]]]:
    """The list's own order: by domain as the list publishes them, each domain's items as its
    file gives them (the order of the published list), numbered straight through."""
    return [(dname, items) for did, dname in kb.domains.items() if (items := [i for i in kb.items.values() if i.domain == did])]


def _toc(order: list[tuple[str, list[Item]]], pages: dict[str, int]) -> str:
    """The table of contents; `pages` (anchor → page number) comes from a first printing, as
    Chromium does not resolve target-counter(): the cell keeps its width empty or filled, so the
    second printing paginates exactly as the first."""
    def entry(anchor: str, text: str, cls: str) -> str:
        pg = pages.get(anchor)
        return (f"<li class='{cls}'><a href='#{escape(anchor)}'>{escape(text)}</a><span class='dots'></span>"
                f"<span class='pg'>{pg if pg else ''}</span></li>")

    out = ["<div class='toc'><h2 id='toc'>目录</h2><ol>", entry("part-list", "一、“属地管理”事项主体责任和配合责任清单", "part")]
    out += [entry(f"list-{k}", f"{dname}领域", "domain") for k, (dname, _) in enumerate(order)]
    out.append(entry("part-manual", "二、事项说明书", "part"))
    n = 0
    for dname, items in order:
        out.append(f"<li class='domain'>{escape(dname)}领域</li>")
        for item in items:
            n += 1
            out.append(entry(_anchor(item), f"{n}. {item.name}", "entry"))
    out.append("</ol></div>")
    return "".join(out)


def _anchor(item: Item) -> str:
    return "item-" + item.id.replace(".", "-")


def render(loaded: LoadedKB, pages: dict[str, int] | None = None) -> str:
    kb, county = loaded.kb, loaded.county
    order = list_order(kb)
    out = [f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>{escape(county.name)}“属地管理”工作手册</title>"
           f"<style>{CSS}</style></head><body><div class='cover'>",
           f"<h1>{escape(county.name)}<br>“属地管理”工作手册</h1>",
           f"<p class='cover-note'>清单版本 {county.version} · 共 {len(kb.items)} 项事项</p>"]
    if county.example:
        out.append("<p class='cover-note example'>示例数据:本手册所列联系方式均为示例占位,不是真实电话。</p>")
    out.append("</div>")
    out.append(_toc(order, pages or {}))
    out.append("<div class='list'><h2 id='part-list'>一、“属地管理”事项主体责任和配合责任清单</h2>")
    n = 0
    for k, (dname, items) in enumerate(order):
        out.append(f"<h3 id='list-{k}'>{escape(dname)}领域</h3>")
        rows = []
        for item in items:
            n += 1
            rows.append([str(n), escape(item.type), f"<a href='#{_anchor(item)}'>{escape(item.name)}</a>", escape(item.county_duties),
                         escape(item.township_duties), "<br>".join(escape(c.label) for c in item.citations),
                         escape("、".join(kb.department_name(p.party) for p in item.primary)),
                         escape("、".join(kb.department_name(p.party) for p in item.supporting))])
        out.append(_table(rows, LIST_HEAD, LIST_WIDTHS))
    out.append("</div><div class='manual'><h2 id='part-manual'>二、事项说明书</h2>")
    n = 0
    for item in (i for _, items in order for i in items):
        n += 1
        detail = catalog.item_detail(kb, county, item.id)
        out.append(f"<section class='item' id='{_anchor(item)}'><h3>{n}. {escape(item.name)}</h3>")
        out.append(f"<p>领域:{escape(kb.domains[item.domain])} · 事项类型:{escape(item.type)}</p>")
        out.append("<h4>责任分工</h4>")
        rows = [[("主体责任" if p in item.primary else "配合责任"), escape(kb.department_name(p.party)),
                 escape(p.duties) + ("<br><span class='basis'>依据:" + "、".join(escape(c.label) for c in p.citations) + "</span>"
                                     if p.citations else "")]
                for p in (*item.primary, *item.supporting)]
        out.append(_table(rows, ["责任", "单位", "职责"], [10, 20, 70]))
        out.append("<h4>具体情形</h4>")
        rows = [[escape(s.name), escape("、".join(p.name for p in s.primary)), escape("、".join(s.triggers[:6]))]
                for s in detail.scenarios]
        out.append(_table(rows, ["情形", "主体责任", "常见说法"], [35, 20, 45]))
        out.append("<h4>办理流程</h4>")
        out.append(flow_chart(kb, item))
        if item.time_limits:
            out.append("<h4>办理时限</h4>")
            rows = [[escape(t.what), escape(t.limit), escape((t.basis.label if t.basis else None) or t.source or "")]
                    for t in detail.time_limits]
            out.append(_table(rows, ["环节", "时限", "依据"]))
        if detail.contacts:
            out.append("<h4>联系方式</h4>")
            rows = [[escape(c.name), escape(c.office), escape(c.phone), escape(c.hours or "")] for c in detail.contacts]
            out.append(_table(rows, ["单位", "责任科室", "联系电话", "办公时间"]))
        out.append("<h4>法律依据</h4>")
        seen: set[str] = set()
        for c in [*detail.citations, *(c for s in detail.scenarios for c in s.citations)]:
            if c.label in seen:
                continue
            seen.add(c.label)
            note = "(该文本已被新版本取代)" if c.superseded else ""
            out.append(f"<p><b>{escape(c.label)}</b>({escape(c.version.isoformat())}版){note}</p><div class='law'>{escape(c.text)}</div>")
        out.append("</section>")
    out.append("</div></body></html>")
    return "".join(out)


def print_pdf(html_path: Path, pdf_path: Path) -> bool:
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not browser:
        return False
    profile = tempfile.mkdtemp(prefix="shudi-chromium-")  # its own profile: never a folder of the user's
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
           "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
           "--no-pdf-header-footer", f"--print-to-pdf={pdf_path}", html_path.resolve().as_uri()]
    try:
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
        return False
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return pdf_path.is_file()


def write_handbook(loaded: LoadedKB, out_dir: Path, pdf: bool = True) -> dict[str, str | None]:
    out_dir.mkdir(parents=True, exist_ok=True)
    html_path = out_dir / f"handbook-{loaded.kb.county}.html"
    html_path.write_text(render(loaded), encoding="utf-8")
    pdf_path = out_dir / f"handbook-{loaded.kb.county}.pdf"
    made = pdf and print_pdf(html_path, pdf_path)
    if made:
        # second printing: the table of contents gets the page numbers the first one found
        pages = anchor_pages(pdf_path)
        if pages:
            html_path.write_text(render(loaded, pages), encoding="utf-8")
            made = print_pdf(html_path, pdf_path)
    return {"html": str(html_path), "pdf": str(pdf_path) if made else None}


def anchor_pages(pdf_path: Path) -> dict[str, int]:
    """Page number (from 1) of every anchor the PDF links to: Chromium writes each link target as a
    named destination."""
    from pypdf import PdfReader

    reader = PdfReader(pdf_path)
    return {name.lstrip("/"): reader.get_destination_page_number(dest) + 1 for name, dest in reader.named_destinations.items()}
