"""ARM's wire format: routing (case-insensitive), api-version, authentication (ARM's 401s with
``WWW-Authenticate``), RBAC on every call (403 ``AuthorizationFailed`` /
``LinkedAuthorizationFailed``), and the resource providers' status codes and LRO headers.

One catch-all route parses the path the way ARM does (scope, provider namespace, resource
types and names), so ``/subscriptions/x/resourceGroups/y/providers/...`` matches in any casing.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import TYPE_CHECKING, Any

import jwt
from starlette.responses import Response

from ..auth import ARM_AUDIENCES, AuthError, bearer_claims
from ..http import HttpError, Req, Router, arm_error, empty, is_bad_json, json_response
from ..tokens import unverified_claims
from . import models as m
from .models import Rid, parse_rid, strip

if TYPE_CHECKING:
    from ..world import World

API_VERSION_RX = re.compile(
    r"^\d{4}-\d{2}-\d{2}(-(preview|alpha|beta|rc|privatepreview))?$", re.IGNORECASE
)
AUTHZ_RX = re.compile(
    r"^(?P<scope>.*)/providers/Microsoft\.Authorization/(?P<coll>roleAssignments|roleDefinitions)"
    r"(?:/(?P<name>[^/]+))?/?$",
    re.IGNORECASE,
)
OP_STATUS_RX = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/providers/(?P<ns>[^/]+)/locations/(?P<loc>[^/]+)/"
    r"(?:operations|operationStatuses|operationResults)/(?P<op>[^/]+)/?$",
    re.IGNORECASE,
)
SYSTEM_IDENTITY_RX = re.compile(
    r"^(?P<scope>/subscriptions/.+?)/providers/Microsoft\.ManagedIdentity/identities/"
    r"default/?$",
    re.IGNORECASE,
)
RG_OP_RX = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/operationresults/(?P<op>[^/]+)/?$", re.IGNORECASE
)

ARM_AUDIENCE_LIST = (
    "https://management.core.windows.net/",
    "https://management.core.windows.net",
    "https://management.azure.com/",
    "https://management.azure.com",
)

# the resource types each provider answers for in ``/providers`` (with the api-versions the
# installed SDKs send among them)
PROVIDERS: dict[str, dict[str, list[str]]] = {
    "Microsoft.ManagedIdentity": {
        "userAssignedIdentities": [
            "2024-11-30",
            "2023-01-31",
            "2022-01-31-preview",
            "2021-09-30-preview",
            "2018-11-30",
        ],
        "userAssignedIdentities/federatedIdentityCredentials": ["2024-11-30", "2023-01-31"],
        "operations": ["2024-11-30", "2023-01-31"],
    },
    "Microsoft.Compute": {
        "virtualMachines": [
            "2026-04-01",
            "2025-04-01",
            "2024-11-01",
            "2024-07-01",
            "2024-03-01",
            "2023-09-01",
            "2023-03-01",
        ],
        "locations/operations": ["2026-04-01", "2024-03-01"],
    },
    "Microsoft.Authorization": {
        "roleAssignments": ["2022-04-01", "2020-10-01-preview", "2015-07-01"],
        "roleDefinitions": ["2022-04-01", "2018-01-01-preview", "2015-07-01"],
    },
    "Microsoft.Insights": {
        "dataCollectionRules": ["2023-03-11", "2022-06-01", "2021-09-01-preview"],
        "dataCollectionEndpoints": ["2023-03-11", "2022-06-01", "2021-09-01-preview"],
    },
    "Microsoft.Automation": {"automationAccounts": ["2023-11-01", "2022-08-08", "2021-06-22"]},
    "Microsoft.Web": {"sites": ["2023-12-01", "2022-09-01"]},
    "Microsoft.HybridCompute": {"machines": ["2024-07-10", "2022-12-27"]},
    "Microsoft.Resources": {
        "subscriptions": ["2022-12-01", "2021-01-01"],
        "resourceGroups": ["2024-03-01", "2022-09-01", "2021-04-01"],
        "tenants": ["2022-12-01", "2021-01-01"],
    },
}
LOCATIONS = [
    "eastus",
    "eastus2",
    "westus",
    "westus2",
    "westus3",
    "centralus",
    "northeurope",
    "westeurope",
    "uksouth",
    "swedencentral",
    "australiaeast",
    "japaneast",
]


def routes(world: World) -> Router:
    api = ArmApi(world)
    r = Router(case_insensitive=True)
    r.add("GET|PUT|PATCH|DELETE|POST", "/{path:path}", api.dispatch)
    r.add("GET", "/", api.dispatch)
    return r


class Ctx:
    """The authenticated caller of one request."""

    def __init__(self, claims: dict[str, Any]) -> None:
        self.claims = claims
        self.tid: str = claims.get("tid", "")
        self.oid: str = claims.get("oid", "")
        self.client: str = claims.get("appid") or claims.get("azp") or self.oid


class ArmApi:
    def __init__(self, world: World) -> None:
        self.world = world
        self.arm: m.Arm = world.arm

    # ---- entry ----------------------------------------------------------------------------------
    def dispatch(self, req: Req) -> Response:
        try:
            resp = self._dispatch(req)
        except HttpError as e:
            resp = e.response
        return self._decorate(req, resp)

    def _decorate(self, req: Req, resp: Response) -> Response:
        rid = str(uuid.uuid4())
        resp.headers.setdefault("x-ms-request-id", rid)
        resp.headers.setdefault(
            "x-ms-correlation-request-id", req.header("x-ms-correlation-request-id") or rid
        )
        resp.headers.setdefault(
            "x-ms-routing-request-id", f"SANDBOX:{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}:{rid}"
        )
        resp.headers.setdefault("Cache-Control", "no-cache")
        resp.headers.setdefault("Pragma", "no-cache")
        resp.headers.setdefault("Expires", "-1")
        resp.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        if (req.header("x-ms-return-client-request-id") or "").lower() == "true" and req.header(
            "x-ms-client-request-id"
        ):
            resp.headers.setdefault(
                "x-ms-client-request-id", req.header("x-ms-client-request-id") or ""
            )
        if req.path.lower().startswith("/subscriptions/"):
            kind = {"GET": "reads", "HEAD": "reads", "DELETE": "deletes"}.get(req.method, "writes")
            resp.headers.setdefault(f"x-ms-ratelimit-remaining-subscription-{kind}", "11999")
        if req.method == "HEAD":
            return Response(
                b"",
                status_code=resp.status_code,
                headers={
                    k: v
                    for k, v in resp.headers.items()
                    if k.lower() not in ("content-length", "content-type")
                },
            )
        return resp

    @staticmethod
    def _path(req: Req) -> str:
        return "/" + re.sub(r"/{2,}", "/", req.path).strip("/")

    def _dispatch(self, req: Req) -> Response:
        path = self._path(req)
        low = path.lower()
        if low == "/metadata/endpoints":
            self._api_version(req)
            return self.metadata(req)
        api_version = self._api_version(req)
        ctx = self._authenticate(req, path)
        req.extra["api_version"] = api_version

        mo = OP_STATUS_RX.match(path)
        if mo:
            return self.operation_status(req, ctx, mo.group("sub"), mo.group("op"))
        mo = RG_OP_RX.match(path)
        if mo:
            return self.operation_status(req, ctx, mo.group("sub"), mo.group("op"))
        mo = SYSTEM_IDENTITY_RX.match(path)
        if mo:
            return self.system_identity(req, ctx, mo.group("scope"))
        mo = AUTHZ_RX.match(path)
        if mo:
            scope = mo.group("scope") or "/"
            if mo.group("coll").lower() == "roleassignments":
                return self.role_assignments(req, ctx, scope, mo.group("name"))
            return self.role_definitions(req, ctx, scope, mo.group("name"))
        if low in ("/", ""):
            raise arm_error(404, "NotFound", "The requested resource does not exist.")
        if low == "/subscriptions":
            self._only(req, "GET")
            return self.list_subscriptions(req, ctx)
        if low == "/tenants":
            self._only(req, "GET")
            return self.list_tenants(req, ctx)
        if low == "/providers" or (low.startswith("/providers/") and low.count("/") == 2):
            self._only(req, "GET")
            return self.providers(req, None, path.split("/")[2] if low.count("/") == 2 else None)
        segs = path.strip("/").split("/")
        if segs[0].lower() == "subscriptions" and len(segs) >= 2:
            sub = self._subscription(req, ctx, segs[1])
            s2 = segs[2].lower() if len(segs) > 2 else ""
            if len(segs) == 2:
                self._only(req, "GET")
                return self.get_subscription(req, ctx, sub)
            if len(segs) == 3 and s2 in ("resourcegroups", "resources", "providers", "locations"):
                self._only(req, "GET")
                if s2 == "resourcegroups":
                    return self.list_resource_groups(req, ctx, segs[1])
                if s2 == "resources":
                    return self.list_resources(req, ctx, Rid(segs[1]), None)
                if s2 == "providers":
                    return self.providers(req, segs[1], None)
                return self.locations(req, segs[1])
            if s2 == "resourcegroups" and len(segs) == 4:
                return self.resource_group(req, ctx, Rid(segs[1], segs[3]))
            if s2 == "resourcegroups" and len(segs) == 5 and segs[4].lower() == "resources":
                self._only(req, "GET")
                return self.list_resources(req, ctx, Rid(segs[1], segs[3]), segs[3])
        rid = parse_rid(path)
        if rid is None or rid.ns is None:
            raise arm_error(
                404,
                "InvalidResourceType" if "/providers/" in low else "NotFound",
                f"The resource path '{path}' is not supported.",
            )
        if rid.rg is None and not rid.types:
            self._only(req, "GET")
            return self.providers(req, rid.sub, rid.ns)
        if rid.is_collection:
            self._only(req, "GET")
            return self.list_typed(req, ctx, rid, path)
        return self.resource(req, ctx, rid, path, api_version)

    # ---- common checks -------------------------------------------------------------------------
    @staticmethod
    def _only(req: Req, *methods: str) -> None:
        if req.method not in methods and not (req.method == "HEAD" and "GET" in methods):
            raise arm_error(
                405,
                "MethodNotAllowed",
                f"The requested resource does not support http method '{req.method}'.",
            )

    @staticmethod
    def _api_version(req: Req) -> str:
        v = req.q("api-version")
        if v is None or v == "":
            raise arm_error(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        if not API_VERSION_RX.match(v):
            raise arm_error(
                400,
                "InvalidApiVersionParameter",
                f"The api-version '{v}' is invalid. The supported versions are '"
                + ",".join(
                    sorted(
                        {x for p in PROVIDERS.values() for vs in p.values() for x in vs},
                        reverse=True,
                    )
                )
                + "'.",
            )
        return v

    def _challenge(self, tid: str | None, description: str) -> dict[str, str]:
        base = self.world.urls.authority.rstrip("/")
        uri = f"{base}/{tid}" if tid else f"{base}/"
        return {
            "WWW-Authenticate": f'Bearer authorization_uri="{uri}", error="invalid_token", '
            f'error_description="{description}"'
        }

    def _authenticate(self, req: Req, path: str) -> Ctx:
        sub_tid = None
        segs = path.strip("/").split("/")
        if len(segs) >= 2 and segs[0].lower() == "subscriptions":
            sub_tid = self.arm.tenant_of_subscription(segs[1])
        header = req.header("authorization")
        try:
            claims = bearer_claims(req, ARM_AUDIENCES)
        except AuthError as e:
            if e.code == "AuthenticationFailed":
                if header:
                    raise arm_error(
                        401,
                        "AuthenticationFailed",
                        "Authentication failed. The 'Authorization' header is provided in an invalid "
                        "format.",
                        self._challenge(
                            sub_tid,
                            "The authentication failed because of "
                            "invalid 'Authorization' header format.",
                        ),
                    ) from None
                raise arm_error(
                    401,
                    "AuthenticationFailed",
                    "Authentication failed. The 'Authorization' header is missing.",
                    self._challenge(
                        sub_tid,
                        "The authentication failed because of missing 'Authorization' header.",
                    ),
                ) from None
            if e.code == "ExpiredAuthenticationToken":
                exp = _claim(header, "exp")
                msg = (
                    f"The access token expiry UTC time '{_net_time(exp)}' is earlier than current UTC time "
                    f"'{_net_time(self.world.now())}'."
                )
                raise arm_error(
                    401, "ExpiredAuthenticationToken", msg, self._challenge(sub_tid, msg)
                ) from None
            if e.code == "InvalidAuthenticationTokenAudience":
                aud = _claim(header, "aud")
                msg = (
                    f"The access token has been obtained for wrong audience or resource '{aud}'. It should "
                    "exactly match with one of the allowed audiences "
                    + ",".join(f"'{a}'" for a in ARM_AUDIENCE_LIST)
                    + "."
                )
                raise arm_error(
                    401, "InvalidAuthenticationTokenAudience", msg, self._challenge(sub_tid, msg)
                ) from None
            raise arm_error(
                401,
                "InvalidAuthenticationToken",
                "The access token is invalid.",
                self._challenge(sub_tid, "The access token is invalid."),
            ) from None
        if not claims.get("tid") or not claims.get("oid"):
            raise arm_error(
                401,
                "InvalidAuthenticationToken",
                "The access token is invalid.",
                self._challenge(sub_tid, "The access token is invalid."),
            )
        if self.world.tenants.get(claims["tid"]) is None:
            raise arm_error(
                401,
                "InvalidAuthenticationTokenTenant",
                f"The access token is from the wrong issuer '{claims.get('iss')}'. It must match the "
                "tenant associated with this subscription.",
                self._challenge(sub_tid, "The access token is from the wrong issuer."),
            )
        return Ctx(claims)

    def _subscription(self, req: Req, ctx: Ctx, sub_id: str) -> m.Doc:
        sub = self.arm.require_subscription(sub_id)
        if sub["tenantId"] != ctx.tid:
            iss = str(ctx.claims.get("iss", ""))
            want = (
                iss.replace(ctx.tid, sub["tenantId"])
                if ctx.tid and ctx.tid in iss
                else sub["tenantId"]
            )
            authority = f"{self.world.urls.authority.rstrip('/')}/{sub['tenantId']}"
            raise arm_error(
                401,
                "InvalidAuthenticationTokenTenant",
                f"The access token is from the wrong issuer '{iss}'. It must match the tenant '{want}' "
                f"associated with this subscription. Please use the authority (URL) '{authority}' to "
                "get the token. Note, if the subscription is transferred to another tenant there is no "
                "impact to the services, but information about new tenant could take time to "
                "propagate (up to an hour). If you just transferred your subscription and see this "
                "error message, please try back later.",
                self._challenge(
                    sub["tenantId"],
                    "The access token is from the wrong issuer. It must "
                    "match the tenant associated with this subscription. Please use correct "
                    "authority to get the token.",
                ),
            )
        return sub

    def _authorize(self, ctx: Ctx, scope: str, action: str, *, data: bool = False) -> None:
        if not self.arm.has_permission(ctx.tid, ctx.oid, scope, action, data=data):
            raise arm_error(
                403,
                "AuthorizationFailed",
                f"The client '{ctx.client}' with object id '{ctx.oid}' does not have authorization to "
                f"perform action '{action}' over scope '{scope}' or the scope is invalid. If access was "
                "recently granted, please refresh your credentials.",
            )

    @staticmethod
    def _body(req: Req) -> Any:
        body = req.json()
        if is_bad_json(body):
            raise arm_error(
                400,
                "InvalidRequestContent",
                "The request content was invalid and could not be deserialized: 'Unexpected character "
                "encountered while parsing value.'.",
            )
        if body is None:
            raise arm_error(
                400,
                "InvalidRequestContent",
                "The request content was invalid and could not be "
                "deserialized: 'The request content is missing.'.",
            )
        return body

    # ---- tenant level ---------------------------------------------------------------------------
    def metadata(self, req: Req) -> Response:
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

    def list_subscriptions(self, req: Req, ctx: Ctx) -> Response:
        subs = [
            strip(s)
            for s in self.arm.subscriptions(ctx.tid)
            if self.arm.has_any_assignment(ctx.tid, ctx.oid, s["id"])
        ]
        return json_response({"value": subs, "count": {"type": "Total", "value": len(subs)}})

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
        return json_response({"value": value, "count": {"type": "Total", "value": len(value)}})

    def providers(self, req: Req, sub: str | None, namespace: str | None) -> Response:
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
        raise arm_error(
            404, "InvalidResourceNamespace", f"The resource namespace '{namespace}' is invalid."
        )

    def locations(self, req: Req, sub: str) -> Response:
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

    # ---- subscriptions and resource groups -------------------------------------------------------------
    def get_subscription(self, req: Req, ctx: Ctx, sub: m.Doc) -> Response:
        if not self.arm.has_any_assignment(ctx.tid, ctx.oid, sub["id"]):
            self._authorize(ctx, sub["id"], "Microsoft.Resources/subscriptions/read")
        return json_response(strip(sub))

    def list_resource_groups(self, req: Req, ctx: Ctx, sub_id: str) -> Response:
        action = "Microsoft.Resources/subscriptions/resourceGroups/read"
        value = [
            strip(rg)
            for rg in self.arm.resource_groups(sub_id)
            if self.arm.has_permission(ctx.tid, ctx.oid, rg["id"], action)
        ]
        return json_response({"value": value})

    def resource_group(self, req: Req, ctx: Ctx, rid: Rid) -> Response:
        scope = rid.rg_id
        verb = {
            "GET": "read",
            "HEAD": "read",
            "PUT": "write",
            "PATCH": "write",
            "DELETE": "delete",
        }.get(req.method)
        if verb is None:
            self._only(req, "GET", "PUT", "PATCH", "DELETE")
        assert rid.rg is not None
        self._authorize(ctx, scope, f"Microsoft.Resources/subscriptions/resourceGroups/{verb}")
        if req.method in ("GET", "HEAD"):
            doc = self.arm.resource_group(rid.sub, rid.rg)
            if doc is None:
                if req.method == "HEAD":
                    return empty(404)
                raise arm_error(
                    404, "ResourceGroupNotFound", f"Resource group '{rid.rg}' could not be found."
                )
            return empty(204) if req.method == "HEAD" else json_response(strip(doc))
        if req.method == "PUT":
            body = self._body(req)
            if not isinstance(body, dict):
                raise arm_error(
                    400,
                    "InvalidRequestContent",
                    "The request content was invalid and could not be deserialized.",
                )
            doc = self.arm.put_resource_group(
                rid.sub,
                rid.rg,
                body.get("location") or "",
                tags=body.get("tags"),
                managed_by=body.get("managedBy"),
            )
            created = doc.pop("_created_now")
            return json_response(strip(doc), 201 if created else 200)
        if req.method == "PATCH":
            body = self._body(req)
            doc = self.arm.require_resource_group(rid.sub, rid.rg)
            tags = body.get("tags", doc.get("tags")) if isinstance(body, dict) else doc.get("tags")
            doc = self.arm.put_resource_group(rid.sub, rid.rg, doc["location"], tags=tags)
            doc.pop("_created_now")
            return json_response(strip(doc))
        # DELETE: asynchronous (202 + Location), as ResourceGroups_Delete is
        if self.arm.resource_group(rid.sub, rid.rg) is None:
            raise arm_error(
                404, "ResourceGroupNotFound", f"Resource group '{rid.rg}' could not be found."
            )
        self.arm.delete_resource_group(rid.sub, rid.rg)
        op = self.arm.start_operation(rid, "delete", "")
        token = op["name"]
        headers = {
            "Location": f"{req.base_url()}/subscriptions/{rid.sub}/operationresults/{token}"
            f"?api-version={req.q('api-version')}"
        }
        headers.update(self._retry_after())
        return empty(202, headers)

    def list_resources(self, req: Req, ctx: Ctx, rid: Rid, rg: str | None) -> Response:
        if rg is not None:
            self._authorize(
                ctx, rid.rg_id, "Microsoft.Resources/subscriptions/resourceGroups/resources/read"
            )
            self.arm.require_resource_group(rid.sub, rg)
        value = []
        for doc in self.arm.resources(rid.sub, rg):
            if doc["_type"].count("/") > 1:
                continue  # child resources are not listed
            if not self.arm.has_permission(ctx.tid, ctx.oid, doc["id"], f"{doc['type']}/read"):
                continue
            out = {
                k: v
                for k, v in self.arm.render(doc).items()
                if k
                in (
                    "id",
                    "name",
                    "type",
                    "location",
                    "tags",
                    "kind",
                    "sku",
                    "identity",
                    "managedBy",
                )
            }
            value.append(out)
        return json_response({"value": value})

    # ---- resources ---------------------------------------------------------------------------------
    def list_typed(self, req: Req, ctx: Ctx, rid: Rid, path: str) -> Response:
        type_ = m.canonical_type(rid.type)
        action = f"{type_}/read"
        # ARM filters a collection to what the caller may read when it has no access to the whole
        # collection, and refuses only a caller with no role anywhere in the subscription
        whole = self.arm.has_permission(ctx.tid, ctx.oid, path, action)
        if not whole and not self.arm.has_any_assignment(ctx.tid, ctx.oid, rid.sub_id):
            self._authorize(ctx, path, action)
        if rid.rg is not None:
            self.arm.require_resource_group(rid.sub, rid.rg)
        parent = None
        if (
            len(rid.names) >= 1
        ):  # a child collection, e.g. .../userAssignedIdentities/x/federatedIdentityCredentials
            parent = Rid(rid.sub, rid.rg, rid.ns, rid.types[:-1], rid.names)
            self.arm.require_resource(parent)
        docs = self.arm.resources(rid.sub, rid.rg, type_)
        if parent is not None:
            prefix = parent.key() + "/"
            docs = [d for d in docs if d["id"].lower().startswith(prefix)]
        if not whole:
            docs = [d for d in docs if self.arm.has_permission(ctx.tid, ctx.oid, d["id"], action)]
        return json_response({"value": [self.arm.render(d) for d in docs]})

    def resource(self, req: Req, ctx: Ctx, rid: Rid, path: str, api_version: str) -> Response:
        type_ = m.canonical_type(rid.type)
        verb = {
            "GET": "read",
            "HEAD": "read",
            "PUT": "write",
            "PATCH": "write",
            "DELETE": "delete",
        }.get(req.method)
        if verb is None:
            raise arm_error(
                404,
                "InvalidResourceType" if req.method == "POST" else "MethodNotAllowed",
                f"The resource type '{type_}' does not support the requested operation in this "
                "sandbox.",
            )
        action = f"{type_}/{verb}"
        self._authorize(ctx, path, action)
        if rid.rg is not None:
            self.arm.require_resource_group(rid.sub, rid.rg)
        tlow = type_.lower()
        if req.method in ("GET", "HEAD"):
            doc = self.arm.resource(rid)
            if doc is None:
                raise self.arm.not_found(rid)
            if tlow in m.ASYNC_TYPES:
                self.arm.complete_operations(rid, older_than=60)  # a client that never polls
                doc = self.arm.resource(rid) or doc
            return json_response(self.arm.render(doc))
        if req.method == "DELETE":
            existed = self.arm.resource(rid)
            if existed is None:
                return empty(204)
            if tlow in m.ASYNC_TYPES:
                location = existed.get("location", "westus2")
                self.arm.delete_resource(rid)
                op = self.arm.start_operation(rid, "delete", location)
                return empty(202, self._lro_headers(req, rid, op))
            self.arm.delete_resource(rid)
            return empty(200)
        # PUT / PATCH
        body = self._body(req)
        if not isinstance(body, dict):
            raise arm_error(
                400,
                "InvalidRequestContent",
                "The request content was invalid and could not be deserialized.",
            )
        patch = req.method == "PATCH"
        if "identity" in body and tlow in m.IDENTITY_TYPES | {m.UAMI.lower()}:
            added = self.arm.identities_added(rid, body.get("identity"), patch=patch)
            denied = [
                i
                for i in added
                if not self.arm.has_permission(
                    ctx.tid,
                    ctx.oid,
                    i,
                    "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action",
                )
            ]
            if denied:
                raise arm_error(
                    403,
                    "LinkedAuthorizationFailed",
                    f"The client '{ctx.client}' with object id '{ctx.oid}' has permission to perform "
                    f"action '{action}' on scope '{path}'; however, it does not have permission to "
                    "perform action 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action' on "
                    f"the linked scope(s) '{','.join(denied)}' or the linked scope(s) are invalid.",
                )
        doc, created = self.arm.put_resource(
            rid, body, caller=ctx.oid, api_version=api_version, patch=patch
        )
        out = self.arm.render(doc)
        if tlow in m.ASYNC_TYPES:
            op = self.arm.start_operation(
                rid, "patch" if patch else "put", doc.get("location", "westus2")
            )
            return json_response(out, 201 if created else 200, self._lro_headers(req, rid, op))
        return json_response(out, 201 if created else 200)

    def system_identity(self, req: Req, ctx: Ctx, scope: str) -> Response:
        self._only(req, "GET")
        rid = parse_rid(scope)
        if rid is None or not rid.names:
            raise arm_error(400, "InvalidScope", f"The scope '{scope}' is not valid.")
        self._subscription(req, ctx, rid.sub)
        self._authorize(ctx, self._path(req), "Microsoft.ManagedIdentity/identities/read")
        if rid.rg is not None:
            self.arm.require_resource_group(rid.sub, rid.rg)
        self.arm.require_resource(rid)
        doc = self.arm.system_identity_resource(scope)
        if doc is None:
            raise arm_error(
                404, "ResourceNotFound", f"The system assigned identity of '{scope}' was not found."
            )
        return json_response(doc)

    # ---- long-running operations -------------------------------------------------------------
    def _retry_after(self) -> dict[str, str]:
        n = int(self.world.settings.extra.get("lro_retry_after", 1))
        return {"Retry-After": str(n)} if n > 0 else {}

    def _lro_headers(self, req: Req, rid: Rid, op: m.Doc) -> dict[str, str]:
        v = req.q("api-version")
        ns = m.canonical_type(rid.type).split("/")[0]
        base = (
            f"{req.base_url()}/subscriptions/{rid.sub}/providers/{ns}/locations/"
            f"{op['_location'] or 'westus2'}/operations/{op['name']}"
        )
        headers = {
            "Azure-AsyncOperation": f"{base}?p={uuid.uuid4()}&api-version={v}",
            "Location": f"{base}?p={uuid.uuid4()}&monitor=true&api-version={v}",
            "Azure-AsyncNotification": "Enabled",
        }
        headers.update(self._retry_after())
        return headers

    def operation_status(self, req: Req, ctx: Ctx, sub_id: str, op_id: str) -> Response:
        self._only(req, "GET")
        self._subscription(req, ctx, sub_id)
        op = self.arm.operation(op_id)
        if op is None or op["_sub"].lower() != sub_id.lower():
            raise arm_error(404, "NotFound", f"The operation '{op_id}' could not be found.")
        op = self.arm.poll_operation(op_id) or op
        monitor = (
            req.q("monitor") or ""
        ).lower() == "true" or "/operationresults/" in req.path.lower()
        if monitor:
            # the Location protocol: 202 while running, then what the operation would have returned
            if op["status"] == "InProgress":
                headers = {"Location": str(req.request.url)}
                headers.update(self._retry_after())
                return empty(202, headers)
            if op["_kind"] == "delete":
                return empty(200)
            doc = self.arm.store.get(m.RES, op["_resource"])
            return json_response(self.arm.render(doc)) if doc else empty(204)
        body = {"startTime": op["startTime"], "status": op["status"], "name": op["name"]}
        if op["status"] != "InProgress":
            body["endTime"] = op.get("endTime")
        headers = self._retry_after() if op["status"] == "InProgress" else {}
        return json_response(body, 200, headers)

    # ---- RBAC: role definitions and assignments ------------------------------------------------
    def _scope(self, req: Req, ctx: Ctx, scope: str) -> str:
        """Validate an RBAC scope; return its tenant."""
        if scope in ("", "/"):
            return ctx.tid
        rid = parse_rid(scope)
        if rid is None:
            raise arm_error(
                400,
                "InvalidScope"
                if not scope.lower().startswith("/providers/")
                else "UnsupportedScope",
                f"The scope '{scope}' is not valid.",
            )
        sub = self._subscription(req, ctx, rid.sub)
        return sub["tenantId"]

    def _scope_exists(self, scope: str) -> None:
        rid = parse_rid(scope)
        if rid is None:
            return
        if rid.rg is not None:
            self.arm.require_resource_group(rid.sub, rid.rg)
        if rid.names:
            self.arm.require_resource(rid)

    def role_definitions(self, req: Req, ctx: Ctx, scope: str, name: str | None) -> Response:
        self._only(req, "GET")
        self._scope(req, ctx, scope)
        if scope not in ("", "/"):
            self._authorize(ctx, self._path(req), "Microsoft.Authorization/roleDefinitions/read")
        if name is None:
            return json_response({"value": self.arm.list_role_definitions(scope, req.q("$filter"))})
        role = self.arm.role_definition(name)
        if role is None:
            raise arm_error(
                404,
                "RoleDefinitionDoesNotExist",
                f"The specified role definition with ID '{name}' does not exist.",
            )
        return json_response(self.arm.render_role_definition(role, scope))

    def role_assignments(self, req: Req, ctx: Ctx, scope: str, name: str | None) -> Response:
        tid = self._scope(req, ctx, scope)
        path = self._path(req)
        if name is None:
            self._only(req, "GET")
            self._authorize(ctx, path, "Microsoft.Authorization/roleAssignments/read")
            self._scope_exists(scope)
            docs = self.arm.list_role_assignments(scope, tid, req.q("$filter"))
            return json_response({"value": [strip(d) for d in docs]})
        verb = {"GET": "read", "PUT": "write", "DELETE": "delete"}.get(req.method)
        if verb is None:
            self._only(req, "GET", "PUT", "DELETE")
        self._authorize(ctx, path, f"Microsoft.Authorization/roleAssignments/{verb}")
        self._scope_exists(scope)
        if req.method == "GET":
            doc = self.arm.role_assignment(scope, name)
            if doc is None:
                raise arm_error(
                    404, "RoleAssignmentNotFound", f"The role assignment '{name}' is not found."
                )
            return json_response(strip(doc))
        if req.method == "DELETE":
            doc = self.arm.delete_role_assignment(scope, name)
            return json_response(strip(doc)) if doc else empty(204)
        body = self._body(req)
        props = body.get("properties") if isinstance(body, dict) else None
        doc, created = self.arm.put_role_assignment(scope, name, props, caller=ctx.oid)
        return json_response(strip(doc), 201 if created else 200)


def _claim(header: str | None, name: str) -> Any:
    try:
        return unverified_claims((header or "")[7:].strip()).get(name)
    except jwt.PyJWTError:
        return None


def _net_time(ts: Any) -> str:
    """.NET's general date format, as ARM prints token times ('3/7/2019 2:28:03 AM')."""
    try:
        t = dt.datetime.fromtimestamp(float(ts), dt.UTC)
    except (TypeError, ValueError):
        return str(ts)
    hour = t.hour % 12 or 12
    return f"{t.month}/{t.day}/{t.year} {hour}:{t.minute:02d}:{t.second:02d} {'AM' if t.hour < 12 else 'PM'}"
