from __future__ import annotations

from pathlib import Path

import pytest

from shudi.statutes import StatuteFormatError, cn_to_int, int_to_cn, parse_statute


@pytest.mark.parametrize("n", [1, 9, 10, 11, 19, 20, 77, 100, 101, 102, 110, 119, 120, 1000, 1024])
def test_numerals_round_trip(n: int) -> None:
    assert cn_to_int(int_to_cn(n)) == n


def test_known_numerals() -> None:
    assert int_to_cn(77) == "七十七"
    assert int_to_cn(102) == "一百零二"
    assert int_to_cn(110) == "一百一十"
    assert cn_to_int("十") == 10


def test_parse_land_law(root: Path) -> None:
    path = next((root / "kb" / "laws").glob("*/土地管理法(2019-08-26).md"))
    law = parse_statute(path)
    assert law.full_title == "中华人民共和国土地管理法"
    assert str(law.version) == "2019-08-26"
    art = law.article(77)
    assert art is not None and art.label == "第七十七条"
    assert len(art.paragraphs) == 2
    raw = path.read_text(encoding="utf-8")
    # the article text is the file's text, not a retyped copy
    for para in art.paragraphs:
        assert para.text in raw
    assert art.paragraphs[0].text.startswith("未经批准或者采取欺骗手段骗取批准，非法占用土地的")
    assert law.article(78).chapter.startswith("第七章")


def test_items_attach_to_their_paragraph(root: Path) -> None:
    path = next((root / "kb" / "laws").glob("*/消防法(2021-04-29).md"))
    art = parse_statute(path).article(60)
    assert art is not None
    assert len(art.paragraphs) == 3
    assert len(art.paragraphs[0].items) == 7
    assert art.paragraphs[0].items[2].startswith("（三）占用、堵塞、封闭疏散通道、安全出口")


def test_bad_file_name(tmp_path: Path) -> None:
    bad = tmp_path / "no-date.md"
    bad.write_text("# x\n<!-- INFO END -->\n第一条 x\n", encoding="utf-8")
    with pytest.raises(StatuteFormatError, match="TITLE"):
        parse_statute(bad)


def test_file_without_articles(tmp_path: Path) -> None:
    bad = tmp_path / "空法(2020-01-01).md"
    bad.write_text("# 空法\n<!-- INFO END -->\n没有条文\n", encoding="utf-8")
    with pytest.raises(StatuteFormatError, match="no articles"):
        parse_statute(bad)
