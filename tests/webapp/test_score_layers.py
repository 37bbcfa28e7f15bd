"""Score layers in the web app: the records page filters and sorts by any layer, the record page shows
every layer's score and reason as text, the version page and datasheet show each layer's histogram,
and a layer written while the server runs shows on the next request."""

from __future__ import annotations

import re

import polars as pl
import pytest

import registry
from registry.layers import record_hashes, write_layer
from webapp.app import create_app

from .asgi import request
from .conftest import SCRIPT_OUTPUT, Server, make_registry, submit

N = 120  # demo@1's rows (tests/webapp/conftest.py)


def judge_score(i: int) -> float | None:
    return None if i % 10 == 9 else (i % 11) / 2


def add_layers(root) -> None:
    """demo@1 gets a judge layer (every tenth score missing; row 5's reason is markup) and an ifd layer."""
    v = registry.resolve("demo@1", root=str(root))
    frame = registry.open(v.ref, root=str(root))
    reasons = [None if judge_score(i) is None else f"Reason for row {i}." for i in range(N)]
    reasons[5] = SCRIPT_OUTPUT
    for name, scores, why, scorer in (
            ("judge", [judge_score(i) for i in range(N)], reasons, {"kind": "judge", "model": "judge-model"}),
            ("ifd", [i / 100 for i in range(N)], [None] * N, {"kind": "ifd", "model": "SmolLM2-135M"})):
        rows = pl.DataFrame({"record": record_hashes(frame), "score": scores, "reason": why},
                            schema={"record": pl.String, "score": pl.Float64, "reason": pl.String})
        write_layer(v, name, rows, scorer=scorer, root=str(root))


