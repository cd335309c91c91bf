"""The user-assigned managed identity (read as ARM JSON, written with azure-mgmt-msi)."""

from __future__ import annotations

from typing import Any

from provisioning.core.engine import Context, Task
from provisioning.core.errors import TaskError, denied
from provisioning.core.plan import Action, Change, FieldChange
from provisioning.state.home import IdentityState, identity_address, identity_id, read_identity

from ..config import Identity

MANAGED_TAG = ("managed-by", "xtenant")

__all__ = ["IdentityTask", "identity_id"]


class IdentityTask(Task):
    kind = "user-assigned identity"
    stage = 0

    def __init__(self, ident: Identity) -> None:
        self.ident = ident
        self.address = identity_address(ident.name)
        self.observed: IdentityState | None = None

    @property
    def location(self) -> str:
        return str(self.ident.location)

    @property
    def group(self) -> str:
        return str(self.ident.resource_group)

    def _tags(self) -> dict[str, str]:
        return {**self.ident.tags, MANAGED_TAG[0]: MANAGED_TAG[1]}

    async def observe(self, ctx: Context) -> None:
        self._record(
            ctx, await read_identity(ctx.clients, ctx.cfg.home.subscription_id, self.ident)
        )

    def _record(self, ctx: Context, state: IdentityState | None) -> None:
        self.observed = state
        ctx.seen.record(ctx.seen.identities, self.ident.name, self.address, state)

    def _settled(self, ctx: Context, state: IdentityState | None) -> None:
        if state is not None:  # else the next look reads it
            self._record(ctx, state)

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
                        FieldChange("location", None, self.location),
                        FieldChange("resource_group", None, self.group),
                        FieldChange("tags", None, tags),
                    ],
                    apply=lambda: self._create(ctx),
                )
            ]
        if cur.location.replace(" ", "").lower() != self.location.lower():
            raise TaskError(
                self.address,
                (
                    f"is in {cur.location} but the config says {self.location}. A managed "
                    f"identity cannot move: recreating it gives it a new principal id, which breaks "
                    f"every federated credential and role assignment that names it. Either set "
                    f"location: {cur.location}, or delete the identity yourself and run apply again."
                ),
            )
        have = dict(cur.tags)
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

    def _fix(self, verb: str, ctx: Context) -> str:
        return (
            f"no permission to {verb} the identity: the admin needs Managed Identity "
            f"Contributor on resource group {self.group} (subscription "
            f"{ctx.cfg.home.subscription_id})"
        )

    async def _create(self, ctx: Context) -> None:
        client = ctx.clients.msi(ctx.cfg.home.subscription_id)
        with denied(self.address, self._fix("create", ctx)):
            made = await client.user_assigned_identities.create_or_update(
                self.group,
                self.ident.name,
                {"location": self.location, "tags": self._tags()},
            )
        self._settled(ctx, _from_sdk(self.ident.name, made))

    async def _update_tags(self, ctx: Context, tags: dict[str, str]) -> None:
        client = ctx.clients.msi(ctx.cfg.home.subscription_id)
        with denied(self.address, self._fix("update", ctx)):
            made = await client.user_assigned_identities.update(
                self.group, self.ident.name, {"tags": tags}
            )
        self._settled(ctx, _from_sdk(self.ident.name, made))

    def verified(self, ctx: Context) -> str | None:
        f = self.observed
        if f is None:
            return None
        return f"{self.address}: clientId {f.client_id}, principalId {f.principal_id}"


def _from_sdk(name: str, made: Any) -> IdentityState | None:
    """The identity as the write's response has it (``None``: it does not say, and the
    next look reads it)."""
    if made is None or not getattr(made, "principal_id", None):
        return None
    return IdentityState(
        name=name,
        resource_id=str(made.id or ""),
        client_id=str(made.client_id or ""),
        principal_id=str(made.principal_id),
        location=str(made.location or ""),
        tags=dict(made.tags or {}),
    )
