"""``xtenant verify``: prove the chain end to end from the host that carries the identity.

For each customer, step by step, timed:

1. ``mi_token`` — the managed identity's token for the cloud's exchange audience, from
   whichever endpoint azure-identity finds in the environment (IMDS, App Service /
   Automation, Arc, workload identity). Its claims are decoded (signature dropped) and
   ``iss`` / ``sub`` / ``aud`` are checked against what the app's federated credential must
   contain: the home tenant's v2.0 issuer, the identity's principal id, the exchange
   audience — and, when the home app's FICs can be read, against each of them.
2. ``home_exchange`` — the app credential in its home tenant. AADSTS7000229 (no service
   principal there) is expected unless the config declares one: ok, with a note.
3. ``exchange:arm`` / ``exchange:monitor`` / ``exchange:graph`` — a token in the customer
   tenant for each resource the customer's grants need, through ``CrossTenantCredential``
   (one shared ``ManagedIdentityAssertion`` per identity).
4. with ``probe=True``: ``probe:arm`` (an ARM read of each role's scope when the role can
   read it), ``probe:logs`` (one marked record through the Logs Ingestion API) and
   ``probe:graph`` (a read matching the granted Graph permission).

Every failure carries a ``Diagnosis`` (``chain/diagnose``). No token is ever kept in the
report: claims are decoded without the signature and every string is scrubbed of
anything shaped like a JWT before it is stored.

Modules: ``run`` (``verify()``, the walk of one customer), ``steps`` (1-3), ``probes`` (4),
``report`` (Row, VerifyReport, the JSON shape and the table), ``session`` (what a run
shares: its ``VerifyOptions``, the MI tokens taken, the diagnosis context), ``home`` (what
a home admin's credential can read), ``endpoint`` (which MI endpoint), ``apis``.
"""

from __future__ import annotations

from .endpoint import endpoint_info
from .home import read_home_state
from .probes import GRAPH_PROBES, graph_probe_path
from .report import STEPS, Row, VerifyReport, render_table, scrub
from .run import verify
from .session import VerifyOptions
from .steps import needed_resources

__all__ = [
    "GRAPH_PROBES",
    "STEPS",
    "Row",
    "VerifyOptions",
    "VerifyReport",
    "endpoint_info",
    "graph_probe_path",
    "needed_resources",
    "read_home_state",
    "render_table",
    "scrub",
    "verify",
]
