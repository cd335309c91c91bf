"""One token per tenant and resource for a whole run.

Two SDK clients that start at once (two Graph reads of one stage) each ask the credential
for a token before either has landed in azure-identity's cache, and both go to Entra.
``SharedTokens`` sits in front of the run's credential and lets exactly one request per
(tenant, scopes, continuous-access-evaluation) through; the others wait for it and take the
same token, until it is due for a refresh (``refresh_on``, else five minutes before expiry:
azure-core's own rule). A request carrying ``claims`` (a CAE challenge) always goes to the
credential: it asks for a new token on purpose.

The key keeps CAE apart on purpose, as azure-identity does: msgraph's authentication
provider asks with ``enable_cae=True`` and so do xtenant's Graph reads, while ARM clients and
the sign-in check ask without it; all of one kind share one token.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from typing import Any

_REFRESH_MARGIN_S = 300  # azure-core refreshes a token this long before it expires

Key = tuple[str | None, tuple[str, ...], bool]


def _info(token: Any) -> Any:
    """An ``AccessTokenInfo`` for either kind of token the credential returns."""
    from azure.core.credentials import AccessTokenInfo

    if isinstance(token, AccessTokenInfo):
        return token
    return AccessTokenInfo(token.token, int(token.expires_on))


def _due(info: Any) -> float:
    refresh = getattr(info, "refresh_on", None)
    return float(refresh) if refresh else float(info.expires_on) - _REFRESH_MARGIN_S


class SharedTokens:
    """An async azure-core credential that asks ``inner`` once per key (single flight)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self._tokens: dict[Key, Any] = {}  # key -> AccessTokenInfo
        self._locks: dict[Key, asyncio.Lock] = {}
        self.requests = 0  # how many times ``inner`` was asked (for tests and benchmarks)

    async def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> Any:
        from azure.core.credentials import AccessToken

        info = await self._get(scopes, claims, tenant_id, enable_cae)
        return AccessToken(info.token, info.expires_on)

    async def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        opts = dict(options or {})
        return await self._get(
            scopes, opts.get("claims"), opts.get("tenant_id"), bool(opts.get("enable_cae"))
        )

    async def _get(
        self, scopes: tuple[str, ...], claims: str | None, tenant_id: str | None, cae: bool
    ) -> Any:
        key: Key = (tenant_id or None, tuple(scopes), cae)
        if claims:
            return await self._ask(key, claims)
        fresh = self._fresh(key)
        if fresh is not None:
            return fresh
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:  # the first caller asks; the others find its token here
            return self._fresh(key) or await self._ask(key, None)

    def _fresh(self, key: Key) -> Any:
        info = self._tokens.get(key)
        return info if info is not None and time.time() < _due(info) else None

    async def _ask(self, key: Key, claims: str | None) -> Any:
        tenant_id, scopes, cae = key
        self.requests += 1
        if hasattr(self.inner, "get_token_info"):
            options: dict[str, Any] = {}
            if claims:
                options["claims"] = claims
            if tenant_id:
                options["tenant_id"] = tenant_id
            if cae:
                options["enable_cae"] = True
            got = await _maybe_await(self.inner.get_token_info(*scopes, options=options))
        else:
            kw: dict[str, Any] = {"claims": claims, "tenant_id": tenant_id}
            if cae:
                kw["enable_cae"] = True
            got = await _maybe_await(self.inner.get_token(*scopes, **kw))
        info = _info(got)
        self._tokens[key] = info
        return info

    async def close(self) -> None:
        closer = getattr(self.inner, "close", None)
        if closer is not None:
            await _maybe_await(closer())

    async def __aenter__(self) -> SharedTokens:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def _maybe_await(value: Any) -> Any:
    """A sync credential (a caller's) answers directly; an async one with an awaitable."""
    return await value if inspect.isawaitable(value) else value
