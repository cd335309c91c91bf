"""What a customer-side run works from: the kit's content, read as plain data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from provisioning.core import armid


@dataclass(frozen=True)
class RoleGrant:
    role: str  # display name, for people
    role_id: str  # role definition GUID
    scope: str
    assignment_name: str  # deterministic GUID: the same on every run
    why: str | None = None

    @property
    def subscription_id(self) -> str | None:
        return armid.parse(self.scope).subscription_id


@dataclass(frozen=True)
class GraphRole:
    value: str
    id: str


@dataclass(frozen=True)
class CustomerSpec:
    name: str
    tenant: str
    app_id: str
    app_display_name: str
    home_tenant: str
    roles: tuple[RoleGrant, ...]
    graph_roles: tuple[GraphRole, ...]

    @property
    def label(self) -> str:
        return f"customer[{self.name}]"

    @classmethod
    def from_kit(cls, kit: dict[str, Any]) -> CustomerSpec:
        from ..kit.model import assignment_name

        app = kit["home"]["app"]
        roles = tuple(
            RoleGrant(
                role=r["role"],
                role_id=r["role_id"],
                scope=r["scope"],
                why=r.get("why"),
                assignment_name=assignment_name(r["scope"], r["role_id"], app["app_id"]),
            )
            for r in kit.get("roles", [])
        )
        graph = tuple(GraphRole(g["value"], g["id"]) for g in kit.get("graph_app_roles", []))
        return cls(
            name=kit["customer"]["name"],
            tenant=kit["customer"]["tenant"],
            app_id=app["app_id"],
            app_display_name=app["display_name"],
            home_tenant=kit["home"]["tenant_id"],
            roles=roles,
            graph_roles=graph,
        )
