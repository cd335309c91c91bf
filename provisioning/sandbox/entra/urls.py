"""Entra's routing table (paths match case-insensitively; ``{tenant}`` is a tenant id, one of its
domains, or ``common`` / ``organizations`` / ``consumers``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..http import Router
from .responses import EntraResponses

if TYPE_CHECKING:
    from ..world import World


def routes(world: World) -> Router:
    e = EntraResponses(world)
    r = Router(case_insensitive=True)
    # fmt: off
    for methods, path, handler in (
        # token endpoints (v2 and v1); a GET is refused with AADSTS900561
        ("POST", "/{tenant}/oauth2/v2.0/token",                       e.token_v2),
        ("GET",  "/{tenant}/oauth2/v2.0/token",                       e.token_get),
        ("POST", "/{tenant}/oauth2/token",                            e.token_v1),
        ("GET",  "/{tenant}/oauth2/token",                            e.token_get),
        # discovery
        ("GET",  "/{tenant}/v2.0/.well-known/openid-configuration",   e.openid_configuration_v2),
        ("GET",  "/{tenant}/.well-known/openid-configuration",        e.openid_configuration_v1),
        ("GET",  "/{tenant}/discovery/instance",                      e.instance_discovery),
        ("GET",  "/{tenant}/discovery/v2.0/keys",                     e.keys),
        ("GET",  "/{tenant}/discovery/keys",                          e.keys),
        # admin consent: the page, and the administrator's decision
        ("GET",  "/{tenant}/v2.0/adminconsent",                       e.consent_page_v2),
        ("POST", "/{tenant}/v2.0/adminconsent",                       e.consent_decision_v2),
        ("GET",  "/{tenant}/adminconsent",                            e.consent_page_v1),
        ("POST", "/{tenant}/adminconsent",                            e.consent_decision_v1),
    ):
        r.add(methods, path, handler)
    # fmt: on
    return r
