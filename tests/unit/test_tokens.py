"""``SharedTokens``: one token per (tenant, scopes, CAE) however many callers ask at once."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from azure.core.credentials import AccessToken, AccessTokenInfo

from provisioning.core.tokens import SharedTokens

GRAPH = "https://graph.microsoft.com/.default"
ARM = "https://management.azure.com/.default"


class Entra:
    """An async credential that counts its token requests (and takes a moment for each)."""

    def __init__(self, lifetime: int = 3600) -> None:
        self.asked: list[tuple[tuple[str, ...], dict[str, Any]]] = []
        self.lifetime = lifetime

    async def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        self.asked.append((scopes, dict(options or {})))
        await asyncio.sleep(0.01)
        return AccessTokenInfo(f"t{len(self.asked)}", int(time.time()) + self.lifetime)

    async def close(self) -> None:
        pass


def _run(entra: Entra, *calls: Any) -> list[Any]:
    async def go() -> list[Any]:
        shared = SharedTokens(entra)
        return list(await asyncio.gather(*(c(shared) for c in calls)))

    return asyncio.run(go())


def test_two_racing_callers_share_one_request() -> None:
    entra = Entra()
    got = _run(
        entra,
        lambda s: s.get_token(GRAPH, enable_cae=True),
        lambda s: s.get_token_info(GRAPH, options={"enable_cae": True}),
    )
    assert len(entra.asked) == 1
    assert got[0].token == got[1].token
    assert isinstance(got[0], AccessToken) and isinstance(got[1], AccessTokenInfo)


def test_tenant_scope_and_cae_are_each_their_own_token() -> None:
    entra = Entra()
    _run(
        entra,
        lambda s: s.get_token(ARM),
        lambda s: s.get_token(ARM, tenant_id="t1"),
        lambda s: s.get_token(ARM, tenant_id="t2"),
        lambda s: s.get_token(GRAPH),
        lambda s: s.get_token(GRAPH, enable_cae=True),
        lambda s: s.get_token(ARM, tenant_id="t1"),
    )
    assert len(entra.asked) == 5
    assert ((ARM,), {"tenant_id": "t1"}) in entra.asked
    assert ((GRAPH,), {"enable_cae": True}) in entra.asked


def test_a_claims_challenge_always_asks_again() -> None:
    entra = Entra()
    _run(entra, lambda s: s.get_token(GRAPH))
    assert len(entra.asked) == 1

    async def twice(s: SharedTokens) -> None:
        await s.get_token(GRAPH)
        await s.get_token(GRAPH, claims='{"access_token":{}}')

    _run(entra, twice)
    assert entra.asked[-1][1] == {"claims": '{"access_token":{}}'}


def test_a_token_due_for_refresh_is_asked_for_again() -> None:
    entra = Entra(lifetime=200)  # within azure-core's five-minute refresh margin

    async def twice(s: SharedTokens) -> None:
        await s.get_token(ARM)
        await s.get_token(ARM)

    _run(entra, twice)
    assert len(entra.asked) == 2


def test_a_sync_credential_works_too() -> None:
    class Sync:
        def __init__(self) -> None:
            self.n = 0

        def get_token(self, *scopes: str, **kw: Any) -> AccessToken:
            self.n += 1
            return AccessToken("sync", int(time.time()) + 3600)

    sync = Sync()

    async def go() -> str:
        shared = SharedTokens(sync)
        await shared.get_token(ARM)
        return str((await shared.get_token(ARM)).token)

    assert asyncio.run(go()) == "sync" and sync.n == 1
