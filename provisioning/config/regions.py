"""Azure region names, for "did you mean" (an unknown region is only a warning)."""

from __future__ import annotations

AZURE_REGIONS: frozenset[str] = frozenset(
    """
    eastus eastus2 southcentralus westus westus2 westus3 centralus northcentralus westcentralus
    canadacentral canadaeast brazilsouth brazilsoutheast mexicocentral chilecentral
    northeurope westeurope uksouth ukwest francecentral francesouth germanywestcentral
    germanynorth switzerlandnorth switzerlandwest norwayeast norwaywest swedencentral
    swedensouth polandcentral italynorth spaincentral austriaeast belgiumcentral denmarkeast
    australiaeast australiasoutheast australiacentral australiacentral2 newzealandnorth
    southeastasia eastasia japaneast japanwest koreacentral koreasouth centralindia southindia
    westindia jioindiawest jioindiacentral indonesiacentral malaysiawest
    uaenorth uaecentral qatarcentral israelcentral southafricanorth southafricawest
    eastus2euap centraluseuap
    usgovvirginia usgovtexas usgovarizona usgoviowa usdodeast usdodcentral
    chinaeast chinaeast2 chinaeast3 chinanorth chinanorth2 chinanorth3
    """.split()
)
