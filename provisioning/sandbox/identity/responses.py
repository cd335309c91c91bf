"""Managed-identity endpoints, one path prefix per simulated host (plain http, as on Azure;
``urls.py`` maps paths to them). Their errors are the endpoints' own shapes (``HttpError``), and
an Entra refusal is relayed the way each endpoint relays it.

* IMDS (VMs): ``GET /hosts/{host}/metadata/identity/oauth2/token?api-version=2018-02-01
  &resource=...[&client_id|object_id|msi_res_id]`` with ``Metadata: true``. azure-identity
  / MSAL reach it through ``AZURE_POD_IDENTITY_AUTHORITY_HOST={identity}/hosts/{host}``
  (MSAL appends ``/metadata/identity/oauth2/token``).
  Scale sets' instances reach it the same way.
* App Service, Functions, deployment slots, Container Apps, Automation: ``GET
  /hosts/{host}/msi/token?api-version=2019-08-01&resource=...[&client_id|principal_id|
  object_id|mi_res_id]`` with ``X-IDENTITY-HEADER``, reached through ``IDENTITY_ENDPOINT`` +
  ``IDENTITY_HEADER`` (no selector: the system-assigned identity); the older
  ``api-version=2017-09-01`` (``secret`` header, ``clientid``, ``expires_on`` as a date, as
  Linux Consumption plans still use) is served too.
  https://learn.microsoft.com/azure/app-service/overview-managed-identity#rest-endpoint-reference
  https://learn.microsoft.com/azure/container-apps/managed-identity#rest-endpoint-reference
* Azure Arc (HIMDS): ``GET /hosts/{host}/metadata/identity/oauth2/token?api-version=
  2020-06-01&resource=...`` with ``Metadata: true``; without ``Authorization`` it answers
  401 with ``WWW-Authenticate: Basic realm=<key file>`` and writes a fresh key file there
  (``Settings.arc_key_dir``); the file's content sent back as ``Authorization: Basic
  <content>`` gets the token, in IMDS's shape. Reached through ``IDENTITY_ENDPOINT`` +
  ``IMDS_ENDPOINT``. azure-identity reads the key file only from the agent's own directory
  (``/var/opt/azcmagent/tokens`` on Linux), which only root can create.
  https://learn.microsoft.com/azure/azure-arc/servers/managed-identity-authentication
"""

from __future__ import annotations

import datetime as dt
import hmac
import uuid
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from ..entra.exceptions import EntraError
from ..http import HttpError, Req, json_response
from .models import (
    APP_SERVICE_KINDS,
    ARC_KINDS,
    IMDS_KINDS,
    NoIdentity,
    arc_answer,
    arc_challenge,
    find_host,
    host_secret,
    select_identity,
)

if TYPE_CHECKING:
    from ..world import World

IMDS_HEADERS = {"Server": "IMDS/150.870.65.1325"}
IMDS_API_VERSIONS = (
    "2018-02-01",
    "2019-08-01",
    "2019-11-01",
    "2020-06-01",
    "2021-02-01",
    "2021-05-01",
    "2023-07-01",
)


def host_env(world: World, host: dict[str, Any] | str) -> dict[str, str]:
    """The variables that make azure-identity on ``host`` reach its identity endpoint."""
    h = find_host(world, host) if isinstance(host, str) else host
    if not h:
        return {}
    base = f"{world.urls.identity}/hosts/{h['name']}"
    if h["kind"] in IMDS_KINDS:
        return {"AZURE_POD_IDENTITY_AUTHORITY_HOST": base}
    if h["kind"] in APP_SERVICE_KINDS:
        return {
            "IDENTITY_ENDPOINT": f"{base}/msi/token",
            "IDENTITY_HEADER": host_secret(world, h["name"]),
        }
    if h["kind"] in ARC_KINDS:
        return {
            "IDENTITY_ENDPOINT": f"{base}/metadata/identity/oauth2/token",
            "IMDS_ENDPOINT": base,
        }
    return {}


def _imds_error(status: int, error: str, description: str) -> HttpError:
    return HttpError(
        json_response({"error": error, "error_description": description}, status, IMDS_HEADERS)
    )


def _appsvc_error(status: int, message: str) -> HttpError:
    return HttpError(
        json_response(
            {"statusCode": status, "message": message, "correlationId": str(uuid.uuid4())}, status
        )
    )


