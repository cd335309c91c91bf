"""Cloud profiles: where each service lives and which audiences its tokens carry.

Endpoints (where requests go) and audiences (what tokens are for) are kept apart on
purpose: a private or emulated cloud may serve ARM from another host while its tokens
still say ``https://management.azure.com``.  A custom profile is a JSON file; the
sandbox writes one, and so can anyone with a sovereign or private cloud.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

BUILTIN = ("public", "usgov", "china")


class CloudError(ValueError):
    """A cloud name or cloud file that cannot be used."""


@dataclass(frozen=True)
class Cloud:
    name: str
    authority: str  # https://login.microsoftonline.com (no trailing slash)
    arm: str  # ARM endpoint
    graph: str  # Graph endpoint (v1.0 lives at {graph}/v1.0)
    exchange_audience: str  # audience of MI tokens used as client assertions
    arm_audience: str = "https://management.azure.com"
    graph_audience: str = "https://graph.microsoft.com"
    monitor_audience: str = "https://monitor.azure.com"
    ca_bundle: str | None = None  # extra trust anchors for this cloud's endpoints
    # Where Logs Ingestion endpoints (DCE/DCR) live: DNS suffixes (".ingest.monitor.azure.com")
    # or exact https origins; verify sends a customer-tenant token to no other host.
    logs_ingestion_domains: tuple[str, ...] = ()
    custom: bool = False  # custom clouds need instance discovery off
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    # --- scopes (what a client asks a token for) -------------------------------------
    @property
    def arm_scope(self) -> str:
        return _default_scope(self.arm_audience)

    @property
    def graph_scope(self) -> str:
        return _default_scope(self.graph_audience)

    @property
    def monitor_scope(self) -> str:
        return _default_scope(self.monitor_audience)

    @property
    def exchange_scope(self) -> str:
        return _default_scope(self.exchange_audience)

    @property
    def authority_host(self) -> str:
        """The authority without scheme, as azure-identity's ``authority=`` accepts it."""
        return self.authority.split("://", 1)[-1]

    @property
    def graph_v1(self) -> str:
        return f"{self.graph}/v1.0"

    # --- derived values ---------------------------------------------------------------
    def fic_issuer(self, tenant_id: str) -> str:
        """Issuer of managed-identity tokens from ``tenant_id``: what a FIC must name."""
        return f"{self.authority}/{tenant_id}/v2.0"

    def token_endpoint(self, tenant: str) -> str:
        return f"{self.authority}/{tenant}/oauth2/v2.0/token"

    def admin_consent_url(
        self,
        tenant: str,
        client_id: str,
        redirect_uri: str,
        *,
        graph_permissions: bool,
        state: str | None = None,
    ) -> str:
        """Tenant-specific admin-consent link.

        With Graph application permissions the v2 endpoint is used with the ``.default``
        scope so the consent covers them; without any, the v1 endpoint needs no scope.
        """
        params: dict[str, str] = {"client_id": client_id, "redirect_uri": redirect_uri}
        if graph_permissions:
            params["scope"] = self.graph_scope
            path = f"{self.authority}/{tenant}/v2.0/adminconsent"
        else:
            path = f"{self.authority}/{tenant}/adminconsent"
        if state:
            params["state"] = state
        return f"{path}?{urlencode(params)}"

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "name": self.name,
            "authority": self.authority,
            "arm": self.arm,
            "graph": self.graph,
            "exchange_audience": self.exchange_audience,
            "arm_audience": self.arm_audience,
            "graph_audience": self.graph_audience,
            "monitor_audience": self.monitor_audience,
        }
        if self.logs_ingestion_domains:
            out["logs_ingestion_domains"] = list(self.logs_ingestion_domains)
        if self.ca_bundle:
            out["ca_bundle"] = self.ca_bundle
        out.update(self.extra)
        return out


def _default_scope(audience: str) -> str:
    return audience.rstrip("/") + "/.default"


PUBLIC = Cloud(
    name="public",
    authority="https://login.microsoftonline.com",
    arm="https://management.azure.com",
    graph="https://graph.microsoft.com",
    exchange_audience="api://AzureADTokenExchange",
    logs_ingestion_domains=(".ingest.monitor.azure.com",),
)
# Logs Ingestion domains: Microsoft Learn's Azure Monitor network tables list the DCE/DCR
# ingestion endpoints as *.ingest.monitor.azure.com (public), *.ingest.monitor.azure.us
# (US Government) and *.ingest.monitor.azure.cn (21Vianet).
USGOV = Cloud(
    name="usgov",
    authority="https://login.microsoftonline.us",
    arm="https://management.usgovcloudapi.net",
    graph="https://graph.microsoft.us",
    exchange_audience="api://AzureADTokenExchangeUSGov",
    arm_audience="https://management.usgovcloudapi.net",
    graph_audience="https://graph.microsoft.us",
    monitor_audience="https://monitor.azure.us",
    logs_ingestion_domains=(".ingest.monitor.azure.us",),
)
CHINA = Cloud(
    name="china",
    authority="https://login.chinacloudapi.cn",
    arm="https://management.chinacloudapi.cn",
    graph="https://microsoftgraph.chinacloudapi.cn",
    exchange_audience="api://AzureADTokenExchangeChina",
    arm_audience="https://management.chinacloudapi.cn",
    graph_audience="https://microsoftgraph.chinacloudapi.cn",
    monitor_audience="https://monitor.azure.cn",
    logs_ingestion_domains=(".ingest.monitor.azure.cn",),
)
_BUILTINS = {c.name: c for c in (PUBLIC, USGOV, CHINA)}

