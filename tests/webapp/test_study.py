"""A blind rating study end to end in a real browser, on a server bound to all interfaces with a token.

The rater completes 10 items while the server is SIGKILLed and restarted halfway; no vote is lost,
nothing the rater receives names a system, and the owner's results show the expected win rate.
"""

from __future__ import annotations

import re
import sqlite3

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from .conftest import Server, answer_files, submit, wait_for_next_page

TOKEN = "test-token-0123456789abcdef"
REVEALING = ("alpha-7b", "beta-13b", "system_1", "system_2", "output_1", "output_2", "generator", "system 1")


@pytest.fixture(scope="module")
def server(site):
    s = Server(site, "--token", TOKEN, host="0.0.0.0").start()  # reached only via 127.0.0.1
    yield s
    s.kill()


def test_requests_without_the_token_are_refused(server):
    assert server.get("/")[0] == 401
    assert server.get("/v/demo@1/records")[0] == 401
    assert server.get("/rate/not-a-study-key-at-all")[0] == 401
    assert server.get("/", {"X-Token": TOKEN})[0] == 200
    assert server.get("/", {"Authorization": f"Bearer {TOKEN}"})[0] == 200
    assert server.get("/", {"X-Token": TOKEN + "x"})[0] == 401


def keypress(browser, key, *, navigates=True):
    old = browser.find_element(By.TAG_NAME, "main")
    ActionChains(browser).send_keys(key).perform()
    if navigates:
        wait_for_next_page(browser, old)


def blind(browser) -> str:
    """The page's HTML, after checking it names no system (asserted on every page a rater gets)."""
    html = browser.page_source
    leaked = [w for w in REVEALING if w in html.lower()]
    assert not leaked, f"{browser.current_url} reveals {leaked}"
    return html


@pytest.mark.slow
def test_a_rater_completes_a_study_across_a_server_kill(server, site, browser):
    first, second = answer_files(site / "answers")
    browser.get(f"{server.url}/studies?token={TOKEN}")  # the owner: the token becomes a cookie
    assert "token" not in browser.current_url
    browser.find_element(By.NAME, "name").send_keys("alpha vs beta")
    browser.find_element(By.NAME, "answers_1").send_keys(str(first))
    browser.find_element(By.NAME, "answers_2").send_keys(str(second))
    submit(browser, browser.find_element(By.CSS_SELECTOR, "#new-study button"))
    link = browser.find_element(By.ID, "rater-link").get_attribute("value")
    assert re.fullmatch(rf"{server.url}/rate/[A-Za-z0-9_-]{{16,}}", link)

    browser.delete_all_cookies()  # from here on, a rater who has only the link
    browser.get(server.url + "/studies/1/results")
    assert "unauthorized" in browser.page_source
    browser.get(link)
    blind(browser)
    browser.find_element(By.NAME, "name").send_keys("Ada <i>Lovelace</i>")
    submit(browser, browser.find_element(By.CSS_SELECTOR, "#join button"))

    # Items 1-7: Alpha is better (item 1 first voted wrongly, changed at the end); 8-9: Beta; 10: tie.
    for n in range(1, 11):
        html = blind(browser)
        assert f"Item {n} of 10" in browser.find_element(By.ID, "progress").text, html
        first_text = browser.find_element(By.ID, "response-1").text
        alpha_first = first_text.startswith("Alpha")
        want_alpha = 2 <= n <= 7
        key = "t" if n == 10 else ("1" if alpha_first == want_alpha else "2")
        keypress(browser, key)
        if n == 5:
            server.kill()
            server.start()
            browser.refresh()
            assert "5 rated" in browser.find_element(By.ID, "progress").text
    assert "You rated 10 of 10" in blind(browser)

    submit(browser, browser.find_element(By.LINK_TEXT, "go back"))  # to item 1, then by keyboard
    keypress(browser, Keys.ARROW_RIGHT)
    assert "Item 2 of 10" in browser.find_element(By.ID, "progress").text
    keypress(browser, Keys.ARROW_LEFT)
    assert "Your vote" in blind(browser)
    alpha_first = browser.find_element(By.ID, "response-1").text.startswith("Alpha")
    keypress(browser, "1" if alpha_first else "2")
    assert "You rated 10 of 10" in blind(browser)

    with sqlite3.connect(site / "studies.sqlite") as db:
        prefs = [p for (p,) in db.execute("SELECT preference FROM votes ORDER BY item")]
    assert prefs == [1.0] * 7 + [2.0, 2.0, 1.5]

    rater_item_1 = browser.current_url.rsplit("/", 1)[0] + "/1"
    browser.get(f"{server.url}/studies/1/results?token={TOKEN}")
    overall = browser.find_element(By.ID, "overall").text
    assert "75.0%" in overall.splitlines()[1]  # (7 + 0.5) / 10
    assert overall.splitlines()[1].count("–") == 2  # the win rate's interval and the length-controlled rate's
    assert "Ada <i>Lovelace</i>" in overall

    browser.get(f"{server.url}/studies/1")
    submit(browser, browser.find_element(By.CSS_SELECTOR, "#close-study button"))
    browser.get(rater_item_1)  # once closed, the rater sees who wrote what, and voting has stopped
    first_by = browser.find_element(By.ID, "author-1").text
    assert first_by == ("written by alpha-7b" if browser.find_element(By.ID, "response-1").text.startswith("Alpha")
                        else "written by beta-13b")
    assert not browser.find_elements(By.ID, "vote")


