"""Bounds checked before a workbook is opened (finding 13 of issue 17).

openpyxl expands every merged range into cell objects while it loads a sheet, and a sheet may
declare one cell at XFD1048576: a 5 KB file can then take gigabytes.  The sheet XML is scanned
first, as a stream, for the cells and merged ranges it declares; a workbook beyond what any list
needs is refused with a clear message before openpyxl sees it."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.etree.ElementTree import iterparse

from openpyxl.utils.cell import range_boundaries

# Lists run to hundreds of rows and a few dozen columns; these leave a wide margin.
MAX_ROWS = 20000
MAX_COLS = 200
MAX_MERGED_CELLS = 400000
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024

_SHEET = re.compile(r"^xl/worksheets/[^/]+\.xml$")


class WorkbookTooLarge(ValueError):
    """Chinese, then English."""


def _refuse(zh: str, en: str) -> WorkbookTooLarge:
    return WorkbookTooLarge(f"{zh} / {en}")


def _bounds(ref: str) -> tuple[int, int]:
    """(last row, last column) of a cell or range reference such as A1:XFD1048576."""
    min_col, min_row, max_col, max_row = range_boundaries(ref)
    return (max_row or min_row or 0, max_col or min_col or 0)


def check_workbook(path: Path) -> None:
    """Raise WorkbookTooLarge when a sheet declares cells or merges beyond the limits; other
    problems (not a zip, not a workbook) are left to openpyxl, which reports them."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return
    with zf:
        total = sum(i.file_size for i in zf.infolist())
        if total > MAX_UNZIPPED_BYTES:
            raise _refuse(f"工作簿解压后过大({total // 1048576} MB),未读取",
                          f"the workbook unpacks to {total // 1048576} MB, more than a list can be")
        for info in zf.infolist():
            if _SHEET.match(info.filename):
                with zf.open(info) as fh:
                    _check_sheet(fh, info.filename.rsplit("/", 1)[-1])


def _check_sheet(fh, name: str) -> None:  # type: ignore[no-untyped-def]  # a binary stream
    merged = 0
    for _, el in iterparse(fh, events=("end",)):
        tag = el.tag.rsplit("}", 1)[-1]
        ref = el.get("r") if tag in ("c", "row") else el.get("ref") if tag == "mergeCell" else None
        if ref:
            try:
                if tag == "row":
                    row, col = int(ref), 0
                else:
                    row, col = _bounds(ref)
            except ValueError:
                raise _refuse(f"工作表 {name} 含无法识别的单元格引用「{ref[:20]}」,未读取",
                              f"sheet {name} has an unreadable cell reference {ref[:20]!r}") from None
            if row > MAX_ROWS or col > MAX_COLS:
                raise _refuse(f"工作表 {name} 声明的单元格 {ref} 超出上限({MAX_ROWS} 行 × {MAX_COLS} 列),未读取",
                              f"sheet {name} declares cell {ref}, beyond {MAX_ROWS} rows × {MAX_COLS} columns")
            if tag == "mergeCell":
                min_col, min_row, max_col, max_row = range_boundaries(ref)
                merged += (max_row - min_row + 1) * (max_col - min_col + 1)
                if merged > MAX_MERGED_CELLS:
                    raise _refuse(f"工作表 {name} 合并的单元格过多,未读取", f"sheet {name} merges too many cells")
        if tag in ("c", "row", "mergeCell"):
            el.clear()