_REQUIRED = ("authority", "arm", "graph", "exchange_audience")
_KNOWN = (*_REQUIRED, "name", "arm_audience", "graph_audience", "monitor_audience", "ca_bundle")
_LISTS = ("logs_ingestion_domains",)


def _domains(data: dict[str, object], source: str) -> tuple[str, ...]:
    """``logs_ingestion_domains``: DNS suffixes starting with '.' or https origins."""
    raw = data.get("logs_ingestion_domains", [])
    if not isinstance(raw, list) or not all(isinstance(d, str) for d in raw):
        raise CloudError(f"{source}: logs_ingestion_domains must be a list of strings")
    for d in raw:
        if not (d.startswith(".") or d.startswith("https://")):
            raise CloudError(
                f"{source}: logs_ingestion_domains entry {d!r} must be a DNS suffix starting "
                "with '.' or an https:// origin"
            )
    return tuple(raw)


def from_dict(data: dict[str, object], *, source: str = "cloud") -> Cloud:
    """A profile from its JSON form (``Cloud.to_json``, e.g. inside a kit)."""
    name = str(data.get("name", ""))
    if name.lower() in _BUILTINS and data.get("authority") in (
        None,
        _BUILTINS[name.lower()].authority,
    ):
        return _BUILTINS[name.lower()]
    missing = [k for k in _REQUIRED if not isinstance(data.get(k), str) or not data.get(k)]
    if missing:
        raise CloudError(f"{source}: missing {', '.join(missing)}")
    kwargs: dict[str, Any] = {
        k: str(data[k]).rstrip("/") for k in _KNOWN if k in data and k != "ca_bundle"
    }
    kwargs.setdefault("name", "custom")
    return Cloud(
        custom=True,
        ca_bundle=str(data["ca_bundle"]) if data.get("ca_bundle") else None,
        logs_ingestion_domains=_domains(data, source),
        **kwargs,
    )


def load_cloud_file(path: str | os.PathLike[str]) -> Cloud:
    """Read a custom cloud profile (JSON). Relative ``ca_bundle`` paths are resolved
    against the file's folder so a profile can travel with its bundle."""
    from provisioning.core import bounded

    p = Path(path)
    try:  # within bounds: the path comes from a config a pull request may change
        data = bounded.load_json(bounded.read_text(p))
    except bounded.InputError as exc:
        if str(exc) == "file not found":
            raise CloudError(f"cloud file not found: {p}") from None
        raise CloudError(f"cloud file {p} cannot be read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise CloudError(f"cloud file {p} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise CloudError(f"cloud file {p}: expected a JSON object")
    missing = [k for k in _REQUIRED if not isinstance(data.get(k), str) or not data.get(k)]
    if missing:
        raise CloudError(f"cloud file {p}: missing {', '.join(missing)}")
    for key in ("authority", "arm", "graph"):
        if not str(data[key]).startswith("https://"):
            raise CloudError(f"cloud file {p}: {key} must be an https URL, got {data[key]!r}")
    kwargs: dict[str, Any] = {
        k: str(data[k]).rstrip("/") for k in _KNOWN if k in data and k != "ca_bundle"
    }
    kwargs.setdefault("name", p.stem)
    bundle = data.get("ca_bundle")
    if bundle:
        bundle_path = Path(bundle)
        if not bundle_path.is_absolute():
            bundle_path = p.parent / bundle_path
        kwargs["ca_bundle"] = str(bundle_path)
    extra = {k: v for k, v in data.items() if k not in _KNOWN and isinstance(v, str)}
    return Cloud(
        custom=True,
        extra=extra,
        logs_ingestion_domains=_domains(data, f"cloud file {p}"),
        **kwargs,
    )


def resolve(spec: str | None) -> Cloud:
    """``public`` / ``usgov`` / ``china`` or a path to a custom cloud JSON file."""
    spec = spec or os.environ.get("XTENANT_CLOUD") or "public"
    if spec.lower() in _BUILTINS:
        return _BUILTINS[spec.lower()]
    if spec.endswith(".json") or os.sep in spec or Path(spec).exists():
        return load_cloud_file(spec)
    raise CloudError(
        f"unknown cloud {spec!r}: expected one of {', '.join(BUILTIN)} or a path to a cloud JSON file"
    )
