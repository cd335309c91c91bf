"""Attaching each identity to the hosts it runs on (and, with --prune, detaching it
from hosts no longer listed — never touching identities that are not ours)."""

from __future__ import annotations

from functools import partial

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from provisioning.core import armid
from provisioning.core.engine import Context, Task
from provisioning.core.errors import TaskError, code_of, status_of
from provisioning.core.hosts import host_kind, host_label
from provisioning.core.plan import Action, Change, FieldChange
from provisioning.state.home import identity_id
from provisioning.state.hosts import list_hosts, read_host

from ..config import Identity
from .hosts import HostIdentity, merged_identity, write_host


def _short(rid: str) -> str:
    return rid.rsplit("/", 1)[-1]


def permission_error(
    address: str, host: armid.ResourceId, identity_rid: str, e: BaseException
) -> TaskError:
    """A 403 in words: the role to grant, and where (the registry's role for the host)."""
    kind = host_kind(host)
    if code_of(e) == "LinkedAuthorizationFailed":
        what = (
            f"assign identity {_short(identity_rid)}: grant Managed Identity Operator on "
            f"{identity_rid}"
        )
    else:
        what = f"change host {host} ({kind.label}): grant {kind.role} on it"
    return TaskError(
        address,
        f"permission denied to {what}. Attaching an identity needs {kind.roles_needed()}.",
    )


def host_note(host: armid.ResourceId, block: HostIdentity | None) -> str | None:
    """What the plan says next to a change of this host's identities (the registry's note,
    e.g. a scale set's upgrade policy)."""
    note = host_kind(host).plan_note
    if note is None:
        return None
    mode = block.upgrade_policy if block is not None else None
    return note.format(upgrade=f" ({mode})" if mode else "")


class AttachTask(Task):
    kind = "identity attachment"
    stage = 1

    def __init__(self, ident: Identity, host: armid.ResourceId) -> None:
        self.ident = ident
        self.host = host
        self.address = f"home.identity[{ident.name}].attach[{host_label(host)}]"
        self.observed: HostIdentity | None = None

    async def observe(self, ctx: Context) -> None:
        try:
            self._record(ctx, await read_host(ctx.clients, self.host))
        except ResourceNotFoundError:
            raise TaskError(
                self.address, f"host {self.host} does not exist (or the admin cannot see it)"
            ) from None
        except HttpResponseError as e:
            if status_of(e) == 403:
                raise permission_error(self.address, self.host, "", e) from None
            raise

    def _record(self, ctx: Context, block: HostIdentity | None) -> None:
        if block is not None:  # None: the write's response did not say; the next look reads
            self.observed = block
            ctx.seen.hosts[str(self.host).lower()] = block

    def changes(self, ctx: Context) -> list[Change]:
        rid = identity_id(ctx.cfg.home.subscription_id, self.ident)
        cur = self.observed
        assert cur is not None
        if cur.has(rid):
            return [Change(self.address, self.kind, Action.NOOP)]
        body = merged_identity(cur, {rid}, set(), both=host_kind(self.host).both)
        after_users = [
            u for u, v in body.get("userAssignedIdentities", {}).items() if v is not None
        ]
        return [
            Change(
                self.address,
                self.kind,
                Action.UPDATE,
                [
                    FieldChange("identity.type", cur.type, body["type"]),
                    FieldChange(
                        "identity.userAssignedIdentities",
                        [_short(u) for u in cur.users],
                        [_short(u) for u in after_users],
                    ),
                ],
                note=host_note(self.host, cur),
                apply=lambda: self._set(ctx, body, rid),
            )
        ]

    async def _set(self, ctx: Context, body: dict, rid: str) -> None:
        try:
            self._record(ctx, await write_host(ctx, self.host, body))
        except HttpResponseError as e:
            if status_of(e) == 403:
                raise permission_error(self.address, self.host, rid, e) from None
            raise

    def verified(self, ctx: Context) -> str | None:
        return f"{self.address}: attached to {self.host}"


class PruneAttachmentsTask(Task):
    """With --prune: our identities on hosts the config no longer lists are detached."""

    kind = "identity attachment"
    stage = 1
    address = "home.attachments[prune]"

    def __init__(self) -> None:
        self.found: dict[str, HostIdentity] = {}

    async def observe(self, ctx: Context) -> None:
        self.found = {}
        if ctx.prune:
            self.found = await list_hosts(ctx.clients, ctx.cfg.home.subscription_id)

    def changes(self, ctx: Context) -> list[Change]:
        if not ctx.prune:
            return []
        sub = ctx.cfg.home.subscription_id
        ours = {identity_id(sub, i).lower(): i for i in ctx.cfg.home.identities}
        out: list[Change] = []
        for host_id, cur in self.found.items():
            declared = {
                i.name
                for i in ctx.cfg.home.identities
                if any(str(h).lower() == host_id.lower() for h in i.attach_ids)
            }
            stale = {
                u for u in cur.users if u.lower() in ours and ours[u.lower()].name not in declared
            }
            if not stale:
                continue
            host = armid.parse(host_id)
            body = merged_identity(cur, set(), stale, both=host_kind(host).both)
            names = sorted(_short(u) for u in stale)
            out.append(
                Change(
                    f"home.attachments[{host_label(host)}]",
                    self.kind,
                    Action.DELETE,
                    [FieldChange("identity.userAssignedIdentities", names, None)],
                    note="; ".join(
                        n
                        for n in (
                            f"detach {', '.join(names)}: no longer in attach_to (--prune)",
                            host_note(host, cur),
                        )
                        if n
                    ),
                    apply=partial(self._detach, ctx, host_id, body),
                )
            )
        return out

    async def _detach(self, ctx: Context, host_id: str, body: dict) -> None:
        block = await write_host(ctx, armid.parse(host_id), body)
        if block is not None:
            self.found[host_id] = block
