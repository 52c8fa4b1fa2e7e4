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

from bench.devserver import running_server
from shudi.kb import project_root
from tests.plaintext import assert_plain

ROOT = project_root()
OUT = Path(__file__).resolve().parents[1] / "test-output"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WIDTH, HEIGHT = 1366, 768

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with running_server(ROOT, timeout=600) as (url, _proc):
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


def visible_text(driver: WebDriver) -> str:
    return driver.execute_script("return document.body.innerText")


def test_operator_can_dispatch_from_the_page(page: WebDriver, base: str) -> None:
    """The phone, the deadline and the 派单意见 are on the page, as the county profile says."""
    text = "村里有人在耕地上盖房子"
    assert classify(page, text) == "matched"
    first = tids(page.find_element(By.ID, "result"), "candidate")[0]
    owner = tids(first, "primary-party")[0]
    profile = httpx.get(f"{base}/v1/counties/template", timeout=30).json()
    contact = next(c for c in profile["contacts"] if c["party"] == owner.get_attribute("data-id"))
    assert tid(first, "contact-phone").text == contact["phone"]
    assert tid(first, "contact-office").text == contact["office"]
    assert tid(first, "contact-hours").text == contact["hours"]
    assert "示例" in tid(first, "example-tag").text  # example numbers are never shown as real ones
    last = profile["response"]["steps"][-1]
    assert profile["response"]["label"] in tid(page, "deadline-label").text
    assert last["due"] in tids(page, "deadline-due")[-1].text
    order = tid(page, "dispatch-text").get_attribute("value")
    api = httpx.post(f"{base}/v1/classify", json={"text": text, "top_k": 3}, timeout=30).json()["candidates"][0]
    assert api["item"]["name"] in order and owner.text in order and contact["phone"] in order
    assert all(s["name"] in order for s in api["supporting"])
    assert "《" in order and "条" in order  # the article
    assert last["due"] in order
    assert owner.text not in [e.text for e in tids(first, "supporting-party")]  # the owner is not its own supporter
    tid(page, "copy-dispatch").click()
    WebDriverWait(page, 5).until(lambda d: tid(d, "copy-note").text)
    assert_plain(visible_text(page), "the classify page")
    shot(page, "dispatch")
    assert not js_errors(page)


def test_scenario_that_moves_the_owner_says_so(page: WebDriver) -> None:
    assert classify(page, "楼上邻居装修噪音太大") == "matched"
    first = tids(page.find_element(By.ID, "result"), "candidate")[0]
    assert tid(first, "item-name").text == "噪声污染(工业噪声)"
    assert [e.text for e in tids(first, "primary-party")] == ["县公安局"]
    moved = tid(first, "moved").text
    assert "情形" in moved and "县公安局" in moved and "市生态环境局县分局" in moved
    assert "县公安局" not in [e.text for e in tids(first, "supporting-party")]
    shot(page, "scenario-owner")


def test_unsure_answer_is_flagged(page: WebDriver, base: str) -> None:
    text = "用电打鱼"
    api = httpx.post(f"{base}/v1/classify", json={"text": text}, timeout=30).json()
    assert api["matched"] and api["unsure"], "the calibrated threshold no longer finds this answer unsure"
    assert classify(page, text) == "matched"
    warn = tid(page, "low-confidence")
    assert warn.is_displayed() and "人工核对" in warn.text
    shot(page, "low-confidence")
    # a sure answer carries no warning
    assert classify(page, "河里有人偷偷排污水") == "matched"
    assert not tids(page, "low-confidence")


def test_county_selector_switches_the_list(page: WebDriver, base: str) -> None:
    counties = httpx.get(f"{base}/v1/counties", timeout=30).json()
    select = Select(page.find_element(By.ID, "county"))
    assert [o.text for o in select.options] == [c["name"] for c in counties]
    assert select.first_selected_option.text == "模板县(示例)"
    assert "模板县(示例)" in tid(page, "kb-status").text and "template" not in tid(page, "kb-status").text
    select.select_by_visible_text("示例县乙(示例)")
    # the first request for another county builds its list and index (slow on a busy 2-core machine)
    WebDriverWait(page, 120).until(lambda d: "示例县乙" in d.find_element(By.ID, "kb-status").text)
    open_precheck(page)
    towns = [o.text for o in Select(page.find_element(By.ID, "pc-township")).options][1:]
    assert towns == [t["name"] for t in httpx.get(f"{base}/v1/counties/example-b", timeout=30).json()["townships"]]


def open_precheck(page: WebDriver) -> None:
    page.find_element(By.ID, "tab-precheck").click()
    WebDriverWait(page, 5).until(lambda d: d.find_element(By.ID, "pc-township").is_displayed())
    assert not page.find_element(By.ID, "classify-text").is_displayed()


