"""The landing page: the one page behind every app's redirect URI, shared by all customers.

Entra's admin consent sends the admin back there with the outcome in the query string; the
page (plain HTML and one inline script, allowed by its hash) tells the admin what happened.
"""

from __future__ import annotations

from pathlib import Path

from markupsafe import Markup

from .templating import csp_hash, render, static, write_file

LANDING_DIR = "landing"
"""The landing page's folder next to the customers' kits (so no customer may be named so)."""


def render_landing(
    out_dir: Path, *, publisher: str | None = None, contact: str | None = None
) -> Path:
    """The page behind the apps' redirect URI: reads what Entra's admin consent sends back
    (``admin_consent``, ``tenant``, ``error``, ``error_description``, ``state``) and tells
    the admin what happened and what to do next.  Written to ``out_dir/index.html``."""
    out_dir = Path(out_dir)
    js = static("landing/landing.js")
    text = render(
        "landing/index.html.j2",
        css=Markup(static("kit/style.css")),
        landing_js=Markup(js),
        script_hash=csp_hash(js),
        publisher=publisher,
        contact=contact,
    )
    return write_file(out_dir / "index.html", text)
