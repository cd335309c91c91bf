"""The user-assigned managed identity (azure-mgmt-msi)."""

from __future__ import annotations

from typing import Any

from provisioning.core.engine import Context, Task
from provisioning.core.errors import TaskError, code_of, is_not_found, status_of
from provisioning.core.plan import Action, Change, FieldChange

from ..config import Identity

MANAGED_TAG = ("managed-by", "xtenant")


def identity_id(subscription_id: str, ident: Identity) -> str:
    return (
        f"/subscriptions/{subscription_id}/resourceGroups/{ident.resource_group}"
        f"/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{ident.name}"
    )


class IdentityTask(Task):
    kind = "user-assigned identity"
    stage = 0

    def __init__(self, ident: Identity) -> None:
        self.ident = ident
        self.address = f"home.identity[{ident.name}]"
        self.observed: Any = None

    def _tags(self) -> dict[str, str]:
        return {**self.ident.tags, MANAGED_TAG[0]: MANAGED_TAG[1]}

    async def observe(self, ctx: Context) -> None:
        sub = ctx.cfg.home.subscription_id
        try:
            self.observed = await ctx.clients.msi(sub).user_assigned_identities.get(
                self.ident.resource_group, self.ident.name
            )
        except Exception as e:
            if is_not_found(e) and code_of(e) == "ResourceGroupNotFound":
                raise TaskError(
                    self.address,
                    (
                        f"resource group {self.ident.resource_group!r} does not exist in subscription "
                        f"{sub}; create it (az group create -n {self.ident.resource_group} -l "
                        f"{self.ident.location}) or fix home.identities[].resource_group"
                    ),
                ) from None
            if is_not_found(e):
                self.observed = None
                return
            if status_of(e) == 403:
                raise TaskError(
                    self.address,
                    (
                        f"no permission to read {identity_id(sub, self.ident)}: the admin needs "
                        f"Managed Identity Contributor (or Reader to plan) on resource group "
                        f"{self.ident.resource_group}"
                    ),
                ) from None
            raise
        ctx.facts.identities[self.ident.name] = {
            "resource_id": self.observed.id,
            "principal_id": self.observed.principal_id,
            "client_id": self.observed.client_id,
        }

    def changes(self, ctx: Context) -> list[Change]:
        tags = self._tags()
        cur = self.observed
        if cur is None:
            return [
                Change(
                    self.address,
                    self.kind,
                    Action.CREATE,
                    [
                        FieldChange("location", None, self.ident.location),
                        FieldChange("resource_group", None, self.ident.resource_group),
                        FieldChange("tags", None, tags),
                    ],
                    apply=lambda: self._create(ctx),
                )
            ]
        if cur.location.replace(" ", "").lower() != self.ident.location.lower():
            raise TaskError(
                self.address,
                (
                    f"is in {cur.location} but the config says {self.ident.location}. A managed "
                    f"identity cannot move: recreating it gives it a new principal id, which breaks "
                    f"every federated credential and role assignment that names it. Either set "
                    f"location: {cur.location}, or delete the identity yourself and run apply again."
                ),
            )
        have = dict(cur.tags or {})
        merged = {**have, **tags}
        if merged != have:
            return [
                Change(
                    self.address,
                    self.kind,
                    Action.UPDATE,
                    [FieldChange("tags", have, merged)],
                    apply=lambda: self._update_tags(ctx, merged),
                )
            ]
        return [Change(self.address, self.kind, Action.NOOP)]

    async def _create(self, ctx: Context) -> None:
        client = ctx.clients.msi(ctx.cfg.home.subscription_id)
        try:
            await client.user_assigned_identities.create_or_update(
                self.ident.resource_group,
                self.ident.name,
                {"location": self.ident.location, "tags": self._tags()},
            )
        except Exception as e:
            self._raise_permission(e, "create", ctx)
            raise

    async def _update_tags(self, ctx: Context, tags: dict[str, str]) -> None:
        client = ctx.clients.msi(ctx.cfg.home.subscription_id)
        try:
            await client.user_assigned_identities.update(
                self.ident.resource_group, self.ident.name, {"tags": tags}
            )
        except Exception as e:
            self._raise_permission(e, "update", ctx)
            raise

    def _raise_permission(self, e: Exception, verb: str, ctx: Context) -> None:
        if status_of(e) == 403:
            raise TaskError(
                self.address,
                (
                    f"no permission to {verb} the identity: the admin needs Managed Identity "
                    f"Contributor on resource group {self.ident.resource_group} (subscription "
                    f"{ctx.cfg.home.subscription_id})"
                ),
            ) from None

    def verified(self, ctx: Context) -> str | None:
        f = ctx.facts.identities.get(self.ident.name)
        if not f:
            return None
        return f"{self.address}: clientId {f['client_id']}, principalId {f['principal_id']}"
