"""Azure Resource Manager's state and rules, one module per resource provider.

``Arm`` (``world.arm``) is the union of the providers' models:

* ``resources.py``     Microsoft.Resources: subscriptions, resource groups, resources of any type
* ``msi.py``           Microsoft.ManagedIdentity: user-assigned identities, ``identity`` blocks,
                       system-assigned identities, what each host's identity endpoint serves
* ``compute.py``       Microsoft.Compute: virtual machines' and scale sets' own properties
* ``web.py``           Microsoft.Web: App Service / Functions apps and their slots
* ``containerapps.py`` Microsoft.App: Container Apps
* ``hybridcompute.py`` Microsoft.HybridCompute: Arc-enabled servers (system-assigned only)
* ``insights.py``      Microsoft.Insights: data collection rules and endpoints
* ``authorization.py`` Microsoft.Authorization: role assignments, role definitions, RBAC checks
* ``operations.py``    long-running operations

The HTTP layer (``responses/``) authenticates, authorizes and parses; these modules keep the
documents (Microsoft's wire shapes, internal fields prefixed ``_``) and apply the providers'
rules. Other services use the methods listed in ``sandbox/README.md`` (``Arm`` section).
"""

from __future__ import annotations

from ..ids import ASYNC_TYPES, IDENTITY_TYPES, UAMI, Doc, Rid, canonical_type, parse_rid, strip
from .authorization import Authorization
from .base import OPS, RAS, RES, RGS, SUBS
from .compute import Compute
from .containerapps import ContainerApps
from .hybridcompute import HybridCompute
from .insights import Insights
from .msi import ManagedIdentities
from .operations import Operations
from .resources import Resources
from .web import Web

__all__ = [
    "ASYNC_TYPES",
    "IDENTITY_TYPES",
    "OPS",
    "RAS",
    "RES",
    "RGS",
    "SUBS",
    "UAMI",
    "Arm",
    "Doc",
    "Rid",
    "canonical_type",
    "parse_rid",
    "strip",
]


class Arm(
    Resources,
    ManagedIdentities,
    Compute,
    Web,
    ContainerApps,
    HybridCompute,
    Insights,
    Authorization,
    Operations,
):
    """``world.arm``: every resource provider's model over one store."""
