import pytest

from tests.loopback_server import LoopbackServer


@pytest.fixture
def server():
    with LoopbackServer() as s:
        yield s
