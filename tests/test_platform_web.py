"""The platform's pages in a real browser: headless Chromium against the real service (uvicorn
in a subprocess, a temp SQLite store, the template county with its 示例 seed).  One call goes
from the township's pre-check and 呼叫 through the dispatcher's queue, the department's inbox and
the township's rating; the dashboard draws its charts.  Screenshots go to test-output/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import httpx
import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select, WebDriverWait

from bench.devserver import running_server
from tests.plaintext import assert_plain
from tests.test_web import OUT, ROOT, WIDTH, driver, js_errors, no_horizontal_scroll  # noqa: F401 - the browser fixture

pytestmark = pytest.mark.slow
TOWN, DISP, SUP = "example:template:township:chengguan", "example:template:dispatcher:", "example:template:supervisor:"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("platform-web") / "p.sqlite"
    env = {"SHUDI_DB_URL": f"sqlite:///{db}", "SHUDI_SWEEP_SECONDS": "0", "SHUDI_COUNTY": "template"}
    with mock.patch.dict(os.environ, env):
        os.environ.pop("SHUDI_PLATFORM_TOKENS", None)
        os.environ.pop("SHUDI_PLATFORM_TOKENS_FILE", None)
        with running_server(ROOT, timeout=180) as (url, _proc):
            yield url


def Wait(d: WebDriver, timeout: float) -> WebDriverWait:  # noqa: N802
    # the lists re-render after every action: an element found a moment ago may be gone
    return WebDriverWait(d, timeout, ignored_exceptions=(StaleElementReferenceException,))


def shot(d: WebDriver, name: str) -> None:
    """Keep a screenshot, and check that what the page shows carries no developers' words."""
    d.save_screenshot(str(OUT / f"platform-{name}.png"))
    assert_plain(d.execute_script("return document.body.innerText"), f"the platform page ({name})")


def login(d: WebDriver, token: str) -> None:
    Select(d.find_element(By.ID, "login")).select_by_value(token)
    Wait(d, 30).until(lambda x: x.find_elements(By.CSS_SELECTOR, ".panel.active"))


def card(d: WebDriver, cid: int):  # noqa: ANN201
    return Wait(d, 30).until(lambda x: x.find_element(By.CSS_SELECTOR, f".panel.active [data-call-id='{cid}']"))


def wait_state(d: WebDriver, cid: int, state: str) -> None:
    Wait(d, 30).until(lambda x: x.find_element(By.CSS_SELECTOR, f".panel.active [data-call-id='{cid}']").get_attribute("data-state") == state)


def act(d: WebDriver, cid: int, action: str, fields: dict[str, str] | None = None) -> None:
    card(d, cid).find_element(By.CSS_SELECTOR, f"[data-testid=act-{action}]").click()
    if fields is not None:
        form = Wait(d, 10).until(lambda x: card(x, cid).find_element(By.CSS_SELECTOR, "[data-testid=action-form]"))
        for name, value in fields.items():
            el = form.find_element(By.NAME, name)
            if el.tag_name == "select":
                Select(el).select_by_value(value)
            else:
                el.send_keys(value)
        form.find_element(By.CSS_SELECTOR, "[data-testid=confirm]").click()
    Wait(d, 30).until(lambda x: "已" in x.find_element(By.ID, "notice").text)


def test_call_through_the_pages(driver: WebDriver, base: str) -> None:  # noqa: F811
    d = driver
    d.get(base + "/platform")
    Wait(d, 60).until(lambda x: len(Select(x.find_element(By.ID, "login")).options) > 5)
    assert "示例" in d.find_element(By.ID, "example-note").text
    login(d, TOWN)
    # the 示例 seed: this township's calls are listed, each marked 示例
    Wait(d, 30).until(lambda x: int(x.find_element(By.ID, "list-township").get_attribute("data-count") or 0) > 0)
    assert all("示例" in c.text for c in d.find_elements(By.CSS_SELECTOR, "#list-township [data-testid=call-card]"))
    d.find_element(By.ID, "pc-text").send_keys("村里有人在耕地上盖房子")
    d.find_element(By.ID, "pc-studied").click()
    d.find_element(By.ID, "pc-noagency").click()
    d.find_element(By.ID, "pc-btn").click()
    Wait(d, 30).until(lambda x: x.find_element(By.ID, "pc-result").get_attribute("data-state") in ("call", "no_call", "study_first", "error"))
    assert d.find_element(By.ID, "pc-result").get_attribute("data-state") == "call"
    verdict = d.find_element(By.CSS_SELECTOR, "[data-testid=precheck-verdict]").text
    assert "可以呼叫" in verdict and "呼叫对象" in verdict and "=" not in d.find_element(By.ID, "pc-result").text
    shot(d, "1-township-precheck")
    d.find_element(By.CSS_SELECTOR, "[data-testid=call-btn]").click()
    Wait(d, 30).until(lambda x: "已呼叫" in x.find_element(By.ID, "notice").text)
    cid = int(d.find_element(By.ID, "notice").text.split("第")[1].split("号")[0])
    wait_state(d, cid, "submitted")

    login(d, DISP)
    act(d, cid, "accept")
    wait_state(d, cid, "accepted")
    act(d, cid, "assess", {})
    wait_state(d, cid, "assessed")
    shot(d, "2-dispatcher-queue")
    act(d, cid, "dispatch")

    owner = httpx.get(f"{base}/v1/calls/{cid}", headers={"Authorization": f"Bearer {DISP}"}).json()["department"]
    login(d, f"example:template:department:{owner}")
    wait_state(d, cid, "dispatched")
    shot(d, "3-department-inbox")
    act(d, cid, "sign")
    wait_state(d, cid, "in_progress")
    act(d, cid, "feedback", {"result": "已立案查处,责令恢复耕地原状。"})
    wait_state(d, cid, "fed_back")

    login(d, TOWN)
    act(d, cid, "rate", {"speed": "及时", "effect": "较好"})
    wait_state(d, cid, "rated")
    c = card(d, cid)
    c.find_element(By.TAG_NAME, "summary").click()
    Wait(d, 20).until(lambda x: "评价" in card(x, cid).find_element(By.CLASS_NAME, "history").text)
    assert "5个工作日内" in card(d, cid).find_element(By.CLASS_NAME, "history").text
    shot(d, "4-township-rated")

    login(d, SUP)
    d.find_element(By.CSS_SELECTOR, "nav.tabs [data-tab=dashboard]").click()
    Wait(d, 30).until(lambda x: len(x.find_elements(By.CSS_SELECTOR, "#panel-dashboard svg[data-testid=chart]")) == 4)
    kpis = [k.text for k in d.find_elements(By.CSS_SELECTOR, "[data-testid=kpi]")]
    assert any("满意率" in k for k in kpis) and any("按时办结率" in k for k in kpis)
    api = httpx.get(f"{base}/v1/dashboard", headers={"Authorization": f"Bearer {SUP}"}).json()
    assert kpis[0].startswith(str(api["total"]))
    no_horizontal_scroll(d)
    shot(d, "5-dashboard")
    d.find_element(By.CSS_SELECTOR, "nav.tabs [data-tab=supervision]").click()
    Wait(d, 30).until(lambda x: x.find_element(By.ID, "list-supervision").get_attribute("data-count") is not None)
    shot(d, "6-supervision")
    assert js_errors(d) == []
