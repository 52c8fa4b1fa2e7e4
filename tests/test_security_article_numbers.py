"""Finding 14: article numbers that are not numerals are refused (422), never read as another article."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from shudi.api import create_app
from shudi.engine import Engine
from shudi.statutes import cn_to_int


@pytest.mark.parametrize("bad", ["七七", "十十", "十百", "零", "一一"])
def test_non_numerals_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        cn_to_int(bad)


@pytest.mark.parametrize(("text", "n"), [("七十七", 77), ("十", 10), ("一十二", 12), ("一百零二", 102), ("二百〇五", 205)])
def test_numerals_still_read(text: str, n: int) -> None:
    assert cn_to_int(text) == n


def test_api_answers_422(engine: Engine) -> None:
    client = TestClient(create_app(engine=engine))
    for bad in ("七七", "十十"):
        r = client.get(f"/v1/laws/land-administration-law/articles/{bad}")
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_article_number", r.text
    assert client.get("/v1/laws/land-administration-law/articles/七十七").json()["number"] == 77
