"""A damaged manifest or a foreign folder in the registry: the web app shows a banner and serves the rest."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from webapp.app import create_app

from .asgi import request
from .conftest import make_registry


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("damaged")
    make_registry(tmp / "registry")
    datasets = tmp / "registry" / "datasets"
    manifest = datasets / "demo" / "versions" / "00000001.json"
    manifest.write_bytes(manifest.read_bytes()[:200])
    shutil.copytree(datasets / "gen", datasets / "base copy")
    return create_app(str(tmp / "registry"), tmp / "studies.sqlite")


@pytest.mark.parametrize("path", ["/", "/v/demo@2", "/v/gen@1", "/diff", "/diff?a=gen@1&b=demo@2"])
def test_pages_are_served_with_a_banner(app, path):
    reply = request(app, path)
    assert reply.status == 200
    assert 'id="skipped"' in reply.text and "2 registry entries could not be read" in reply.text
    assert "base copy" in reply.text and "demo@1: " in reply.text


def test_the_damaged_version_alone_is_404_and_the_rest_opens(app):
    reply = request(app, "/v/demo@1")
    assert reply.status == 404 and "00000001.json: corrupt JSON" in reply.text
    assert request(app, "/v/demo@2/records").status == 200
    assert request(app, "/v/demo@2/datasheet").status == 200
    index = request(app, "/").text
    assert 'href="/v/demo@2"' in index and 'href="/v/gen@1"' in index