def precheck(page: WebDriver, township: str, text: str, **facts: str) -> str:
    Select(page.find_element(By.ID, "pc-township")).select_by_visible_text(township)
    el = page.find_element(By.ID, "pc-text")
    el.clear()
    el.send_keys(text)
    for field, label in facts.items():
        Select(page.find_element(By.ID, field)).select_by_visible_text(label)
    page.find_element(By.ID, "precheck-btn").click()
    return wait_state(page, "precheck-result", ("done", "error"))


def test_township_is_picked_from_the_list(page: WebDriver, base: str) -> None:
    open_precheck(page)
    towns = httpx.get(f"{base}/v1/counties/template", timeout=30).json()["townships"]
    options = [o.text for o in Select(page.find_element(By.ID, "pc-township")).options]
    assert options[1:] == [t["name"] for t in towns]  # a list to pick from, no typing
    assert page.find_element(By.ID, "pc-township").tag_name == "select"
    assert precheck(page, "东关镇(示例)", "液化气罐泄漏了") == "done"
    box = page.find_element(By.ID, "precheck-result")
    assert "东关镇(示例)" in tid(box, "pc-township-name").text
    assert_plain(visible_text(page), "the pre-check page")


def test_precheck_emergency_may_call(page: WebDriver) -> None:
    open_precheck(page)
    assert precheck(page, "东关镇(示例)", "液化气罐泄漏了") == "done"
    box = page.find_element(By.ID, "precheck-result")
    assert tid(box, "decision").text == "可以呼叫"
    assert "紧急" in tid(box, "mode").text
    reasons = tids(box, "reason")
    assert reasons and all(r.find_elements(By.TAG_NAME, "td")[0].text.strip() for r in reasons)
    assert tid(box, "deadlines").tag_name == "table" and tids(box, "due")
    assert tid(box, "call-departments").text.strip()
    assert tids(tid(box, "call-departments"), "contact-phone")  # whom to ring, with the number
    no_horizontal_scroll(page)
    shot(page, "precheck")
    assert not js_errors(page)


def test_precheck_facts_given_by_hand(page: WebDriver) -> None:
    open_precheck(page)
    state = precheck(page, "东关镇(示例)", "液化气罐泄漏了", **{"pc-emergency": "否", "pc-within": "是"})
    assert state == "done"
    box = page.find_element(By.ID, "precheck-result")
    assert tid(box, "decision").text in ("不应呼叫", "先研究论证")
    assert not tids(box, "mode") or "紧急" not in tid(box, "mode").text
    assert_plain(visible_text(page), "the pre-check page")
    shot(page, "precheck-no-call")


def test_precheck_matter_is_chosen_by_name(page: WebDriver) -> None:
    open_precheck(page)
    Select(page.find_element(By.ID, "pc-township")).select_by_visible_text("南山乡(示例)")
    Select(page.find_element(By.ID, "pc-mode")).select_by_value("item")
    search = page.find_element(By.ID, "pc-item-q")
    search.send_keys("秸秆")
    WebDriverWait(page, 10).until(lambda d: Select(d.find_element(By.ID, "pc-item")).options)
    choice = Select(page.find_element(By.ID, "pc-item"))
    name = next(o.text for o in choice.options if "秸秆焚烧" in o.text)
    choice.select_by_visible_text(name)
    page.find_element(By.ID, "precheck-btn").click()
    assert wait_state(page, "precheck-result", ("done", "error")) == "done"
    assert "秸秆焚烧" in tid(page, "pc-item-name").text
    shot(page, "precheck-by-item")
    # a search that finds nothing says so, and shows what was typed as text, not markup
    search.clear()
    search.send_keys("<b>火星</b>")
    WebDriverWait(page, 10).until(lambda d: "没有" in tid(d, "pc-item-hint").text)
    hint = tid(page, "pc-item-hint")
    assert "<b>火星</b>" in hint.text and not hint.find_elements(By.TAG_NAME, "b")


def test_precheck_without_a_choice_is_refused_on_the_page(page: WebDriver) -> None:
    open_precheck(page)
    page.find_element(By.ID, "precheck-reset").click()
    page.find_element(By.ID, "precheck-btn").click()
    assert wait_state(page, "precheck-result", ("error",)) == "error"
    assert "请选择乡镇" in tid(page, "error").text
    shot(page, "error")


