"""A host's system-assigned identity as an identity an app trusts (``system_assigned_of``).

It lives on its host: observing it is reading the host's ``identity`` block (its
``principalId`` is the subject of the app's federated credential); making it exist is
enabling it on the host, which the plan shows, keeping the host's other identities.
Disabling it is never done: a config that no longer declares it leaves it as it is.
"""

from __future__ import annotations

from typing import Any

from azure.core.exceptions import HttpResponseError

from provisioning.core import armid
from provisioning.core.engine import Context, Task
from provisioning.core.errors import TaskError, status_of
from provisioning.core.hosts import host_kind
from provisioning.core.plan import Action, Change, FieldChange
from provisioning.state.home import (
    IdentityState,
    host_denied,
    identity_address,
    read_system_identity,
)
from provisioning.state.hosts import HostIdentity

from ..config import Identity
from .attach import host_note
from .hosts import merged_identity, write_host


class SystemIdentityTask(Task):
    kind = "system-assigned identity"
    stage = 0

    def __init__(self, ident: Identity) -> None:
        self.ident = ident
        self.host = armid.parse(str(ident.system_assigned_of))
        self.address = identity_address(ident.name)
        self.block: HostIdentity | None = None

    async def observe(self, ctx: Context) -> None:
        block, state = await read_system_identity(ctx.clients, self.ident)
        self._record(ctx, block, state)

    def _record(self, ctx: Context, block: HostIdentity, state: IdentityState | None) -> None:
        self.block = block
        ctx.seen.hosts[str(self.host).lower()] = block
        ctx.seen.record(ctx.seen.identities, self.ident.name, self.address, state)

    def changes(self, ctx: Context) -> list[Change]:
        cur = self.block
        assert cur is not None
        if cur.system and cur.principal_id:
            return [Change(self.address, self.kind, Action.NOOP)]
        kind = host_kind(self.host)
        body = merged_identity(cur, set(), set(), system=True, both=kind.both)
        note = (
            f"enables the system-assigned identity of {kind.label} {self.host.name}: a new "
            "principal id, which the app's federated credential will name"
        )
        extra = host_note(self.host, cur)
        return [
            Change(
                self.address,
                self.kind,
                Action.UPDATE,
                [FieldChange("identity.type", cur.type, body["type"])],
                note=f"{note}; {extra}" if extra else note,
                apply=lambda: self._enable(ctx, body),
            )
        ]

    async def _enable(self, ctx: Context, body: dict[str, Any]) -> None:
        try:
            block = await write_host(ctx, self.host, body)
        except HttpResponseError as e:
            if status_of(e) == 403:
                raise TaskError(
                    self.address, host_denied(self.address, self.host, "change")
                ) from None
            raise
        if block is not None:  # the response's block; the client id comes with the next read
            self._record(ctx, block, IdentityState.of_host(self.ident.name, str(self.host), block))

    def verified(self, ctx: Context) -> str | None:
        state = ctx.seen.identities.get(self.ident.name)
        if state is None:
            return None
        return f"{self.address}: system-assigned identity of {self.host.name}, principalId {state.principal_id}"
