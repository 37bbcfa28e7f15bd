"""How raters join a study: one shared link that resumes a browser's rater, or personal links the owner issues.

In-process requests with a cookie jar per "browser"; the browser end to end is in test_study.py.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from webapp.app import create_app
from webapp.studies import Studies

from .asgi import Client

ITEMS = [{"instruction": f"Question {k}?", "input": "", "output_1": f"A{k}", "output_2": f"B{k}"} for k in range(4)]


@pytest.fixture
def app(tmp_path):
    return create_app(str(tmp_path / "registry"), tmp_path / "studies.sqlite")


def studies_of(app) -> Studies:
    return app.app.app.state.app.studies  # Timing -> Guard -> Starlette


def vote(browser: Client, url: str, choice: str) -> str:
    reply = browser.post(url, {"choice": choice}, token_from=url)
    assert reply.status == 303, reply.text
    return reply.headers["location"]


def test_a_browser_that_joins_again_resumes_its_rater_and_is_flagged(app):
    study = studies_of(app).create("shared", "alpha", "beta", ITEMS)
    start = f"/rate/{study.key}"
    alice = Client(app)
    first = alice.post(f"{start}/join", {"name": "alice"}, token_from=start).headers["location"]
    assert first.endswith("/1")
    vote(alice, first, "1")
    again = alice.post(f"{start}/join", {"name": "mallory"}, token_from=first)  # same browser, new name
    assert again.status == 303 and again.headers["location"] == first[:-1] + "2"  # resumed, at the next item
    assert "This browser has joined as <strong>alice</strong>" in alice.get(start).text
    bob = Client(app)
    assert bob.post(f"{start}/join", {"name": "bob"}, token_from=start).status == 303
    raters = studies_of(app).raters(study.id)
    assert [(r["name"], r["joins"]) for r in raters] == [("alice", 2), ("bob", 1)]

    owner = Client(app)
    results = json.loads(owner.get(f"/studies/{study.id}/results.json").text)
    assert [(x["rater"], x["votes"], x["flagged"]) for x in results["rater_list"]] == \
        [("alice", 1, True), ("bob", 0, False)]
    page = owner.get(f"/studies/{study.id}/results").text
    assert 'id="flagged"' in page and "joined 2 times from the same browser" in page
    assert "joined 2 times from the same browser" in owner.get(f"/studies/{study.id}").text


def test_personal_links_only(app):
    study = studies_of(app).create("issued", "alpha", "beta", ITEMS, joining="issued")
    start = f"/rate/{study.key}"
    stranger = Client(app)
    assert 'id="personal-only"' in stranger.get(start).text
    refused = stranger.post(f"{start}/join", {"name": "sybil"}, token_from="/studies")  # the page has no form
    assert refused.status == 403 and "personal links only" in refused.text
    owner = Client(app)
    issued = owner.post(f"/studies/{study.id}/raters", {"name": "carol"}, token_from=f"/studies/{study.id}")
    assert issued.status == 303
    [carol] = studies_of(app).raters(study.id)
    assert carol["name"] == "carol" and carol["issued"] == 1
    link = f"{start}/{carol['id']}/1"
    assert f'value="http://127.0.0.1:8000{link}"' in owner.get(f"/studies/{study.id}").text
    assert vote(Client(app), link, "2").endswith("/2")
    results = json.loads(owner.get(f"/studies/{study.id}/results.json").text)
    assert results["rater_list"] == [{"rater": "carol", "joined_through": "personal link", "votes": 1, "joins": 1,
                                      "flagged": False}]
    listing = owner.get("/studies").text  # the study list shows the item count (it once showed dict.items)
    assert '">issued</a></td><td class="num">4</td>' in listing and "built-in method" not in listing
    opened = owner.post(f"/studies/{study.id}/joining", {"joining": "shared"}, token_from=f"/studies/{study.id}")
    assert opened.status == 303 and studies_of(app).get(study.id).joining == "shared"
    assert stranger.post(f"{start}/join", {"name": "dave"}, token_from=start).status == 303


def test_a_database_from_before_the_joining_columns_opens(tmp_path):
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript("""
            CREATE TABLE studies (id INTEGER PRIMARY KEY, key TEXT UNIQUE NOT NULL, secret TEXT NOT NULL,
              name TEXT NOT NULL, system_1 TEXT NOT NULL, system_2 TEXT NOT NULL, created TEXT NOT NULL, closed TEXT,
              judge TEXT);
            CREATE TABLE raters (id TEXT PRIMARY KEY, study_id INTEGER NOT NULL, name TEXT NOT NULL,
              created TEXT NOT NULL);
            INSERT INTO studies VALUES (1, 'k', 'aa', 'old', 'a', 'b', '2025-01-01', NULL, NULL);
            INSERT INTO raters VALUES ('r1', 1, 'ann', '2025-01-01');""")
    studies = Studies(path)
    assert studies.get(1).joining == "shared"
    assert [(r["name"], r["joins"], r["issued"]) for r in studies.raters(1)] == [("ann", 1, 0)]