def test_list_is_searched_by_department(page: WebDriver, base: str) -> None:
    """What does 农业农村局 own?  The browser answers as the API does."""
    page.find_element(By.ID, "tab-browse").click()
    Select(page.find_element(By.ID, "br-dept")).select_by_visible_text("县农业农村局")
    wait_state(page, "browse-result", ("done",))
    rows = httpx.get(f"{base}/v1/departments/county.agriculture-rural/items", timeout=30).json()["items"]
    shown = tids(page, "browse-row")
    assert len(shown) == len(rows)
    owned = {r["item"]["name"] for r in rows if r["role"] == "primary"}
    on_page = {tid(r, "browse-item").text for r in shown if tid(r, "browse-role").text.startswith("主体责任")}
    assert owned and on_page == owned
    assert "县农业农村局承担主体责任" in tid(page, "browse-summary").text
    # words narrow it; a matter opens as its manual, with procedure and contacts
    box = page.find_element(By.ID, "br-q")
    box.send_keys("动物")
    page.find_element(By.ID, "browse-btn").click()
    WebDriverWait(page, 10).until(lambda d: all("动物" in e.text for e in tids(d, "browse-item")) and tids(d, "browse-item"))
    tids(page, "browse-item")[0].click()
    manual = WebDriverWait(page, 10).until(lambda d: tid(d, "item-manual"))
    assert "办理流程" in manual.text and "主体责任" in manual.text
    assert_plain(visible_text(page), "the list browser")
    shot(page, "browse-department")
    assert not js_errors(page)


def test_manual_shows_the_article_of_a_duty(page: WebDriver, base: str) -> None:
    """A legal reviewer opens a matter and reads, under the party, the article its duty rests on."""
    page.find_element(By.ID, "tab-browse").click()
    page.find_element(By.ID, "br-q").send_keys("非法占用土地")
    page.find_element(By.ID, "browse-btn").click()
    item = WebDriverWait(page, 10).until(lambda d: next((e for e in tids(d, "browse-item") if e.text == "非法占用土地"), None))
    item.click()
    manual = WebDriverWait(page, 10).until(lambda d: tid(d, "item-manual"))
    basis = [e.text for e in manual.find_elements(By.CSS_SELECTOR, "[data-testid=duty-basis]")]
    assert "职责依据:《中华人民共和国土地管理法》第七十七条" in basis
    shot(page, "duty-basis")
    assert not js_errors(page)


def test_docs_render_offline(driver: WebDriver, base: str) -> None:
    """/docs and /redoc draw from the service's own files: with every other host blocked (no
    internet) the operations are still drawn, and every script and style sheet came from here."""
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["https://*", "http://cdn*", "http://unpkg*"]})
    try:
        for path in ("/docs", "/redoc"):
            driver.get(base + path)
            if path == "/docs":
                WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".swagger-ui .info .title"))
                assert "属地管理" in driver.find_element(By.CSS_SELECTOR, ".swagger-ui .info .title").text
                assert driver.find_elements(By.CSS_SELECTOR, ".opblock")  # the operations are drawn
            else:
                WebDriverWait(driver, 30).until(lambda d: "/v1/classify" in d.execute_script("return document.body.innerText"))
            entries = driver.execute_script(
                "return performance.getEntriesByType('resource').map(function (e) { return [e.name, e.initiatorType]; })")
            code = [u for u, kind in entries if kind in ("script", "link", "css", "fetch", "xmlhttprequest")]
            assert code and all(u.startswith(base) for u in code), entries
            # ReDoc's bundle asks for one decorative logo from its maker's CDN and hides it when absent
            assert all(u.startswith(base) or u.endswith("/redoc/logo-mini.svg") for u, _ in entries), entries
            shot(driver, path.strip("/"))
    finally:
        driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})


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
    check_printed_handbook(Path(paths["pdf"]), loaded)

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
    text = driver.execute_script("return document.body.innerText")
    assert_plain(text, "the handbook")


HEADINGS = ("责任分工", "具体情形", "办理流程", "办理时限", "联系方式", "法律依据")


def check_printed_handbook(pdf_path: Path, loaded) -> None:  # noqa: ANN001
    """Page numbers at each page's foot, a table of contents whose numbers are where the manuals
    are, the manuals in the list's order, no heading left alone at the foot of a page."""
    from pypdf import PdfReader

    from shudi.handbook import anchor_pages, list_order

    reader = PdfReader(pdf_path)
    texts = [re.sub(r"[ \t]+", " ", p.extract_text()) for p in reader.pages]
    total = len(texts)
    for n, text in enumerate(texts[1:], 2):  # the cover has none
        assert f"第 {n} 页 , 共 {total} 页" in text, f"page {n} has no page number"
    order = [i for _, items in list_order(loaded.kb) for i in items]
    pages = anchor_pages(pdf_path)
    toc = "\n".join(texts[1:5])
    starts = []
    for n, item in enumerate(order, 1):
        page = pages["item-" + item.id.replace(".", "-")]
        assert re.search(rf"{n}\. {re.escape(item.name)} ?{page}\b", toc), f"目录 does not give page {page} for {item.name}"
        assert f"{n}. {item.name}" in texts[page - 1].replace("  ", " "), f"{item.name} is not on page {page}"
        starts.append(page)
    assert starts == sorted(starts), "the manuals are not in the list's order"
    for n, text in enumerate(texts, 1):
        last = text.strip().splitlines()[-1].strip()
        assert last not in HEADINGS, f"page {n} ends with the heading {last}"