def test_a_malformed_answer_file_is_refused_naming_file_line_and_field(server, site, browser):
    first, _ = answer_files(site / "answers")
    bad = site / "answers" / "bad.json"
    bad.write_text('[{"instruction": "a", "output": "b"}, {"instruction": "c", "output": 3}]')
    browser.get(f"{server.url}/studies?token={TOKEN}")
    browser.find_element(By.NAME, "name").send_keys("broken")
    browser.find_element(By.NAME, "answers_1").send_keys(str(first))
    browser.find_element(By.NAME, "answers_2").send_keys(str(bad))
    submit(browser, browser.find_element(By.CSS_SELECTOR, "#new-study button"))
    assert "answers_2 (bad.json):1: field 'output' must be a string, got int" in \
        browser.find_element(By.CLASS_NAME, "error").text
    browser.get(f"{server.url}/studies")
    assert "broken" not in browser.find_element(By.TAG_NAME, "main").text  # nothing was created


def test_a_study_from_an_llm_judges_annotations_rates_the_same_pairs_with_the_judge_attached(server, site, browser):
    import json

    rows = [{"instruction": f"Judged task {k}", "input": "x" if k == 0 else "", "output_1": f"A{k}",
             "generator_1": "tiny-v1", "output_2": f"B{k}", "generator_2": "tiny-v2", "dataset": "t",
             "annotator": "judge", "preference": [1.0, 2.0, 1.5][k]} for k in range(3)]
    path = site / "answers" / "annotations.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rows))
    browser.get(f"{server.url}/studies?token={TOKEN}")
    form = browser.find_element(By.ID, "new-study-judged")
    form.find_element(By.NAME, "name").send_keys("as judged")
    form.find_element(By.NAME, "judged").send_keys(str(path))
    submit(browser, form.find_element(By.TAG_NAME, "button"))
    sid = re.search(r"/studies/(\d+)", browser.current_url).group(1)
    assert "judge annotations attached" in browser.find_element(By.TAG_NAME, "main").text
    link = browser.find_element(By.ID, "rater-link").get_attribute("value")
    browser.get(link)
    browser.find_element(By.NAME, "name").send_keys("Cy")
    submit(browser, browser.find_element(By.CSS_SELECTOR, "form button"))
    main = browser.find_element(By.TAG_NAME, "main").text
    assert "Judged task 0" in main and "tiny-v" not in browser.page_source
    browser.get(f"{server.url}/studies/{sid}/results")
    main = browser.find_element(By.TAG_NAME, "main").text
    assert "tiny-v1" in main and "tiny-v2" in main and "No judge annotations attached" not in main
