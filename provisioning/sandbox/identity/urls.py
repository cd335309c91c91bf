"""The managed-identity endpoints' routing table: one path prefix per simulated host."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..http import Router
from .responses import IdentityResponses

if TYPE_CHECKING:
    from ..world import World


def routes(world: World) -> Router:
    i = IdentityResponses(world)
    r = Router(case_insensitive=True)
    # IMDS (VMs, scale sets) and Arc's HIMDS share the path; the host's kind decides
    r.add("GET", "/hosts/{host}/metadata/identity/oauth2/token", i.metadata_token)
    # App Service, Functions, slots, Container Apps, Automation
    r.add("GET", "/hosts/{host}/msi/token", i.appservice_token)
    return r
