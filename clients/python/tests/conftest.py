"""The client's tests run against a live Podium: PODIUM_URL names it (test/integration/python-client.test.ts
starts one and runs them)."""

import os

import pytest

from podium import Podium


@pytest.fixture
def base_url() -> str:
    return os.environ["PODIUM_URL"]


@pytest.fixture
def podium(base_url: str):
    with Podium.anonymous(base_url) as client:
        yield client
