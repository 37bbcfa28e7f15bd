"""The request guard's Host check and the bounds on integers in URLs, in-process (no server, no browser)."""

from __future__ import annotations

import pytest

from webapp.app import create_app

from .asgi import request
from .conftest import make_registry


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("guard")
    make_registry(tmp / "registry")
    return create_app(str(tmp / "registry"), tmp / "studies.sqlite")


@pytest.mark.parametrize("host", ["127.0.0.1:18081", "127.0.0.1", "127.5.6.7:80", "localhost:18081", "LOCALHOST",
                                  "[::1]:18081", "[::1]"])
def test_a_loopback_host_is_served(app, host):
    assert request(app, "/", host=host).status == 200


@pytest.mark.parametrize("host", [
    "127.evil.com:18081",          # a name that starts like a loopback address
    "127.0.0.1.nip.io:18081",      # a public wildcard DNS name that resolves to 127.0.0.1
    "127.0.0.1:18081@evil.com",    # userinfo-looking tail
    "127.0.0.1:99999", "127.1:18081", "localhost.evil.com", "::1", "[::1", "evil.example", "",
])
def test_a_host_that_is_not_loopback_is_refused(app, host):
    reply = request(app, "/", host=host)
    assert reply.status == 403 and "loopback Host" in reply.text


def test_over_long_integers_in_urls_are_404_not_500(app):
    studies = app.app.app.state.app.studies  # Timing -> Guard -> Starlette
    study = studies.create("s", "a", "b", [{"instruction": "i", "input": "", "output_1": "x", "output_2": "y"}])
    rater = studies.add_rater(study.id, "r")
    assert request(app, f"/studies/{study.id}").status == 200
    assert request(app, f"/rate/{study.key}/{rater}/1").status == 200
    for path in ("/studies/" + "9" * 23, f"/rate/{study.key}/{rater}/" + "9" * 20, "/studies/" + "9" * 19 + "/results",
                 "/v/demo@1/records/" + "9" * 30):
        assert request(app, path).status == 404, path
