"""The emergency stop: delete every federated credential of an app, so that no workload
can mint a token for it in any customer tenant any more. Customers' grants are untouched
(the next `apply` restores the credentials unless the config stops trusting the identities)."""

from __future__ import annotations

from functools import partial

from provisioning.core.engine import Context, Task
from provisioning.core.plan import Action, Change, FieldChange

from ..config import App
from .fic import Fic, FicsTask


class RevokeTask(Task):
    kind = "federated credential"
    stage = 1

    def __init__(self, app: App) -> None:
        self.app = app
        self.address = f"home.app[{app.key}].fics"
        self._fics = FicsTask(app)  # same observation: the app's credential list

    async def observe(self, ctx: Context) -> None:
        await self._fics.observe(ctx)

    def changes(self, ctx: Context) -> list[Change]:
        found = self._fics.observed or []
        if not found:
            return [
                Change(
                    self.address,
                    self.kind,
                    Action.NOOP,
                    note="no federated credentials: nothing can exchange",
                )
            ]
        return [
            Change(
                f"home.app[{self.app.key}].fic[{f.name}]",
                self.kind,
                Action.DELETE,
                [FieldChange(k, v, None) for k, v in f.fields().items()],
                note="revoked: workloads trusting this credential stop getting customer tokens",
                apply=partial(self._delete, ctx, f),
            )
            for f in found
        ]

    async def _delete(self, ctx: Context, f: Fic) -> None:
        await self._fics._delete(ctx, f)


def revoke_tasks(app: App) -> list[Task]:
    from .app import AppTask

    return [AppTask(app), RevokeTask(app)]
