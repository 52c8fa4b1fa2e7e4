"""Excel in, Excel out: the list as counties publish it (《"属地管理"事项主体责任和配合责任清单》).

`export_workbook` writes a county's resolved list as the published table (sheet 清单: title row,
header row, one row per item with the nine columns 序号 … 配合责任, plus hidden 事项编码/别名/来源
columns), with 情形, 程序时限, 乡镇 and 联系方式 sheets.  `import_workbook` reads such a table back —
also the tables counties actually publish (title rows, varying header names, merged cells,
department abbreviations, their own names for the matters, no 情形 sheet).

The package, in reading order: limits (bounds checked before opening), grid (cells and header
rows; header vocabulary in rules/excel-headers.yaml), parties (departments, domains, types),
context (the KB an import resolves against), matching (rows → items by meaning), reader (sheets →
rows), plan (rows → county overrides and items), write (county files), importer, export.
Citation text is read by shudi.citations (it is not about Excel).
"""

from ..citations import CitationParser, citation_label
from .export import export_workbook
from .importer import import_workbook
from .parties import DomainMatcher, PartyMatcher, map_item_type, parse_parties
from .report import ExportReport, ImportReport, Issue, RowOutcome

__all__ = [
    "CitationParser",
    "DomainMatcher",
    "ExportReport",
    "ImportReport",
    "Issue",
    "PartyMatcher",
    "RowOutcome",
    "citation_label",
    "export_workbook",
    "import_workbook",
    "map_item_type",
    "parse_parties",
]
