"""What the home admin can tell (optional): app ids, FICs, identities, attachments.

Read once per run with the home credential through the same typed readers the tasks use
(``state.read_home``); what cannot be read becomes a note, never an error.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Mapping
from typing import Any

from provisioning.config import App, Config, Identity
from provisioning.core.clouds import Cloud
from provisioning.state import HomeState

from .report import first_line

NO_CREDENTIAL_NOTE = (
    "no home credential: FICs and identity ids not read; the "
    "assertion is checked against the config only"
)


def read_home_state(
    config: Config,
    cloud: Cloud,
    credential: Any,
    apps: list[App],
    identities: list[Identity],
    app_ids: Mapping[str, str],
) -> tuple[HomeState, list[str]]:
    """What ``credential`` (a home admin's, sync or async; ``None``: nobody's) can read of
    ``apps`` (with their FICs) and ``identities`` (with the hosts they are attached to),
    and the notes on what it could not."""
    if credential is None:
        return HomeState(), [NO_CREDENTIAL_NOTE]
    from provisioning.core.clients import Clients
    from provisioning.core.tokens import SharedTokens
    from provisioning.state import read_home

    async def read() -> tuple[HomeState, list[str]]:
        tokens = SharedTokens(credential)  # the caller's credential, sync or async
        clients = Clients(cloud, tokens)
        try:
            try:  # the two tokens the reads use (Graph's with CAE, as its reads ask)
                await tokens.get_token(cloud.arm_scope)
                await tokens.get_token(cloud.graph_scope, enable_cae=True)
            except Exception as e:
                return HomeState(), [f"the home credential got no token: {first_line(e)}"]
            state = await read_home(
                clients,
                config,
                apps=apps,
                identities=identities,
                app_ids={k: v for k, v in app_ids.items() if v},
                fics=True,
                hosts=True,
            )
        finally:
            # an async credential's transport belongs to this event loop, which ends here;
            # a sync one stays the caller's
            await clients.close(close_credential=inspect.iscoroutinefunction(credential.get_token))
        absent = [_absent(a, app_ids) for a in apps if f"home.app[{a.key}]" in state.absent]
        return state, absent + list(state.problems)

    return asyncio.run(read())


def _absent(app: App, app_ids: Mapping[str, str]) -> str:
    given = app_ids.get(app.key) or app.adopt_app_id
    if given:
        return f"app {app.key}: appId {given} is not registered in the home tenant"
    return (
        f"app {app.key}: no app with uniqueName {app.unique_name} in the home tenant "
        "(run xtenant apply)"
    )
