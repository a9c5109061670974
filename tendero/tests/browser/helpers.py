"""What every browser test does: sign in, and check a page for serious
accessibility problems."""

import re

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tendero.conftest import PASSWORD


def sign_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("Sign in|Log in", re.I)).click()
    expect(page.get_by_role("heading", name="Customers", level=1)).to_be_visible()


def assert_accessible(page: Page) -> None:
    results = Axe().run(page)
    serious = [
        v for v in results.response["violations"] if v.get("impact") in {"serious", "critical"}
    ]
    assert not serious, results.generate_report()


# Chromium reports every refusal on the console ("Refused to ... because it violates
# the following Content Security Policy directive"); the listener added before any
# page script also catches those the console would word differently.
_REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (event) {
  console.error("Content Security Policy violation: " + event.violatedDirective
    + " blocked " + (event.blockedURI || "inline") + " at " + event.sourceFile
    + ":" + event.lineNumber + " " + (event.sample || ""));
});
"""


def collect_csp_violations(page: Page) -> list[str]:
    """From now on, every Content-Security-Policy violation on the page, as text."""
    violations: list[str] = []
    page.add_init_script(_REPORT_VIOLATIONS)
    page.on(
        "console",
        lambda message: (
            violations.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    return violations
