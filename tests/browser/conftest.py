"""Real-browser fixtures: Debian's Chromium driven by pytest-playwright against a live server."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

# A hang guard, not a timing: CI runs two suites at once on two cores, where a lazily loaded
# fragment (plots, coverage) took longer than Playwright's default 5 s to appear.
expect.set_options(timeout=20_000)

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
MAX_TABS = 200
# A focus ring: an outline that is drawn, or a box-shadow (the focused element's computed style).
FOCUSED = """(selector) => {
  const element = document.activeElement;
  if (!element || element === document.body) return null;
  const style = getComputedStyle(element);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  return {visible: outline || style.boxShadow !== "none",
          what: element.outerHTML.slice(0, 160), there: element.matches(selector)};
}"""

SCREENSHOTS = Path(
    os.environ.get("SCREENSHOT_DIR", Path(__file__).resolve().parents[2] / "screenshots")
)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Launch the system Chromium (playwright cannot download browsers here); fail if absent."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: install Debian's chromium package")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture
def screenshot():
    """Save a full-page screenshot under screenshots/NAME.png (for people to look at)."""

    def take(page, name):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def sign_in(page, live_server, username, password):
    """Sign in through the login form."""
    page.goto(f"{live_server.url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    try:
        page.wait_for_url(f"{live_server.url}/")
    except PlaywrightTimeoutError:
        pytest.fail(
            f"signing in as {username} did not reach the home page; the browser is at "
            f"{page.url} showing:\n{page.locator('body').inner_text()[:1000]}\n"
            f"server log:\n{live_server.tail()}"
        )


def tab_to(page, selector):
    """Press Tab until `selector` has the focus, checking that every element on the way shows
    its focus; fails if Tab never reaches it."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED, selector)
        if focused is None:
            continue
        assert focused["visible"], f"no visible focus on {focused['what']}"
        if focused["there"]:
            return
    pytest.fail(f"Tab never reached {selector}")