@pytest.fixture(scope="module")
def layered(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("layers")
    make_registry(tmp / "registry")
    add_layers(tmp / "registry")
    return tmp


@pytest.fixture(scope="module")
def app(layered):
    return create_app(str(layered / "registry"), layered / "studies.sqlite")


def shown_rows(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<td class="num"><a href="/v/demo@1/records/(\d+)">', page)]


def test_the_records_page_filters_and_sorts_by_a_layer(app):
    page = request(app, "/v/demo@1/records?layer=judge&min_score=4&max_score=4.5&sort=-score").text
    expected = sorted((i for i in range(N) if judge_score(i) is not None and 4 <= judge_score(i) <= 4.5),
                      key=lambda i: (-judge_score(i), i))
    assert shown_rows(page) == expected and f"{len(expected)} matching records" in page
    page = request(app, "/v/demo@1/records?layer=judge&scored=no").text
    assert shown_rows(page) == [i for i in range(N) if i % 10 == 9]
    page = request(app, "/v/demo@1/records?layer=ifd&sort=score&page=3").text  # ascending, third page
    assert shown_rows(page) == list(range(100, 120))
    page = request(app, "/v/demo@1/records?layer=judge&sort=score&page=3").text  # missing scores last
    assert shown_rows(page)[-12:] == [i for i in range(N) if i % 10 == 9]
    assert '<th class="num score on">judge</th>' in page and '<th class="num score">ifd</th>' in page


def test_a_score_bound_without_a_layer_says_so_and_an_unknown_layer_is_a_clear_400(app):
    page = request(app, "/v/demo@1/records?min_score=4").text
    assert "Choose a score layer" in page and "120 matching records" in page
    reply = request(app, "/v/demo@1/records?layer=nope")
    assert reply.status == 400 and "demo@1 has no score layer &#39;nope&#39; (it has ifd, judge)" in reply.text
    assert request(app, "/v/demo@1/records?layer=judge&min_score=nan&max_score=abc").status == 200


def test_the_record_page_shows_every_layers_score_and_the_reason_as_text(app):
    page = request(app, "/v/demo@1/records/5").text
    table = page.split('id="scores"', 1)[1].split("</table>", 1)[0]
    assert "judge · judge-model" in table and "ifd · SmolLM2-135M" in table
    assert '<td class="num">2.5</td>' in table and '<td class="num">0.05</td>' in table
    assert "&lt;script&gt;document.title=&#34;pwned&#34;&lt;/script&gt;&lt;b&gt;bold?&lt;/b&gt;" in table
    assert "<script>document" not in page
    page = request(app, "/v/demo@1/records/9").text
    assert '<td class="num">missing</td>' in page.split('id="scores"', 1)[1]


def test_the_version_page_shows_each_layer_with_its_histogram(app):
    page = request(app, "/v/demo@1").text
    judge = page.split('id="layer-judge"', 1)[1].split("</section>", 1)[0]
    assert "108 scored, 12 missing, 0 reused" in judge and "judge · judge-model" in judge
    counts = [int(c) for c in re.findall(r"<title>[0-9.]+: (\d+)</title>", judge)]
    assert len(counts) == 11 and sum(counts) == 108  # one bar per half point, 0 to 5
    ifd = page.split('id="layer-ifd"', 1)[1].split("</section>", 1)[0]
    assert len(re.findall(r"<rect ", ifd)) == 10 and ">0</text>" in ifd and ">1.19</text>" in ifd  # binned, ends named
    assert 'id="layer-' not in request(app, "/v/demo@2").text


def test_a_selected_versions_page_states_its_rule_and_counts(tmp_path):
    from curation.select import select_version

    root = tmp_path / "registry"
    make_registry(root)
    add_layers(root)
    chosen = select_version("demo@1", into="good", where=["judge>=4.5"], root=str(root))
    page = request(create_app(str(root), tmp_path / "studies.sqlite"), f"/v/{chosen.ref}").text
    kept = sum(1 for i in range(N) if (judge_score(i) or 0) >= 4.5)
    assert (f'<td id="selection">where judge&gt;=4.5: kept {kept} of 120 rows, dropped {120 - kept}; '
            "no score in judge: 12</td>") in page


def test_a_layer_written_while_serving_shows_on_the_version_records_and_datasheet_pages(tmp_path):
    root = tmp_path / "registry"
    make_registry(root)
    app = create_app(str(root), tmp_path / "studies.sqlite")
    before = {path: request(app, path).text for path in ("/v/demo@1", "/v/demo@1/datasheet", "/v/demo@1/records")}
    assert "No score layers yet" in before["/v/demo@1/datasheet"] and 'id="layer-judge"' not in before["/v/demo@1"]
    add_layers(root)
    assert 'id="layer-judge"' in request(app, "/v/demo@1").text
    sheet = request(app, "/v/demo@1/datasheet").text
    assert "<figcaption>Scores of layer judge</figcaption>" in sheet and "No score layers yet" not in sheet
    assert '<th class="num score">judge</th>' in request(app, "/v/demo@1/records").text


@pytest.fixture(scope="module")
def server(layered):
    s = Server(layered).start()
    yield s
    s.kill()


def test_choose_a_layer_bound_and_order_in_the_browser(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(server.url + "/v/demo@1/records")
    Select(browser.find_element(By.ID, "layer")).select_by_visible_text("judge")
    browser.find_element(By.ID, "min_score").send_keys("4.5")
    Select(browser.find_element(By.ID, "sort")).select_by_visible_text("highest score first")
    submit(browser, browser.find_element(By.XPATH, "//button[text()='Apply']"))
    assert "layer=judge" in browser.current_url and "min_score=4.5" in browser.current_url
    cells = browser.find_elements(By.CSS_SELECTOR, "table.records td.score.on")
    values = [float(c.text) for c in cells]
    assert values == sorted(values, reverse=True) and set(values) == {5.0, 4.5}
    assert len(values) == sum(1 for i in range(N) if (judge_score(i) or 0) >= 4.5)
    browser.get(server.url + "/v/demo@1/records/5")
    assert browser.find_element(By.CSS_SELECTOR, "#scores pre.reason").text == SCRIPT_OUTPUT
    assert browser.title != "pwned" and not browser.find_elements(By.CSS_SELECTOR, "#scores b")


@pytest.mark.parametrize("manifest", [True, False], ids=["manifest edited", "rows edited"])
def test_a_damaged_layer_is_named_in_the_banner_and_the_pages_show_the_rest(tmp_path, manifest):
    from tests.registry.test_layer_views import damage

    root = tmp_path / "registry"
    make_registry(root)
    add_layers(root)
    damage(str(root), registry.resolve("demo@1", root=str(root)), "judge", manifest=manifest)
    app = create_app(str(root), tmp_path / "studies.sqlite")
    for path, start, end in (("/v/demo@1", 'id="skipped"', "</div>"), ("/v/demo@1/records", 'id="skipped"', "</div>"),
                             ("/v/demo@1/records/5", 'id="skipped"', "</div>"),
                             ("/v/demo@1/datasheet", "Left out, damaged", "</p>")):
        reply = request(app, path)
        assert reply.status == 200 and start in reply.text, path
        assert "judge" in reply.text.split(start, 1)[1].split(end, 1)[0], path  # the damaged layer is named
    assert 'id="layer-ifd"' in request(app, "/v/demo@1").text and 'id="layer-judge"' not in request(app, "/v/demo@1").text
    records_page = request(app, "/v/demo@1/records").text
    assert '<th class="num score">ifd</th>' in records_page and '<th class="num score">judge</th>' not in records_page
