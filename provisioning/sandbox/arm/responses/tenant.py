"""Microsoft.Resources above the resource groups: the cloud's metadata (no token needed: ``az
cloud register`` reads it), the caller's tenants and subscriptions, the resource providers and
the locations."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ...http import Req, json_response
from ..catalog import LOCATIONS, PROVIDERS
from ..exceptions import ArmError
from ..ids import strip
from .base import ArmResponses, Ctx


class TenantResponses(ArmResponses):
    def metadata(self, req: Req, ctx: Ctx) -> Response:
        u = self.world.urls
        v = req.q("api-version") or ""
        audiences = ["https://management.core.windows.net/", "https://management.azure.com/"]
        if v < "2019-05-01":
            return json_response(
                {
                    "galleryEndpoint": "https://gallery.azure.com/",
                    "graphEndpoint": f"{u.graph}/",
                    "graphAudience": "https://graph.windows.net/",
                    "portalEndpoint": "https://portal.azure.com/",
                    "authentication": {"loginEndpoint": f"{u.authority}/", "audiences": audiences},
                }
            )
        cloud = {
            "portal": "https://portal.azure.com",
            "authentication": {
                "loginEndpoint": u.authority,
                "audiences": audiences,
                "tenant": "common",
                "identityProvider": "AAD",
            },
            "media": "https://rest.media.azure.net",
            "graphAudience": "https://graph.windows.net/",
            "graph": f"{u.graph}/",
            "name": "AzureSandbox",
            "suffixes": {
                "azureDataLakeStoreFileSystem": "azuredatalakestore.net",
                "acrLoginServer": "azurecr.io",
                "sqlServerHostname": "database.windows.net",
                "azureDataLakeAnalyticsCatalogAndJob": "azuredatalakeanalytics.net",
                "keyVaultDns": "vault.azure.net",
                "storage": "core.windows.net",
                "azureFrontDoorEndpointSuffix": "azurefd.net",
                "storageSyncEndpointSuffix": "afs.azure.net",
                "mhsmDns": "managedhsm.azure.net",
                "mysqlServerEndpoint": "mysql.database.azure.com",
                "postgresqlServerEndpoint": "postgres.database.azure.com",
                "mariadbServerEndpoint": "mariadb.database.azure.com",
                "synapseAnalytics": "dev.azuresynapse.net",
                "attestationEndpoint": "attest.azure.net",
            },
            "batch": "https://batch.core.windows.net/",
            "resourceManager": f"{u.arm}/",
            "vmImageAliasDoc": "https://raw.githubusercontent.com/Azure/azure-rest-api-specs/main/arm-compute/"
            "quickstart-templates/aliases.json",
            "activeDirectoryDataLake": "https://datalake.azure.net/",
            "sqlManagement": "https://management.core.windows.net:8443/",
            "gallery": "https://gallery.azure.com/",
            # each cloud names its own Graph service root here (az's built-in clouds: graph.microsoft.us
            # for AzureUSGovernment, microsoftgraph.chinacloudapi.cn for AzureChinaCloud); az and Az
            # PowerShell send their Graph calls, and take Graph's token scope, from this value
            "microsoftGraphResourceId": f"{u.graph}/",
            "appInsightsResourceId": "https://api.applicationinsights.io",
            "appInsightsTelemetryChannelResourceId": "https://dc.applicationinsights.azure.com/v2/track",
            "attestationResourceId": "https://attest.azure.net",
            "synapseAnalyticsResourceId": "https://dev.azuresynapse.net",
            "logAnalyticsResourceId": "https://api.loganalytics.io",
            "ossrDbmsResourceId": "https://ossrdbms-aad.database.windows.net",
        }
        # 2019-05-01 .. 2020-06-01 list the clouds; from 2022-09-01 ARM answers with the one cloud
        # it belongs to, as an object (the shape `az cloud register --endpoint-resource-manager`
        # reads: azure-cli 2.91 asks for 2022-09-01; Azure/azure-powershell-common#374, "ArmMetadata
        # with API version 2022-09-01 has changed the response format from array to single
        # object"; the public-cloud response is quoted in Azure/azure-cli#29283).
        return json_response(cloud if v >= "2022-09-01" else [cloud])

    def root(self, req: Req, ctx: Ctx) -> Response:
        raise ArmError(404, "NotFound", "The requested resource does not exist.")

    def list_subscriptions(self, req: Req, ctx: Ctx) -> Response:
        subs = [
            strip(s)
            for s in self.arm.subscriptions(ctx.tid)
            if self.arm.has_any_assignment(ctx.tid, ctx.oid, s["id"])
        ]
        return self._list(req, subs, count={"type": "Total", "value": len(subs)})

    def list_tenants(self, req: Req, ctx: Ctx) -> Response:
        t = self.world.tenants.get(ctx.tid)
        value = []
        if t:
            value.append(
                {
                    "id": f"/tenants/{t['id']}",
                    "tenantId": t["id"],
                    "countryCode": "US",
                    "displayName": t["displayName"],
                    "domains": list(t["verifiedDomains"]),
                    "tenantCategory": "Home",
                    "defaultDomain": t["domain"],
                    "tenantType": "AAD",
                }
            )
        return self._list(req, value, count={"type": "Total", "value": len(value)})

    def providers(self, req: Req, ctx: Ctx) -> Response:
        """``/providers[/{ns}]`` and ``/subscriptions/{sub}/providers[/{ns}]``."""
        sub, namespace = req.params.get("sub"), req.params.get("ns")

        def one(ns: str, types: dict[str, list[str]]) -> dict[str, Any]:
            doc: dict[str, Any] = {
                "namespace": ns,
                "resourceTypes": [
                    {
                        "resourceType": t,
                        "locations": []
                        if "/" in t or t in ("operations",)
                        else [loc for loc in LOCATIONS],
                        "apiVersions": vs,
                        "capabilities": "None",
                    }
                    for t, vs in types.items()
                ],
            }
            if sub:
                doc = {
                    "id": f"/subscriptions/{sub}/providers/{ns}",
                    **doc,
                    "registrationState": "Registered",
                    "registrationPolicy": "RegistrationRequired",
                }
            else:
                doc = {"id": f"/providers/{ns}", **doc}
            return doc

        if namespace is None:
            return json_response({"value": [one(ns, t) for ns, t in PROVIDERS.items()]})
        for ns, types in PROVIDERS.items():
            if ns.lower() == namespace.lower():
                return json_response(one(ns, types))
        raise ArmError(
            404, "InvalidResourceNamespace", f"The resource namespace '{namespace}' is invalid."
        )

    def locations(self, req: Req, ctx: Ctx) -> Response:
        sub = req.params["sub"]
        return json_response(
            {
                "value": [
                    {
                        "id": f"/subscriptions/{sub}/locations/{loc}",
                        "name": loc,
                        "displayName": loc,
                        "regionalDisplayName": loc,
                        "metadata": {"regionType": "Physical"},
                    }
                    for loc in LOCATIONS
                ]
            }
        )
