"""What one run has observed so far, by object: later stages read earlier stages' results
here (the FICs need the identities' principal ids, the grants our service principal's id),
and the run ends with a frozen ``HomeState`` / ``CustomerState`` of it.

Each task reads its own objects and records them here; a task that needs another task's
object reads it through ``once`` when it has not been recorded yet, so that concurrent
tasks needing the same object share one read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from .customer import AppRoleGrant, CustomerState, GraphResource, RoleAssignmentState
from .home import AppState, Fic, HomeState, IdentityState, ServicePrincipalState
from .hosts import HostIdentity

T = TypeVar("T")


class Observed:
    def __init__(self, tenant: str = "") -> None:
        self.tenant = tenant
        # home
        self.identities: dict[str, IdentityState] = {}  # by config name
        self.apps: dict[str, AppState] = {}  # by app key
        self.fics: dict[str, tuple[Fic, ...]] = {}  # by app key
        self.hosts: dict[str, HostIdentity] = {}  # by host id, lower case
        self.home_sps: dict[str, ServicePrincipalState] = {}  # by app key
        self.absent: set[str] = set()  # addresses read and found missing
        # a customer tenant
        self.principal: ServicePrincipalState | None = None
        self.principal_known = False
        self.graph: GraphResource | None = None
        self.grants: tuple[AppRoleGrant, ...] = ()
        self.assignments: dict[str, RoleAssignmentState] = {}  # by assignment id, lower
        self._inflight: dict[str, asyncio.Future[Any]] = {}

    async def once(self, key: str, read: Callable[[], Awaitable[T]]) -> T:
        """``read()``'s result, read once however many tasks ask at the same time."""
        fut = self._inflight.get(key)
        if fut is None:
            fut = asyncio.ensure_future(read())
            self._inflight[key] = fut
        try:
            return await asyncio.shield(fut)
        except BaseException:
            if self._inflight.get(key) is fut:  # a failed read is not remembered
                del self._inflight[key]
            raise

    def record(self, table: dict[str, Any], key: str, address: str, value: Any) -> None:
        """``value`` read for ``key`` of ``table`` (``None``: read, and not there)."""
        if value is None:
            table.pop(key, None)
            self.absent.add(address)
        else:
            table[key] = value
            self.absent.discard(address)

    def record_principal(self, sp: ServicePrincipalState | None) -> None:
        self.principal, self.principal_known = sp, True

    def home(self) -> HomeState:
        return HomeState(
            identities=dict(self.identities),
            apps=dict(self.apps),
            fics=dict(self.fics),
            hosts=dict(self.hosts),
            service_principals=dict(self.home_sps),
            absent=frozenset(self.absent),
        )

    def customer(self) -> CustomerState:
        return CustomerState(
            tenant=self.tenant,
            principal=self.principal,
            graph=self.graph,
            app_role_grants=self.grants,
            role_assignments=tuple(self.assignments.values()),
        )
