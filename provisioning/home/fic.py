"""Federated identity credentials: one per trusted identity, on the app.

Each says "tokens issued by the home tenant (``iss``) to this identity's *principal*
(``sub`` = object id, never the client id) for the exchange audience (``aud``) may act as
this app". Names are deterministic (``mi-<identity>``), so a create whose response was
lost is found by name on the next look, not created twice.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from provisioning.core.engine import UNKNOWN, Context, Task
from provisioning.core.errors import TaskError, denied
from provisioning.core.graph import graph_permission_hint, send_json
from provisioning.core.plan import Action, Change, FieldChange
from provisioning.state.home import Fic, read_fics

from ..config import App

__all__ = ["MAX_FICS", "PREFIX", "Fic", "FicsTask", "desired_fics", "fic_name"]

MAX_FICS = 20  # Entra's limit per application
PREFIX = "mi-"


def fic_name(identity: str) -> str:
    return f"{PREFIX}{identity}"[:120]


def desired_fics(ctx: Context, app: App) -> list[Fic]:
    issuer = ctx.cloud.fic_issuer(ctx.cfg.home.tenant_id)
    out = []
    for name in app.trusts:
        ident = ctx.seen.identities.get(name)
        principal = (ident.principal_id if ident else None) or UNKNOWN
        out.append(Fic(fic_name(name), issuer, principal, (ctx.cloud.exchange_audience,)))
    return out


def subject_note(ctx: Context, identity: str, cur: Fic, want: Fic) -> str | None:
    """Why a credential's subject changes: its identity has another principal id now."""
    if cur.subject == want.subject:
        return None
    ident = next(
        (i for i in ctx.cfg.home.identities if i.name.casefold() == identity.casefold()), None
    )
    if ident is not None and ident.system_assigned_of is not None:
        host = ident.system_assigned_of.rsplit("/", 1)[-1]
        why = (
            f"the system-assigned identity of {host} has another principal id: the host was "
            "re-created, or its system-assigned identity turned off and on again"
            if want.subject != UNKNOWN
            else f"the system-assigned identity of {host} is off: enabling it makes a new "
            "principal id"
        )
    else:
        why = f"identity {identity} has another principal id: it was deleted and created again"
    return f"{why}; the credential follows it (was {cur.subject})"


