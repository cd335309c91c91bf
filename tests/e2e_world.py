"""Test helpers: a sandbox plus the home config, and raw REST access "behind our back".

Raw access uses azure-identity for the token and httpx for the call, exactly as an
admin's script would; it exists to create drift and to count objects independently of
the code under test.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from azure.identity import ClientSecretCredential

from provisioning.config import load_config
from provisioning.core import clouds
from provisioning.core.runner import Options, home_apply, home_plan

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Raw:
    info: dict[str, Any]
    tenant: str

    def _token(self, scope: str) -> str:
        t = self.info["tenants"][self.tenant]
        cred = ClientSecretCredential(
            t["tenant_id"],
            t["admin"]["client_id"],
            t["admin"]["client_secret"],
            authority=self.info["authority"],
            disable_instance_discovery=True,
            connection_verify=self.info["ca_bundle"],
        )
        return cred.get_token(scope).token

    def graph(self, method: str, path: str, **kw: Any) -> httpx.Response:
        h = {"Authorization": "Bearer " + self._token("https://graph.microsoft.com/.default")}
        h.update(kw.pop("headers", {}))
        return httpx.request(
            method,
            f"{self.info['graph']}/v1.0/{path.lstrip('/')}",
            headers=h,
            verify=self.info["ca_bundle"],
            **kw,
        )

    def arm(self, method: str, path: str, api_version: str, **kw: Any) -> httpx.Response:
        h = {"Authorization": "Bearer " + self._token("https://management.azure.com/.default")}
        params = {"api-version": api_version, **kw.pop("params", {})}
        return httpx.request(
            method,
            f"{self.info['arm']}{path}",
            params=params,
            headers=h,
            verify=self.info["ca_bundle"],
            **kw,
        )


def customer_sent_values(info: dict[str, Any]) -> dict[str, str]:
    """What Litware's admin sends the provider: DCE endpoint and DCR immutableId."""
    from provisioning.cli.demo import customer_sent_values as values

    return values(info)


class Home:
    """The demo home config against one sandbox, run in-process through the runner."""

    def __init__(
        self,
        sb: Any,
        tmp: Path,
        monkeypatch: Any,
        *,
        admin: str = "contoso",
        config_text: str | None = None,
    ) -> None:
        self.sb = sb
        self.path = tmp / "xtenant.yaml"
        self.path.write_text(config_text or (REPO / "examples" / "sandbox.yaml").read_text())
        for k, v in sb.env(admin=admin).items():
            monkeypatch.setenv(k, v)
        for k, v in customer_sent_values(sb.info).items():
            monkeypatch.setenv(k, v)
        self.cloud = clouds.load_cloud_file(sb.info["cloud_file"])
        self.raw = Raw(sb.info, "contoso")

    def loaded(self) -> Any:
        return load_config(self.path)

    def plan(self, **kw: Any) -> Any:
        return home_plan(self.loaded(), self.cloud, Options(**kw))

    def apply(self, **kw: Any) -> Any:
        return home_apply(self.loaded(), self.cloud, Options(**kw))


def env_of(sb: Any, **kw: Any) -> dict[str, str]:
    return {**os.environ, **sb.env(**kw)}


OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
PIPELINE_GRAPH_ROLES = ("Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All")


def pipeline_identity(sb: Any, tenants: list[str]) -> dict[str, str]:
    """An MSSP's pipeline identity: a multi-tenant app in contoso with Owner and the Graph
    roles it needs there, consented in each of ``tenants`` with the same rights (what
    `customer_side: managed` means). Set up through the sandbox's Python handle."""
    world = sb.world
    home = sb.info["tenants"]["contoso"]
    admin = world.directory.create_admin(
        home["tenant_id"], "xtenant pipeline", PIPELINE_GRAPH_ROLES, multi_tenant=True
    )
    world.arm.assign_role(
        f"/subscriptions/{home['subscription_id']}",
        OWNER,
        admin["principal_id"],
        "ServicePrincipal",
    )
    for name in tenants:
        t = sb.info["tenants"][name]
        sp = world.directory.consent(
            t["tenant_id"], admin["client_id"], scope="https://graph.microsoft.com/.default"
        )
        if t.get("subscription_id"):
            world.arm.assign_role(
                f"/subscriptions/{t['subscription_id']}", OWNER, sp["id"], "ServicePrincipal"
            )
    return admin
