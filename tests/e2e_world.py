"""Test helpers: a sandbox plus the home config, and raw REST access "behind our back"
(``Raw``, see ``admin_rest.py``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from admin_rest import AdminRest

from provisioning.config import load_config
from provisioning.core import clouds
from provisioning.core.runner import Options, home_apply, home_plan

REPO = Path(__file__).resolve().parents[1]


Raw = AdminRest  # raw REST as a tenant's admin (tests/admin_rest.py)


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


def pipeline_identity(
    sb: Any, tenants: list[str], extra_graph_roles: tuple[str, ...] = ()
) -> dict[str, str]:
    """An MSSP's pipeline identity: a multi-tenant app in contoso with Owner and the Graph
    roles it needs there, consented in each of ``tenants`` with the same rights (what
    `customer_side: managed` means). Set up through the sandbox's Python handle.
    ``extra_graph_roles``: more Graph roles (scoped grants need Sites.FullControl.All and
    RoleManagement.ReadWrite.Directory)."""
    world = sb.world
    home = sb.info["tenants"]["contoso"]
    admin = world.directory.create_admin(
        home["tenant_id"],
        "xtenant pipeline",
        (*PIPELINE_GRAPH_ROLES, *extra_graph_roles),
        multi_tenant=True,
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
