"""The landing page: the one page behind every app's redirect URI, shared by all customers.

Entra's admin consent sends the admin back there with the outcome in the query string; the
page (plain HTML and one inline script, allowed by its hash) tells the admin what happened.

The page also tells whether consent was given in the tenant the onboarding (the ``state``,
``xtenant:<customer>``) was prepared for. It is public (it is the redirect URI), so it does
not list the customers: it holds, per customer, SHA-256 digests of the customer's name and of
(name, tenant id), and the script compares the digest of what Entra sent back. A customer
whose tenant is given by domain cannot be compared with the id Entra returns: the page says so.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

from markupsafe import Markup

from provisioning.core.armid import GUID_RE

from .templating import csp_hash, render, static, write_file

LANDING_DIR = "landing"
"""The landing page's folder next to the customers' kits (so no customer may be named so)."""


DIGEST_PREFIX = "xtenant-landing/1\n"
"""Prefixed to what is hashed, so the digests are this page's own (and versioned)."""


def tenant_digests(tenants: Mapping[str, str]) -> dict[str, object]:
    """The page's data block: digest of each customer name -> its tenant's kind and (for a
    tenant GUID) the digest of name + tenant id, lowercase, as Entra returns it."""

    def sha(text: str) -> str:
        return hashlib.sha256((DIGEST_PREFIX + text).encode("utf-8")).hexdigest()

    customers: dict[str, dict[str, str]] = {}
    for name, tenant in sorted(tenants.items()):
        if GUID_RE.match(tenant):
            customers[sha(name)] = {"kind": "guid", "tenant": sha(f"{name}\n{tenant.lower()}")}
        else:
            customers[sha(name)] = {"kind": "domain"}
    return {"prefix": DIGEST_PREFIX, "customers": customers}


def render_landing(
    out_dir: Path,
    *,
    publisher: str | None = None,
    contact: str | None = None,
    tenants: Mapping[str, str] | None = None,
) -> Path:
    """The page behind the apps' redirect URI: reads what Entra's admin consent sends back
    (``admin_consent``, ``tenant``, ``error``, ``error_description``, ``state``) and tells
    the admin what happened and what to do next; ``tenants`` (customer name -> tenant)
    lets it tell a consent given in another tenant.  Written to ``out_dir/index.html``."""
    out_dir = Path(out_dir)
    js = static("landing/landing.js")
    text = render(
        "landing/index.html.j2",
        css=Markup(static("kit/style.css")),
        landing_js=Markup(js),
        script_hash=csp_hash(js),
        publisher=publisher,
        contact=contact,
        # JSON in a data attribute (autoescaped): the page keeps its one inline script
        tenants_json=json.dumps(tenant_digests(tenants or {}), sort_keys=True),
    )
    return write_file(out_dir / "index.html", text)
