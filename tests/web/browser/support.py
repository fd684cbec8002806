"""Driving Debian's Chromium: where it is, how to start it (JavaScript off or on, nothing
downloaded), and what the pages measure (bytes on a first visit, server time, queries)."""

from __future__ import annotations

import json
import os
import statistics
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ROOT = Path(__file__).resolve().parents[3]
SCREENSHOTS = ROOT / "var" / "screenshots"
PAGE_WEIGHT_LIMIT = 100_000  # bytes over the network for a page and all it loads, first visit


def missing_tools() -> list[str]:
    return [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]


def chrome(*, javascript: bool, language: str = "en", width: int = 1280, height: int = 900):
    """A headless Chromium driven through Debian's chromedriver. Selenium Manager is never
    asked for anything (both paths are given and it is told it is offline), and Chromium's
    own background traffic (updates, safe browsing, metrics) is switched off."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
        f"--lang={language}",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-sync",
        "--disable-domain-reliability",
        "--disable-client-side-phishing-detection",
        "--safebrowsing-disable-auto-update",
        "--disable-features=Translate,OptimizationHints,MediaRouter",
    ):
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs",
        {
            "intl.accept_languages": language,
            # 2 = blocked: the browser runs no script at all, as Tor Browser at "Safest".
            "profile.managed_default_content_settings.javascript": 1 if javascript else 2,
        },
    )
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    # Headless windows are never narrower than 500 px: a phone's width is emulated instead.
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 500},
    )
    return driver


def network_log(driver) -> list[dict]:
    """The DevTools network events since the last call (reading the log empties it)."""
    return [json.loads(entry["message"])["message"] for entry in driver.get_log("performance")]


def first_visit_bytes(driver, url: str) -> tuple[int, list[str]]:
    """Bytes over the network (headers and bodies, as Chromium counts them) to load `url`
    with an empty cache, and the URLs it requested."""
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.clearBrowserCache", {})
    network_log(driver)
    driver.get(url)
    events = network_log(driver)
    requested = [
        event["params"]["request"]["url"]
        for event in events
        if event["method"] == "Network.requestWillBeSent"
    ]
    total = sum(
        int(event["params"]["encodedDataLength"])
        for event in events
        if event["method"] == "Network.loadingFinished"
    )
    return total, requested


def server_timing(driver, url: str) -> tuple[float, int]:
    """Load `url` and read the document's Server-Timing header: (app milliseconds, queries)."""
    network_log(driver)
    driver.get(url)
    for event in network_log(driver):
        if event["method"] != "Network.responseReceived":
            continue
        response = event["params"]["response"]
        if event["params"]["type"] != "Document" or response["url"] != url:
            continue
        header = {k.lower(): v for k, v in response["headers"].items()}["server-timing"]
        parts = dict(part.strip().split(";", 1) for part in header.split(","))
        app = float(parts["app"].split("=")[1])
        queries = int(parts["db"].split('desc="')[1].split(" ")[0])
        return app, queries
    raise AssertionError(f"no document response for {url}")


@dataclass
class PageFigures:
    page: str
    javascript: bool
    first_visit_bytes: int = 0
    server_ms: list[float] = field(default_factory=list)
    queries: int = 0

    def line(self) -> str:
        ordered = sorted(self.server_ms)
        p50 = statistics.median(ordered)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        js = "on " if self.javascript else "off"
        return (
            f"{self.page:<24} js {js} {self.first_visit_bytes:>7} B first visit   "
            f"server p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  ({len(ordered)} loads)  "
            f"{self.queries} queries"
        )


FIGURES: list[PageFigures] = []
