"""Federated identity credentials: one per trusted identity, on the app.

Each says "tokens issued by the home tenant (``iss``) to this identity's *principal*
(``sub`` = object id, never the client id) for the exchange audience (``aud``) may act as
this app". Names are deterministic (``mi-<identity>``), so a create whose response was
lost is found by name on the next look, not created twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from provisioning.core.engine import UNKNOWN, Context, Task
from provisioning.core.errors import TaskError, status_of
from provisioning.core.graph import every_page, graph_permission_hint
from provisioning.core.plan import Action, Change, FieldChange

from ..config import App

MAX_FICS = 20  # Entra's limit per application
PREFIX = "mi-"


def fic_name(identity: str) -> str:
    return f"{PREFIX}{identity}"[:120]


@dataclass(frozen=True)
class Fic:
    name: str
    issuer: str
    subject: str
    audiences: tuple[str, ...]
    id: str | None = None

    def fields(self) -> dict[str, Any]:
        return {"issuer": self.issuer, "subject": self.subject, "audiences": list(self.audiences)}


def desired_fics(ctx: Context, app: App) -> list[Fic]:
    issuer = ctx.cloud.fic_issuer(ctx.cfg.home.tenant_id)
    out = []
    for name in app.trusts:
        principal = ctx.facts.identities.get(name, {}).get("principal_id") or UNKNOWN
        out.append(Fic(fic_name(name), issuer, principal, (ctx.cloud.exchange_audience,)))
    return out


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
        app = ctx.facts.apps.get(self.app.key)
        if not app:
            return  # the app does not exist yet: every credential is to be created
        try:
            page = await ctx.clients.graph.applications.by_application_id(
                app["object_id"]
            ).federated_identity_credentials.get()
            items = await every_page(ctx.clients.graph, page)
        except Exception as e:
            if status_of(e) == 403:
                raise TaskError(
                    self.address,
                    "cannot read federated credentials: "
                    + graph_permission_hint(ctx.cfg.home.tenant_id),
                ) from None
            raise
        self.observed = [
            Fic(f.name or "", f.issuer or "", f.subject or "", tuple(f.audiences or []), f.id)
            for f in items
        ]

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
            ctx.facts.apps[self.app.key]["object_id"]
        ).federated_identity_credentials

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
        try:
            await self._fics(ctx).post(body)
        except Exception as e:
            if status_of(e) == 409:
                return  # a previous attempt committed; the next observation sees it
            self._denied(ctx, e)
            raise

    async def _update(self, ctx: Context, cur: Fic, w: Fic) -> None:
        from msgraph.generated.models.federated_identity_credential import (
            FederatedIdentityCredential,
        )

        body = FederatedIdentityCredential(
            issuer=w.issuer, subject=w.subject, audiences=list(w.audiences)
        )
        try:
            await self._fics(ctx).by_federated_identity_credential_id(cur.id).patch(body)
        except Exception as e:
            self._denied(ctx, e)
            raise

    async def _delete(self, ctx: Context, f: Fic) -> None:
        try:
            await self._fics(ctx).by_federated_identity_credential_id(f.id).delete()
        except Exception as e:
            if status_of(e) == 404:
                return
            self._denied(ctx, e)
            raise

    def _denied(self, ctx: Context, e: Exception) -> None:
        if status_of(e) == 403:
            raise TaskError(
                self.address,
                "cannot change federated credentials: "
                + graph_permission_hint(ctx.cfg.home.tenant_id),
            ) from None

    def verified(self, ctx: Context) -> str | None:
        names = ", ".join(f.name for f in desired_fics(ctx, self.app))
        return f"{self.address}: {names} match issuer/subject/audience"
