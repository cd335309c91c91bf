"""The redirect-URI landing page: what it reads, what it says, and that a query string
can never inject HTML into it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import urlencode

import pytest

from provisioning.kit import render_landing, templates_dir

JS = (templates_dir() / "landing" / "landing.js").read_text(encoding="utf-8")


def test_js_never_writes_html() -> None:
    for sink in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "Function(",
    ):
        assert sink not in JS, sink
    assert "textContent" in JS


def test_js_reads_the_consent_answer() -> None:
    for param in ("admin_consent", "tenant", "error", "error_description", "state"):
        assert f'get("{param}")' in JS
    # Entra sends admin_consent=True on errors too: `error` is tested first.
    assert JS.index("if (error)") < JS.index('consent.toLowerCase() === "true"')
    assert "access_denied" in JS


def test_page_embeds_the_script_verbatim(tmp_path: Path) -> None:
    text = render_landing(tmp_path).read_text(encoding="utf-8")
    assert f"<script>{JS}</script>" in text
    assert re.search(r"<noscript>.*admin_consent=True.*</noscript>", text, re.S)


# --- in a real browser (Debian's chromium, driven by playwright) -------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

CASES = [
    (
        {
            "admin_consent": "True",
            "tenant": "5b1d7e20-6c3f-4a81-8b92-117a3e000002",
            "state": "xtenant:litware",
        },
        "granted",
        "Consent granted.",
    ),
    (
        {
            "admin_consent": "True",
            "error": "access_denied",
            "error_subcode": "cancel",
            "error_description": "AADSTS65004: User declined to consent to access the app.\r\nTrace ID: x",
            "state": "xtenant:litware",
        },
        "cancelled",
        "Consent was cancelled",
    ),
    (
        {"error": "permission_denied", "error_description": "The admin canceled the request"},
        "cancelled",
        "Consent was cancelled",
    ),
    (
        {
            "admin_consent": "True",
            "error": "consent_required",
            "error_description": "AADSTS90094: <img src=x onerror=\"document.title='pwned'\"> The grant requires admin permission.",
            "state": "xtenant:<b id=injected>x</b>",
            "tenant": "<script>document.title='pwned'</script>",
        },
        "error",
        "Consent did not complete.",
    ),
    ({}, "none", "No consent answer"),
]


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    if CHROMIUM is None:
        pytest.skip("chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.mark.browser
@pytest.mark.parametrize(("query", "outcome", "status"), CASES)
def test_landing_page_in_a_browser(
    tmp_path: Path, browser, query: dict[str, str], outcome: str, status: str
) -> None:  # type: ignore[no-untyped-def]
    page_path = render_landing(tmp_path)
    url = page_path.as_uri() + ("?" + urlencode(query) if query else "")
    page = browser.new_page()
    try:
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        assert page.get_attribute("#result", "data-outcome") == outcome
        assert status in page.inner_text("#status")
        assert errors == []  # the CSP hash matches: the script ran
        # Query values are text, never markup.
        assert page.query_selector("img") is None
        assert page.query_selector("#injected") is None
        assert page.title() != "pwned"
        if outcome == "error":
            assert "AADSTS90094" in page.inner_text("#aadsts")
            assert "<img src=x" in page.inner_text("#description")
            assert "Global Administrator" in page.inner_text("#summary")
            assert "<b id=injected>x</b>" in page.inner_text("#state")
        if outcome == "granted":
            assert "step 2" in page.inner_text("#next")
            assert page.inner_text("#tenant") == query["tenant"]
            assert page.inner_text("#state") == "litware"
    finally:
        page.close()


@pytest.mark.browser
def test_kit_page_in_a_browser(tmp_path: Path, browser, demo_config, public) -> None:  # type: ignore[no-untyped-def]
    """The kit page: its script runs under its CSP, tabs switch without it, the consent
    button goes to the consent link."""
    from conftest import APP_IDS, IDENTITIES

    from provisioning.kit import build_kit, render_kit

    kit = build_kit(
        demo_config, public, "litware", app_id=APP_IDS["logs"], home_identities=IDENTITIES
    )
    render_kit(kit, tmp_path)
    page = browser.new_page()
    try:
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto((tmp_path / "index.html").as_uri())
        assert errors == []
        assert page.get_attribute("a.button", "href") == kit.consent_url
        assert page.is_visible("#assign-az-panel") and not page.is_visible("#assign-ps-panel")
        page.click("label[for=assign-ps]")
        assert page.is_visible("#assign-ps-panel") and not page.is_visible("#assign-az-panel")
        # The copy buttons exist only where the clipboard API does; never an error.
        assert page.query_selector_all("img") == []
    finally:
        page.close()


# --- hostile answers (issue 12): fixed tables, quoted text, the tenant compared -------------

LITWARE_TID = "5b1d7e20-6c3f-4a81-8b92-117a3e000002"
OTHER_TID = "0d9c8b7a-6e5f-4a3b-9c2d-1e0f00000005"
TENANTS = {"litware": LITWARE_TID, "fabrikam": "fabrikam.onmicrosoft.com"}


def _open(browser, tmp_path: Path, query: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    page_path = render_landing(tmp_path, tenants=TENANTS)
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(page_path.as_uri() + "?" + urlencode(query))
    page.wait_for_selector("#result[data-tenant]", state="attached")
    assert errors == []
    return page


def test_the_page_does_not_list_the_customers(tmp_path: Path) -> None:
    text = render_landing(tmp_path, tenants=TENANTS).read_text(encoding="utf-8")
    for secret in ("litware", "fabrikam", LITWARE_TID):
        assert secret not in text


@pytest.mark.browser
@pytest.mark.parametrize(
    "query",
    [
        [("admin_consent", "True"), ("error", ""), ("error", "access_denied")],
        [("admin_consent", "True"), ("error", "")],
        [("error", ""), ("admin_consent", "True"), ("tenant", LITWARE_TID)],
    ],
)
def test_any_error_parameter_means_failure(tmp_path: Path, browser, query) -> None:  # type: ignore[no-untyped-def]
    page = _open(browser, tmp_path, query)
    try:
        assert page.get_attribute("#result", "data-outcome") in ("cancelled", "error")
        assert "consent granted" not in page.inner_text("#status").lower()
    finally:
        page.close()


@pytest.mark.browser
def test_error_code_from_a_fixed_table_and_description_quoted(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    forged = "Your tenant is verified. Go to https://evil.example/fix and enter your password."
    page = _open(
        browser,
        tmp_path,
        [
            ("error", "please_call_support"),
            ("error_description", forged),
            ("state", "xtenant:litware"),
        ],
    )
    try:
        assert page.get_attribute("#result", "data-outcome") == "error"
        assert page.inner_text("#error") == "not a known error code"
        assert page.inner_text("#error-raw") == "\u201cplease_call_support\u201d"
        assert page.inner_text("#description") == f"\u201c{forged}\u201d"
        assert "not a message from the publisher" in page.inner_text("#description-box")
        summary = page.inner_text("#summary")
        assert "does not know" in summary and "evil.example" not in summary
        assert page.query_selector("a[href*='evil']") is None
    finally:
        page.close()


@pytest.mark.browser
def test_consent_in_another_tenant_is_said_plainly(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    query = [("admin_consent", "True"), ("tenant", OTHER_TID), ("state", "xtenant:litware")]
    page = _open(browser, tmp_path, query)
    try:
        assert page.get_attribute("#result", "data-tenant") == "mismatch"
        assert "another tenant" in page.inner_text("#status")
        assert "Do not assign the roles" in page.inner_text("#next")
        check = page.inner_text("#tenant-check")
        assert f"Tenant {OTHER_TID} is NOT the tenant" in check and "litware" in check
    finally:
        page.close()


@pytest.mark.browser
@pytest.mark.parametrize(
    ("state", "tenant", "verdict"),
    [
        ("xtenant:litware", LITWARE_TID, "match"),
        ("xtenant:litware", LITWARE_TID.upper(), "match"),
        ("xtenant:fabrikam", OTHER_TID, "unknown"),
        ("xtenant:northwind", OTHER_TID, "unknown"),
    ],
)
def test_tenant_check(tmp_path: Path, browser, state: str, tenant: str, verdict: str) -> None:  # type: ignore[no-untyped-def]
    query = [("admin_consent", "True"), ("tenant", tenant), ("state", state)]
    page = _open(browser, tmp_path, query)
    try:
        assert page.get_attribute("#result", "data-tenant") == verdict
        assert page.inner_text("#status") == "Consent granted."
        if verdict == "match":
            assert "is the tenant this onboarding was prepared for" in page.inner_text(
                "#tenant-check"
            )
    finally:
        page.close()
