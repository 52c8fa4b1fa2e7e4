"""Issue 17, finding 16 and "HTTP hygiene": security headers on every answer (a CSP that fits the
pages, checked in a real browser), CORS closed unless configured, rate limits on writes, SPARQL
and diffs, and no server path in any answer."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shudi.api import create_app
from shudi.engine import Engine
from shudi.kb import project_root
from shudi.settings import Settings

ROOT = project_root()


@pytest.fixture(scope="module")
def client(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(root=ROOT), engine=engine), raise_server_exceptions=False) as c:
        yield c


def _csp(resp) -> dict[str, str]:  # noqa: ANN001
    return {d.split()[0]: d.split(None, 1)[1] if " " in d.strip() else "" for d in
            (p.strip() for p in resp.headers["content-security-policy"].split(";")) if d}


def test_security_headers_on_pages_answers_and_errors(client: TestClient) -> None:
    for path in ("/", "/platform", "/v1/lists/template/handbook", "/healthz", "/v1/items/no.such", "/docs", "/nothing"):
        r = client.get(path)
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["x-frame-options"] == "DENY", path
        assert r.headers["referrer-policy"] == "no-referrer", path
        csp = _csp(r)
        assert csp["frame-ancestors"] == "'none'", path
        if r.headers["content-type"].startswith("text/html") and path != "/docs":
            assert "'unsafe-inline'" not in csp["script-src"], path
            assert csp["object-src"] == "'none'" and csp["base-uri"] == "'none'"
        elif not r.headers["content-type"].startswith("text/html"):
            assert csp["default-src"] == "'none'", path


def test_the_csp_allows_exactly_the_pages_own_scripts(client: TestClient) -> None:
    for path in ("/", "/platform"):
        r = client.get(path)
        scripts = re.findall(r"<script>(.*?)</script>", r.text, re.S)
        assert scripts, path
        allowed = _csp(r)["script-src"].split()
        for body in scripts:
            digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in allowed, path
        assert not re.search(r"<[^>]+\son[a-z]+=", r.text), f"{path} has an inline event handler the CSP would block"


def test_the_pages_run_under_their_csp_in_a_browser() -> None:
    """Chromium loads both pages from a real server: their scripts run and nothing is blocked."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from bench.devserver import running_server

    drv = _browser()
    try:
        with running_server(ROOT, timeout=180) as (base, _proc):
            drv.get(base + "/")
            WebDriverWait(drv, 60).until(lambda d: "知识库已就绪" in d.find_element(By.ID, "kb-status").text)
            drv.get(base + "/platform")
            WebDriverWait(drv, 60).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "option")) > 1)
            drv.get(base + "/docs")
            WebDriverWait(drv, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock"))
            logs = drv.get_log("browser")
    finally:
        drv.quit()
    blocked = [e["message"] for e in logs if "Content Security Policy" in e["message"]]
    assert not blocked, blocked


def _browser():  # noqa: ANN202
    import tempfile

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    from tests.test_web import CHROMEDRIVER, CHROMIUM

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
                "--disable-background-networking", "--no-proxy-server", f"--user-data-dir={tempfile.mkdtemp()}"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=opts, service=Service(executable_path=CHROMEDRIVER))


def test_cors_is_closed_by_default(client: TestClient) -> None:
    pre = client.options("/v1/classify", headers={"origin": "https://evil.example", "access-control-request-method": "POST"})
    assert "access-control-allow-origin" not in pre.headers
    r = client.get("/v1/domains", headers={"origin": "https://evil.example"})
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers


def test_cors_opens_to_the_configured_origins_only(engine: Engine) -> None:
    app = create_app(Settings(root=ROOT, cors_origins=["https://hotline.example"]), engine=engine)
    with TestClient(app, raise_server_exceptions=False) as c:
        ok = c.options("/v1/classify", headers={"origin": "https://hotline.example", "access-control-request-method": "POST"})
        assert ok.headers["access-control-allow-origin"] == "https://hotline.example"
        r = c.get("/v1/domains", headers={"origin": "https://evil.example"})
        assert "access-control-allow-origin" not in r.headers


def test_rate_limits_on_writes_sparql_and_diff(engine: Engine) -> None:
    settings = Settings(root=ROOT, rate_writes="3/minute", rate_sparql="2/minute", rate_diff="1/minute")
    app = create_app(settings, engine=engine)
    with TestClient(app, raise_server_exceptions=False, client=("10.0.0.7", 1)) as c:
        writes = [c.post("/v1/lists/template/proposals", json={}).status_code for _ in range(4)]
        assert writes[:3] == [401, 401, 401] and writes[3] == 429  # counted whatever the answer
        limited = c.post("/v1/calls", json={})
        err = limited.json()["error"]
        assert limited.status_code == 429 and err["code"] == "rate_limited" and "过于频繁" in err["message_zh"]
        assert int(limited.headers["retry-after"]) >= 1 and limited.headers["x-content-type-options"] == "nosniff"
        # reading POSTs are not writes
        assert all(c.post("/v1/classify", json={"text": "违章建筑"}).status_code == 200 for _ in range(5))
        q = {"query": "ASK { ?s ?p ?o }"}
        assert [c.get("/sparql", params=q).status_code for _ in range(3)] == [200, 200, 429]
        assert [c.get("/v1/lists/template/diff", params={"from": "HEAD"}).status_code != 429 for _ in range(2)] == [True, False]
        # another client has its own allowance
        other = TestClient(app, raise_server_exceptions=False, client=("10.0.0.8", 1))
        assert other.get("/sparql", params=q).status_code == 200


SERVER_PATH = re.compile(r"(/tmp/|/work/|/home/|/root/|/usr/|site-packages|\.py\b)")


def test_no_server_path_in_any_error(mini_root: Path) -> None:
    app = create_app(Settings(root=mini_root), engine=Engine(mini_root))
    with TestClient(app, raise_server_exceptions=False) as c:
        answers = [
            c.get("/v1/lists/template/diff", params={"from": "no-such-revision"}),
            c.get("/v1/lists/template/diff", params={"from": "HEAD~1", "to": "HEAD"}),
            c.get("/v1/laws/no-such-law"),
            c.get("/v1/items", params={"county": "../../etc"}),
            c.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o FILTER(<urn:f>(?s)) }"}),
            c.post("/v1/classify", content=b"{", headers={"content-type": "application/json"}),
        ]
        (mini_root / "kb" / "counties" / "template" / "county.yaml").write_text("{{{ not yaml", encoding="utf-8")
        answers.append(c.get("/v1/items"))
        answers.append(c.get("/readyz"))
    assert answers[-2].status_code == 503 and "county.yaml" in answers[-2].text  # the file is still named
    for r in answers:
        assert 400 <= r.status_code < 600 and "error" in r.json(), r.text
        assert not SERVER_PATH.search(r.text), r.text
        assert str(mini_root) not in r.text
