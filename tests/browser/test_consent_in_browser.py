"""A customer admin's path in a real browser: kit page → consent → landing page.

Debian's chromium, driven by playwright from PyPI (no browser download). The kit folder
is served on localhost, which is also the app's redirect URI (Entra allows http only there).
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import os
import socket
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from e2e_world import Home, Raw

from provisioning.core.runner import home_state

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _spki_hash(cert_pem: Path) -> str:
    """What chromium's --ignore-certificate-errors-spki-list takes: trust exactly our server key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert = x509.load_pem_x509_certificate(cert_pem.read_bytes())
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    port, root = _free_port(), tmp_path / "kits"
    root.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield port, root
    httpd.shutdown()


@pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="Debian chromium is not installed (make test installs it)"
)
def test_admin_consents_in_a_browser(
    fresh_sandbox: Any, tmp_path: Path, served: tuple[int, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import sync_playwright

    from provisioning.kit.render import render_all

    port, kits = served
    landing = f"http://localhost:{port}/landing/"
    config = (
        (REPO / "examples" / "sandbox.yaml")
        .read_text()
        .replace("https://contoso.example/onboarded", landing)
    )
    home = Home(fresh_sandbox, tmp_path, monkeypatch, config_text=config)
    out = home.apply()
    assert out.ok, out.failures
    loaded = home.loaded()
    state = home_state(loaded, home.cloud)
    assert not state.problems
    render_all(
        loaded.config,
        home.cloud,
        kits,
        app_ids=state.app_ids(),
        identities=state.identity_ids(),
    )
    app_id = state.apps["logs"].app_id
    litware = Raw(fresh_sandbox.info, "litware")
    assert litware.graph("GET", f"servicePrincipals(appId='{app_id}')").status_code == 404

    server_cert = Path(fresh_sandbox.info["ca_bundle"]).parent / "server.pem"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--ignore-certificate-errors-spki-list={_spki_hash(server_cert)}",
            ],
        )
        page = browser.new_page()
        page.goto(f"http://localhost:{port}/litware/index.html")
        page.screenshot(path=str(ARTIFACTS / "kit-litware.png"), full_page=True)
        button = page.locator("a[href*='adminconsent']").first
        assert button.is_visible()
        href = button.get_attribute("href") or ""
        assert f"client_id={app_id}" in href
        with page.expect_navigation():
            button.evaluate("a => a.removeAttribute('target')")
            button.click()
        assert "/adminconsent" in page.url
        page.screenshot(path=str(ARTIFACTS / "consent-page.png"), full_page=True)
        assert "Contoso Log Forwarder" in page.content()
        with page.expect_navigation(url=f"{landing}**"):
            page.click("#accept")
        page.wait_for_load_state("networkidle")
        assert "admin_consent=True" in page.url
        text = page.inner_text("body")
        page.screenshot(path=str(ARTIFACTS / "consent-landing.png"), full_page=True)
        browser.close()
    assert "error" not in page.url
    assert any(w in text.lower() for w in ("consent", "granted", "success", "thank")), text[:500]
    sp = litware.graph("GET", f"servicePrincipals(appId='{app_id}')")
    assert sp.status_code == 200, sp.text
