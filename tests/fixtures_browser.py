"""The browser tests' browser: Debian's chromium driven by Playwright (headless), once per module.

Playwright's own browser download does not work here; ``scripts/services.sh`` installs Debian's
chromium when missing, and without it these tests fail, never skip."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    # scripts/services.sh installs Debian's chromium when missing; without it this must fail, not skip.
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run the tests through `make test`"
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls in the tests'
    # fixtures would otherwise be refused as "called from an async context". Only while these
    # tests run: the variable must not reach other tests (check --deploy refuses it).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous
