"""The registry pages in a real browser against a real server on loopback, plus the request guard over HTTP."""

from __future__ import annotations

import http.client
import json

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.loopback_server import LoopbackServer

from .conftest import SCRIPT_OUTPUT, Server, submit


@pytest.fixture(scope="module")
def server(site):
    with LoopbackServer(reply=lambda prompt: f"You said: {prompt} <b>ok</b>") as model:
        s = Server(site, "--chat-endpoint", model.url, "--chat-model-name", "loopback-model").start()
        yield s
        s.kill()


def test_browse_a_version_and_its_lineage(server, browser):
    browser.get(server.url + "/")
    submit(browser, browser.find_element(By.LINK_TEXT, "demo@2"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "demo@2"
    svg = browser.find_element(By.CSS_SELECTOR, "svg.lineage").text
    assert "demo@1" in svg and "import demo.jsonl" in svg and "model: tiny" in svg and "from tiny-model" in svg
    submit(browser, browser.find_element(By.LINK_TEXT, "Records"))
    assert "120 matching records" in browser.find_element(By.ID, "count").text


def test_search_is_a_link_and_filters_combine(server, browser):
    browser.get(server.url + "/v/demo@1/records")
    box = browser.find_element(By.NAME, "q")
    box.send_keys("QUOKKA")
    submit(browser, box)
    assert "q=QUOKKA" in browser.current_url
    assert browser.find_element(By.ID, "count").text.startswith("1 matching record")
    assert "quokka" in browser.find_element(By.CSS_SELECTOR, "table.records").text
    browser.get(server.url + "/v/demo@1/records?has_input=yes&sort=-length")
    assert browser.find_element(By.ID, "count").text.startswith("40 matching records")
    words = [int(td.text) for td in browser.find_elements(By.CSS_SELECTOR, "table.records td:last-child")]
    assert words == sorted(words, reverse=True) and len(words) == 40


def test_a_record_holding_script_is_shown_as_text(server, browser):
    browser.get(server.url + "/v/demo@1/records/5")
    assert browser.find_element(By.ID, "output").text == SCRIPT_OUTPUT
    assert browser.title != "pwned"
    assert not browser.find_elements(By.CSS_SELECTOR, "#output b")
    browser.get(server.url + "/v/demo@1/records?q=script")
    assert browser.title != "pwned" and "<script>" in browser.find_element(By.CSS_SELECTOR, "table.records").text


def test_diff_in_the_browser_and_as_jsonl(server, browser):
    browser.get(server.url + "/v/demo@1")
    Select(browser.find_element(By.NAME, "b")).select_by_visible_text("demo@2")
    submit(browser, browser.find_element(By.XPATH, "//button[text()='Diff']"))
    summary = browser.find_element(By.ID, "summary").text
    assert "+1 added" in summary and "−1 removed" in summary and "~1 changed" in summary
    assert [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".diffrow ins")] == ["a brand new line of words"]
    status, body = server.get("/diff.jsonl?a=demo@1&b=demo@2")
    rows = [json.loads(line) for line in body.splitlines()]
    assert status == 200 and [r["kind"] for r in rows] == ["added", "removed", "changed"]
    assert rows[1]["a_row"] == 40 and rows[2]["fields"] == ["output"]


def test_version_page_shows_evaluations_with_and_without_the_lc_interval(server):
    status, page = server.get("/v/demo@2")
    assert status == 200
    assert "45.0% [30.0, 60.0], LC 41.0% [28.0, 55.0]</td><td>new-entry" in page
    assert "45.0% [30.0, 60.0], LC 41.0%</td><td>old-entry" in page
    assert "vs new-entry" in page and "win 45.0% [30.0, 60.0], LC 41.0%" in page


def test_generated_version_shows_nearest_instruction_and_drops_by_rule(server):
    status, page = server.get("/v/gen@1/records/0")
    assert status == 200 and "List three uses of a teapot." in page and "0.667" in page
    status, page = server.get("/v/gen@1/drops")
    assert status == 200 and "2 candidates" in page and "Draw a picture of a cat." in page
    status, page = server.get("/v/gen@1/drops?rule=rouge_l")
    assert "1 candidate ·" in page and "Draw a picture" not in page
    assert server.get("/v/demo@1/drops")[0] == 404  # an import has no run folder


def test_chat_streams_a_reply_as_text(server, browser):
    browser.get(server.url + "/chat")
    assert "loopback-model" in browser.find_element(By.TAG_NAME, "h1").text
    box = browser.find_element(By.NAME, "message")
    box.send_keys("hello there")
    browser.find_element(By.ID, "send").click()
    WebDriverWait(browser, 15).until(lambda b: b.find_elements(By.CSS_SELECTOR, ".turn.model pre.done"))
    assert browser.find_element(By.CSS_SELECTOR, ".turn.model pre").text == "You said: hello there <b>ok</b>"
    browser.refresh()  # the conversation is kept per browser session
    assert len(browser.find_elements(By.CSS_SELECTOR, ".turn")) == 2


def test_guard_refuses_forged_oversized_and_foreign_requests(server):
    form = b"name=x&csrf_token=wrong"
    plain = {"Content-Type": "application/x-www-form-urlencoded"}
    assert server.post("/studies", form, plain)[0] == 403  # no Origin
    status, body = server.post("/studies", form, {**plain, "Origin": server.url})
    assert status == 403 and "form token" in body  # same origin, wrong CSRF token
    assert server.post("/studies", form, {**plain, "Origin": "http://evil.example"})[0] == 403
    assert server.get("/", {"Host": "evil.example"})[0] == 403  # DNS rebinding
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.putrequest("POST", "/studies")
    conn.putheader("Origin", server.url)
    conn.putheader("Content-Length", str(1 << 30))
    conn.endheaders()
    assert conn.getresponse().status == 413
    assert server.get("/v/..%2F..%2Fetc@1")[0] == 404