class IdentityResponses:
    def __init__(self, world: World) -> None:
        self.world = world

    def _host(self, req: Req, kinds: tuple[str, ...]) -> dict[str, Any]:
        h = find_host(self.world, req.params["host"])
        if h is None or h["kind"] not in kinds:
            raise HttpError(Response(b"", 404))
        req.tenant = h.get("tenant")
        req.caller = h["name"]
        req.kind = "token"
        return h

    def metadata_token(self, req: Req) -> Response:
        """``/metadata/identity/oauth2/token``: IMDS on a VM or scale set, HIMDS on Arc."""
        h = self._host(req, IMDS_KINDS + ARC_KINDS)
        if h["kind"] in ARC_KINDS:
            return self.arc_token(req, h)
        return self.imds_token(req, h)

    def arc_token(self, req: Req, h: dict[str, Any]) -> Response:
        """Arc's challenge: no (or a wrong) ``Authorization: Basic`` gets a 401 naming a new
        key file; its content gets the token. Then IMDS's checks and answer."""
        if req.header("metadata") != "true":
            raise _imds_error(400, "bad_request_102", "Required metadata header not specified")
        auth = req.header("authorization") or ""
        scheme, _, secret = auth.partition(" ")
        if scheme.lower() != "basic" or not arc_answer(self.world, h["name"], secret.strip()):
            path = arc_challenge(self.world, h["name"])
            raise HttpError(
                Response(b"", 401, {"WWW-Authenticate": f"Basic realm={path}", **IMDS_HEADERS})
            )
        return self.imds_token(req, h)

    def imds_token(self, req: Req, h: dict[str, Any]) -> Response:
        """IMDS (VMs): ``Metadata: true``, api-version, resource, optional identity selector."""
        world = self.world
        if req.header("metadata") != "true":
            raise _imds_error(400, "bad_request_102", "Required metadata header not specified")
        if not req.q("api-version"):
            raise _imds_error(
                400, "invalid_request", "Required query variable 'api-version' is missing"
            )
        if req.q("api-version") not in IMDS_API_VERSIONS:
            raise _imds_error(400, "invalid_request", "Invalid API version")
        resource = req.q("resource")
        if not resource:
            raise _imds_error(400, "invalid_request", "Required audience parameter not specified")
        try:
            ident = select_identity(
                world,
                h,
                client_id=req.q("client_id"),
                object_id=req.q("object_id"),
                resource_id=req.q("msi_res_id") or req.q("mi_res_id"),
            )
        except NoIdentity as e:
            if e.multiple:
                raise _imds_error(
                    400,
                    "invalid_request",
                    "Multiple user assigned identities exist, please specify the "
                    "clientId / resourceId of the identity in the token request",
                ) from None
            raise _imds_error(400, "invalid_request", "Identity not found") from None
        try:
            tok = world.entra.mi_token(h, ident, resource)
        except EntraError as e:
            raise HttpError(json_response(e.oauth_body(), e.status, IMDS_HEADERS)) from None
        req.caller = ident["client_id"]
        body = {
            k: str(tok[k])
            for k in (
                "access_token",
                "client_id",
                "expires_in",
                "expires_on",
                "ext_expires_in",
                "not_before",
                "resource",
                "token_type",
            )
        }
        return json_response(body, 200, IMDS_HEADERS)

    def appservice_token(self, req: Req) -> Response:
        """App Service / Functions / Container Apps / Automation: ``X-IDENTITY-HEADER``,
        api-version 2019-08-01 (or 2017-09-01 with the ``secret`` header), resource."""
        world = self.world
        h = self._host(req, APP_SERVICE_KINDS)
        version = req.q("api-version") or ""
        legacy = version == "2017-09-01"
        presented = req.header("secret" if legacy else "x-identity-header") or ""
        if not hmac.compare_digest(presented.encode(), host_secret(world, h["name"]).encode()):
            header = "secret" if legacy else "X-IDENTITY-HEADER"
            raise _appsvc_error(
                401,
                f"Unauthorized: the {header} header is missing or "
                "does not match this host's identity secret.",
            )
        if version not in ("2019-08-01", "2017-09-01"):
            raise _appsvc_error(
                400,
                f"The HTTP resource that matches the request URI does not "
                f"support the API version '{version}'.",
            )
        resource = req.q("resource")
        if not resource:
            raise _appsvc_error(400, "The 'resource' query parameter is required.")
        try:
            ident = select_identity(
                world,
                h,
                client_id=req.q("clientid" if legacy else "client_id"),
                object_id=req.q("principal_id") or req.q("object_id"),
                resource_id=req.q("mi_res_id") or req.q("msi_res_id"),
                single_user_default=False,
            )
        except NoIdentity:
            raise _appsvc_error(
                400,
                "No User Assigned or Delegated Managed Identity found for "
                "specified ClientId/ResourceId/PrincipalId.",
            ) from None
        try:
            tok = world.entra.mi_token(h, ident, resource)
        except EntraError as e:
            raise _appsvc_error(e.status, f"AADSTS{e.code}: {e.message}") from None
        req.caller = ident["client_id"]
        body = {
            "access_token": tok["access_token"],
            "expires_on": _net_date(tok["expires_on"]) if legacy else str(tok["expires_on"]),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": ident["client_id"],
        }
        return json_response(body, 200)  # the documented sample's fields, exactly


def _net_date(ts: int) -> str:
    """The 2017-09-01 protocol's ``expires_on``: a date, not seconds ("It also returned the
    expires_on in a timestamp format", overview-managed-identity)."""
    t = dt.datetime.fromtimestamp(ts, dt.UTC)
    return t.strftime("%m/%d/%Y %I:%M:%S %p +00:00")
