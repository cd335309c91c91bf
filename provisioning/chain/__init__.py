"""The token chain at run time: acquire the MI token, exchange it, verify, diagnose.

Workloads import ``CrossTenantCredential`` (or its async twin) from here.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AsyncCrossTenantCredential",
    "AsyncManagedIdentityAssertion",
    "CrossTenantCredential",
    "ManagedIdentityAssertion",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import credential

        return getattr(credential, name)
    raise AttributeError(name)
