"""A kit is applied only in the tenant it names: established before anything is read.

The signed-in tenant is the token's ``tid``. A kit naming its tenant by GUID must match it;
a kit naming a verified domain must find that domain among the signed-in tenant's verified
domains (Graph ``GET /organization``), since a domain is not an id. A run whose credential
was pinned to the kit's tenant (a pipeline managing the customer) asked Entra for a token
in exactly that tenant, so the ``tid`` check alone holds.
"""

from __future__ import annotations

from typing import Any

from provisioning.core import armid
from provisioning.core.clouds import Cloud
from provisioning.core.errors import status_of
from provisioning.core.graph import every_page
from provisioning.core.signin import SignedIn, WrongTenantError, check_tenant, how_to_sign_in
from provisioning.kit.model import Kit


async def establish(
    graph: Any, kit: Kit, who: SignedIn, cloud: Cloud, *, pinned: bool = False
) -> str:
    """The signed-in tenant's id, once it is known to be the kit's; ``WrongTenantError``
    (nothing read, nothing written) otherwise."""
    tenant = kit.customer.tenant
    what = f"this kit ({kit.customer.name})"
    if armid.GUID_RE.match(tenant):
        check_tenant(who, tenant, cloud, what=what)
        return who.tenant_id
    if pinned and who.tenant_id:
        return who.tenant_id
    domains = await _verified_domains(graph, who, cloud, tenant)
    if tenant.lower() not in domains:
        shown = ", ".join(sorted(domains)[:5]) or "none"
        raise WrongTenantError(
            f"{what} is for tenant {tenant}, but the tenant you are signed in to "
            f"({who.tenant_id}) does not have that verified domain (its domains: {shown}): "
            f"{how_to_sign_in(cloud, tenant)}. Nothing was changed.",
            address="sign-in",
        )
    return who.tenant_id


async def _verified_domains(graph: Any, who: SignedIn, cloud: Cloud, tenant: str) -> set[str]:
    try:
        orgs = await every_page(graph, await graph.organization.get())
    except Exception as e:
        if status_of(e) == 403:
            raise WrongTenantError(
                f"cannot confirm that you are signed in to {tenant}: reading the tenant's "
                "verified domains (Graph GET /organization) was denied; sign in as a user of "
                f"that tenant, or give the kit's tenant as its GUID. Nothing was changed.",
                address="sign-in",
            ) from None
        raise
    out: set[str] = set()
    for org in orgs:
        if str(org.id or "").lower() != who.tenant_id:
            continue
        out.update((d.name or "").lower() for d in org.verified_domains or [])
    return out
