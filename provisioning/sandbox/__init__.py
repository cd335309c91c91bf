"""A local, multi-tenant imitation of the parts of Azure the cross-tenant chain touches.

It is held to Microsoft's documented behaviour (``../shared/reference``) and imports
nothing from the rest of ``provisioning``: the product sees it as just another cloud.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .handle import Sandbox

__all__ = ["Sandbox"]


def __getattr__(name: str) -> Any:
    if name == "Sandbox":  # lazy: `xtenant sandbox env` should not pay for the server stack
        from .handle import Sandbox

        return Sandbox
    raise AttributeError(name)
