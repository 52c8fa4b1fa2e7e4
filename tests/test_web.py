"""The operator page (GET /) in a real browser: headless Chromium driven by Selenium against the
real service (uvicorn on a free loopback port, started here).  Screenshots of each state are
saved to test-output/ for a person to look at.

Never skipped: a machine without Chromium fails here (`make test` installs it; see `make browser`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait

from shudi.devserver import running_server
from shudi.kb import project_root

ROOT = project_root()
OUT = Path(__file__).resolve().parents[1] / "test-output"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WIDTH, HEIGHT = 1366, 768

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with running_server(ROOT, timeout=180) as (url, _proc):
        yield url


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    for path in (CHROMIUM, CHROMEDRIVER):
        assert Path(path).is_file(), (
            f"{path} is missing: the browser test needs Debian's chromium and chromium-driver "
            "(run `make browser`, or apt-get install chromium chromium-driver)"
        )
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--no-proxy-server", "--lang=zh-CN",
                f"--window-size={WIDTH},{HEIGHT}",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(options=opts, service=Service(executable_path=CHROMEDRIVER))
    drv.set_page_load_timeout(60)
    # the viewport exactly 1366×768, whatever the window decorations of this Chromium build
    drv.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                        {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False})
    OUT.mkdir(exist_ok=True)
    try:
        yield drv
    finally:
        drv.quit()


@pytest.fixture
def page(driver: WebDriver, base: str) -> WebDriver:
    driver.get(base + "/")
    WebDriverWait(driver, 30).until(lambda d: "知识库已就绪" in d.find_element(By.ID, "kb-status").text)
    return driver


def tid(root: WebDriver | WebElement, testid: str) -> WebElement:
    return root.find_element(By.CSS_SELECTOR, f"[data-testid={testid}]")


def tids(root: WebDriver | WebElement, testid: str) -> list[WebElement]:
    return root.find_elements(By.CSS_SELECTOR, f"[data-testid={testid}]")


def wait_state(driver: WebDriver, box_id: str, states: tuple[str, ...]) -> str:
    WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, box_id).get_attribute("data-state") in states)
    return driver.find_element(By.ID, box_id).get_attribute("data-state")


def shot(driver: WebDriver, name: str) -> None:
    driver.save_screenshot(str(OUT / f"web-{name}.png"))


def no_horizontal_scroll(driver: WebDriver) -> None:
    width = driver.execute_script("return document.documentElement.scrollWidth")
    assert width <= WIDTH, f"page is {width}px wide, wider than a {WIDTH}px screen"


def js_errors(driver: WebDriver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def classify(driver: WebDriver, text: str, *, ctrl_enter: bool = False) -> str:
    box = driver.find_element(By.ID, "classify-text")
    box.clear()
    box.send_keys(text)
    if ctrl_enter:
        box.send_keys(Keys.CONTROL, Keys.ENTER)
    else:
        driver.find_element(By.ID, "classify-btn").click()
    return wait_state(driver, "result", ("matched", "nomatch", "error"))


def department_names(base: str) -> set[str]:
    depts = httpx.get(f"{base}/v1/departments", timeout=30).json()
    return {d["name"] for d in depts} | {a for d in depts for a in d["alt_names"]}


def test_classify_shows_primary_party(page: WebDriver, base: str) -> None:
    text = "村里有人在耕地上盖房子"
    assert classify(page, text) == "matched"
    result = page.find_element(By.ID, "result")
    first = tids(result, "candidate")[0]
    item_name = tid(first, "item-name").text.strip()
    primaries = [e.text.strip() for e in tids(first, "primary-party")]
    assert item_name
    assert primaries and all(primaries)
    known = department_names(base)
    assert all(p in known for p in primaries), f"{primaries} are not department names"
    assert tid(first, "primary").is_displayed()

    # what the page shows is what the API says
    api = httpx.post(f"{base}/v1/classify", json={"text": text, "top_k": 3}, timeout=30).json()
    top = api["candidates"][0]
    assert item_name == top["item"]["name"]
    assert primaries == [p["name"] for p in top["primary"]]
    assert tid(first, "domain").text == top["domain"]["name"]
    assert len(tids(result, "candidate")) == len(api["candidates"])
    assert [c.text for c in first.find_elements(By.CSS_SELECTOR, "[data-testid=evidence] .chip")] == top["evidence"]
    if top["supporting"]:
        assert [e.text for e in tids(first, "supporting-party")] == [s["name"] for s in top["supporting"]]

    # the article text is folded away until asked for
    if top["citations"]:
        cite = tids(first, "citation")[0]
        assert tid(cite, "citation-label").text == top["citations"][0]["label"]
        assert not tid(cite, "citation-text").is_displayed()
        cite.find_element(By.TAG_NAME, "summary").click()
        assert tid(cite, "citation-text").is_displayed() and tid(cite, "citation-text").text.strip()
    no_horizontal_scroll(page)
    page.execute_script("document.getElementById('classify-out').scrollTop = 0")
    shot(page, "classify")
    assert not js_errors(page)


def test_ctrl_enter_and_top_k(page: WebDriver, base: str) -> None:
    Select(page.find_element(By.ID, "top-k")).select_by_value("1")
    assert classify(page, "小区楼顶有人私搭乱建", ctrl_enter=True) == "matched"
    cands = tids(page.find_element(By.ID, "result"), "candidate")
    assert len(cands) == 1
    assert tid(cands[0], "item-name").text.strip()
    assert all(e.text.strip() in department_names(base) for e in tids(cands[0], "primary-party"))
    shot(page, "classify-top1")


def test_no_match_is_said_plainly(page: WebDriver) -> None:
    assert classify(page, "我想问一下养老金什么时候发") == "nomatch"
    result = page.find_element(By.ID, "result")
    msg = tid(result, "no-match")
    assert msg.is_displayed() and "未匹配到清单事项" in msg.text
    assert not tids(result, "candidate")
    shot(page, "no-match")
    assert not js_errors(page)


def test_empty_input_is_refused_on_the_page(page: WebDriver) -> None:
    assert classify(page, "   ") == "error"
    assert "请输入来电内容" in tid(page, "error").text


def open_precheck(page: WebDriver) -> None:
    page.find_element(By.ID, "tab-precheck").click()
    WebDriverWait(page, 5).until(lambda d: d.find_element(By.ID, "pc-township").is_displayed())
    assert not page.find_element(By.ID, "classify-text").is_displayed()


def precheck(page: WebDriver, township: str, text: str, **facts: str) -> str:
    for field, value in (("pc-township", township), ("pc-text", text)):
        el = page.find_element(By.ID, field)
        el.clear()
        el.send_keys(value)
    for field, label in facts.items():
        Select(page.find_element(By.ID, field)).select_by_visible_text(label)
    page.find_element(By.ID, "precheck-btn").click()
    return wait_state(page, "precheck-result", ("done", "error"))


def test_precheck_emergency_may_call(page: WebDriver) -> None:
    open_precheck(page)
    assert precheck(page, "东关镇", "液化气罐泄漏了") == "done"
    box = page.find_element(By.ID, "precheck-result")
    assert tid(box, "decision").text == "可以呼叫"
    assert "紧急" in tid(box, "mode").text
    reasons = tids(box, "reason")
    assert reasons and all(r.find_elements(By.TAG_NAME, "td")[0].text.strip() for r in reasons)
    assert tid(box, "deadlines").tag_name == "table" and tids(box, "due")
    assert tid(box, "call-departments").text.strip()
    no_horizontal_scroll(page)
    shot(page, "precheck")
    assert not js_errors(page)


def test_precheck_facts_given_by_hand(page: WebDriver) -> None:
    open_precheck(page)
    state = precheck(page, "东关镇", "液化气罐泄漏了", **{"pc-emergency": "否", "pc-within": "是"})
    assert state == "done"
    box = page.find_element(By.ID, "precheck-result")
    assert tid(box, "decision").text in ("不应呼叫", "先研究论证")
    assert not tids(box, "mode") or "紧急" not in tid(box, "mode").text
    shot(page, "precheck-no-call")


def test_api_error_is_shown_and_escaped(page: WebDriver) -> None:
    open_precheck(page)
    township = "<b>火星镇</b>"
    assert precheck(page, township, "液化气罐泄漏了") == "error"
    err = tid(page, "error")
    assert err.is_displayed()
    assert "火星镇" in err.text and "<b>" in err.text  # shown as text, not markup
    assert not err.find_elements(By.TAG_NAME, "b")
    shot(page, "error")


def test_no_external_resources(base: str) -> None:
    html = httpx.get(base + "/", timeout=30).text
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    assert ".innerHTML" not in html


def test_handbook_reads_as_a_person_would(driver: WebDriver, tmp_path: Path) -> None:
    """The printed handbook: a PDF comes out, and on screen the list table gives its one-word
    columns room to be read (no 事项名称 squeezed into a column two characters wide)."""
    from shudi.engine import Engine
    from shudi.handbook import write_handbook

    loaded = Engine(ROOT, "example-a").county().loaded
    paths = write_handbook(loaded, tmp_path, pdf=True)
    assert paths["pdf"], "Chromium did not print the handbook to PDF"
    pdf = Path(paths["pdf"]).read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))
    assert pdf.startswith(b"%PDF") and pages > len(loaded.kb.items), f"{pages} pages"  # every 说明书 starts a page
    (OUT / "handbook-example-a.pdf").write_bytes(pdf)

    driver.get(Path(paths["html"]).as_uri())
    first_row = driver.find_elements(By.CSS_SELECTOR, ".list table tbody tr")[0].find_elements(By.TAG_NAME, "td")
    name_cell, duties_cell = first_row[2], first_row[3]
    assert name_cell.size["width"] >= 90, f"事项名称 column is {name_cell.size['width']}px wide"
    assert duties_cell.size["width"] >= 200
    assert name_cell.text.strip() in {i.name for i in loaded.kb.items.values()}
    shot(driver, "handbook-list")
    flow = driver.find_elements(By.CSS_SELECTOR, "section.item svg")[0]
    driver.execute_script("arguments[0].scrollIntoView()", flow)
    assert "…" not in flow.text  # steps wrap, never cut
    shot(driver, "handbook-item")