class FicsTask(Task):
    kind = "federated credential"
    stage = 1

    def __init__(self, app: App) -> None:
        self.app = app
        self.address = f"home.app[{app.key}].fics"
        self.observed: list[Fic] | None = None

    def _addr(self, name: str) -> str:
        return f"home.app[{self.app.key}].fic[{name}]"

    async def observe(self, ctx: Context) -> None:
        self.observed = None
        app = ctx.seen.apps.get(self.app.key)
        if app is None:
            return  # the app does not exist yet: every credential is to be created
        self._record(ctx, list(await read_fics(ctx.clients, self.app, app, ctx.cfg.home.tenant_id)))

    def _record(self, ctx: Context, fics: list[Fic]) -> None:
        self.observed = fics
        ctx.seen.fics[self.app.key] = tuple(fics)

    def _settled(self, ctx: Context, gone: Fic | None = None, made: Fic | None = None) -> None:
        """What a write's response says: the credential made, or gone."""
        kept = [f for f in self.observed or [] if f.name not in {x.name for x in (gone, made) if x}]
        self._record(ctx, kept + ([made] if made else []))

    def changes(self, ctx: Context) -> list[Change]:
        want = desired_fics(ctx, self.app)
        have = {f.name: f for f in self.observed or []}
        wanted_names = {f.name for f in want}
        out: list[Change] = []
        stray = [f for f in have.values() if f.name not in wanted_names]
        for f in stray:
            clash = any((f.issuer, f.subject) == (w.issuer, w.subject) for w in want)
            if ctx.prune:
                out.append(
                    Change(
                        self._addr(f.name),
                        self.kind,
                        Action.DELETE,
                        [FieldChange(k, v, None) for k, v in f.fields().items()],
                        note="not declared (--prune)",
                        apply=partial(self._delete, ctx, f),
                    )
                )
            elif clash:
                raise TaskError(
                    self._addr(f.name),
                    (
                        f"this unmanaged credential already trusts {f.subject} from {f.issuer}; Entra "
                        f"allows one credential per issuer+subject on an app. Delete it, or run with "
                        f"--prune to let xtenant replace it with {fic_name('<identity>')}"
                    ),
                )
        for w in want:
            cur = have.get(w.name)
            if cur is None:
                out.append(
                    Change(
                        self._addr(w.name),
                        self.kind,
                        Action.CREATE,
                        [FieldChange(k, None, v) for k, v in w.fields().items()],
                        note="Entra may take a few minutes to honour a new credential",
                        apply=partial(self._create, ctx, w),
                    )
                )
                continue
            diffs = [
                FieldChange(k, cur.fields()[k], v)
                for k, v in w.fields().items()
                if cur.fields()[k] != v
            ]
            if diffs:
                out.append(
                    Change(
                        self._addr(w.name),
                        self.kind,
                        Action.UPDATE,
                        diffs,
                        note=subject_note(ctx, w.name[len(PREFIX) :], cur, w),
                        apply=partial(self._update, ctx, cur, w),
                    )
                )
            else:
                out.append(Change(self._addr(w.name), self.kind, Action.NOOP))
        kept = len(have) - sum(1 for c in out if c.action is Action.DELETE)
        total = kept + sum(1 for c in out if c.action is Action.CREATE)
        if total > MAX_FICS:
            raise TaskError(
                self.address,
                (
                    f"would hold {total} federated credentials; Entra allows {MAX_FICS} per app "
                    f"({len(stray)} are not managed by xtenant: remove them or use --prune)"
                ),
            )
        if not stray:
            return out
        if not ctx.prune:
            names = ", ".join(sorted(f.name for f in stray))
            out.append(
                Change(
                    self.address,
                    self.kind,
                    Action.NOOP,
                    note=f"not managed by xtenant (kept; --prune deletes them): {names}",
                )
            )
        return out

    def _fics(self, ctx: Context) -> Any:
        return ctx.clients.graph.applications.by_application_id(
            ctx.seen.apps[self.app.key].object_id
        ).federated_identity_credentials

    def _hint(self, ctx: Context) -> str:
        return "cannot change federated credentials: " + graph_permission_hint(
            ctx.cfg.home.tenant_id
        )

    async def _create(self, ctx: Context, w: Fic) -> None:
        from msgraph.generated.models.federated_identity_credential import (
            FederatedIdentityCredential,
        )

        if w.subject == UNKNOWN:
            raise TaskError(self._addr(w.name), "the identity's principal id is not known yet")
        body = FederatedIdentityCredential(
            name=w.name,
            issuer=w.issuer,
            subject=w.subject,
            audiences=list(w.audiences),
            description=f"xtenant: trusts managed identity {w.name[len(PREFIX) :]}",
        )
        made = None  # 409: a previous attempt committed; the next observation sees it
        with denied(self.address, self._hint(ctx), ok={409}):
            made = await send_json(
                ctx.clients.graph, self._fics(ctx).to_post_request_information(body)
            )
        if made:
            self._settled(ctx, made=Fic.from_graph(made))

    async def _update(self, ctx: Context, cur: Fic, w: Fic) -> None:
        from msgraph.generated.models.federated_identity_credential import (
            FederatedIdentityCredential,
        )

        if w.subject == UNKNOWN:
            raise TaskError(self._addr(w.name), "the identity's principal id is not known yet")
        body = FederatedIdentityCredential(
            issuer=w.issuer, subject=w.subject, audiences=list(w.audiences)
        )
        with denied(self.address, self._hint(ctx)):  # 204, no body: the next look reads it
            await self._fics(ctx).by_federated_identity_credential_id(cur.id).patch(body)

    async def _delete(self, ctx: Context, f: Fic) -> None:
        with denied(self.address, self._hint(ctx), ok={404}):
            await self._fics(ctx).by_federated_identity_credential_id(f.id).delete()
        self._settled(ctx, gone=f)

    def verified(self, ctx: Context) -> str | None:
        names = ", ".join(f.name for f in desired_fics(ctx, self.app))
        return f"{self.address}: {names} match issuer/subject/audience"
