"""The Logs Ingestion API's routing table: through a data collection endpoint (``{dce}``, its
``logsIngestion.endpoint``) or the monitor root."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from ..http import Router
from .responses import upload

if TYPE_CHECKING:
    from ..world import World


def routes(world: World) -> Router:
    r = Router(case_insensitive=True)
    r.add("POST", "/dataCollectionRules/{dcr}/streams/{stream}", partial(upload, world))
    r.add("POST", "/{dce}/dataCollectionRules/{dcr}/streams/{stream}", partial(upload, world))
    return r
