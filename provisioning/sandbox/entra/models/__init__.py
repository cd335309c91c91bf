"""Entra: token issuance and the rules of the client-credentials / federated-credential flow.

Everything here is about *deciding*: which tenant, which app, whether its credential holds,
which resource, which claims. ``responses.py`` only parses requests and renders answers.
``Entra`` (``world.entra``) is the union of:

* ``discovery.py``   OpenID configuration, instance discovery, signing keys
* ``tokens.py``      the client-credentials grant, access tokens, managed identities' tokens
* ``credentials.py`` client authentication: secrets and federated assertions
* ``consent.py``     admin consent requests

Error wording follows Entra's token endpoint (``AADSTSnnnn: ...``); where Microsoft's
reference list (``reference-error-codes.md``) is silent, the text is the one Entra is
publicly seen to send (quoted in Microsoft's GitHub issues).
"""

from __future__ import annotations

from ..exceptions import EntraError
from .base import MULTI_TENANT_AUDIENCES, PSEUDO_TENANTS
from .consent import Consent
from .credentials import ClientAuthentication
from .discovery import Discovery
from .tokens import Tokens

__all__ = ["MULTI_TENANT_AUDIENCES", "PSEUDO_TENANTS", "Entra", "EntraError"]


class Entra(Discovery, Tokens, ClientAuthentication, Consent):
    """``world.entra``."""
