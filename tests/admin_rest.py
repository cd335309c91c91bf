"""Raw REST calls to a sandbox as one of its tenants' admin, "behind the back" of the code
under test: azure-identity for the token (``admin_credential``, the one the sandbox's handle
gives), httpx for the call, exactly as an admin's script would. Tests use it to create drift and
to check state independently of the code under test."""

from __future__ import annotations

import ssl
from typing import Any

import httpx

from provisioning.sandbox.credentials import admin_credential

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
ARM_SCOPE = "https://management.azure.com/.default"


class AdminRest:
    def __init__(self, info: dict[str, Any], tenant: str) -> None:
        self.info = info
        self.tenant = tenant
        self._credential = admin_credential(info, tenant)  # caches its tokens
        self._tls = ssl.create_default_context(cafile=info["ca_bundle"])

    def token(self, scope: str) -> str:
        return str(self._credential.get_token(scope).token)

    def _call(self, method: str, url: str, scope: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": "Bearer " + self.token(scope), **kw.pop("headers", {})}
        return httpx.request(method, url, headers=headers, verify=self._tls, timeout=30, **kw)

    def graph(self, method: str, path: str, **kw: Any) -> httpx.Response:
        """``{graph}/v1.0/{path}``."""
        url = f"{self.info['graph']}/v1.0/{path.lstrip('/')}"
        return self._call(method, url, GRAPH_SCOPE, **kw)

    def arm(self, method: str, path: str, api_version: str, **kw: Any) -> httpx.Response:
        """``{arm}{path}?api-version=...``."""
        kw["params"] = {"api-version": api_version, **kw.pop("params", {})}
        return self._call(method, f"{self.info['arm']}{path}", ARM_SCOPE, **kw)
