"""Browser fixtures: a Chromium per test, JavaScript off and on, against the live server."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.web.browser.support import chrome


@pytest.fixture(params=[False, True], ids=["js-off", "js-on"])
def javascript(request) -> bool:
    return request.param


@pytest.fixture
def open_browser() -> Iterator[Callable[..., object]]:
    """Start a Chromium (`open_browser(javascript=..., language=..., width=...)`); every one
    started is closed after the test."""
    started = []

    def start(**options):
        driver = chrome(**options)
        started.append(driver)
        return driver

    yield start
    for driver in started:
        driver.quit()
