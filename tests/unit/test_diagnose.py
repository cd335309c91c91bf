"""The diagnosis table, code by code: a realistic error (as Entra, IMDS, ARM, Graph and the
Logs Ingestion API send it — the sandbox's wording, which follows Microsoft's) and the
context of the failing hop -> the cause and the fix an admin acts on."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import CredentialUnavailableError

from provisioning.chain.diagnose import (
    RULES,
    Context,
    ErrorInfo,
    compare_fics,
    diagnose,
    parse_error,
)
from provisioning.core import clouds

HOME = "8f3c2a10-4d5e-4f60-9a7b-0c0270500001"
LITWARE = "5b1d7e20-6c3f-4a81-8b92-117a3e000002"
APP_ID = "0865172f-ada2-480f-94a3-9b22f1264f4e"
CLIENT_ID = "5e76ffc4-fb2b-4f33-97cb-2571728b1adc"
PRINCIPAL_ID = "721d8840-186a-4c24-87c9-4c65b1f379ca"
OTHER_PRINCIPAL = "0b5e6a41-9c1e-4ad8-8d8f-2f1e1d6b4c11"
SP_OID = "2f5cf6ce-7c8c-4d98-a173-14640886a434"
ISSUER = f"https://login.microsoftonline.com/{HOME}/v2.0"
EXCHANGE_APP = "fb60f99c-7a34-4190-8149-302f77469936"
DCR = (
    "/subscriptions/5b1d7e20-6c3f-4a81-8b92-117a3e000a02/resourceGroups/rg-logs/providers/"
    "Microsoft.Insights/dataCollectionRules/dcr-vector"
)
FIC_DOC = "https://learn.microsoft.com/entra/workload-id/workload-identity-federation"
TRACE = (
    " Trace ID: 35c873d3-6a34-4dd8-8247-7329b14b02f0 Correlation ID: "
    "99ee9d23-c4fc-49e2-833e-c4064b16aa4c Timestamp: 2026-11-24 12:48:47Z"
)
ASSERTION = {
    "iss": ISSUER,
    "sub": PRINCIPAL_ID,
    "oid": PRINCIPAL_ID,
    "aud": EXCHANGE_APP,
    "azp": CLIENT_ID,
    "tid": HOME,
    "nbf": 1795524975,
    "exp": 1795528574,
}
GOOD_FIC = {
    "name": "mi-umi-vector",
    "issuer": ISSUER,
    "subject": PRINCIPAL_ID,
    "audiences": ["api://AzureADTokenExchange"],
}

tested: set[str] = set()


def ctx(**kw: Any) -> Context:
    base: dict[str, Any] = {
        "cloud": clouds.PUBLIC,
        "config_path": "xtenant.yaml",
        "home_tenant": HOME,
        "tenant": "litware.onmicrosoft.com",
        "customer": "litware",
        "where": "customer",
        "app_key": "logs",
        "app_id": APP_ID,
        "app_name": "Contoso Log Forwarder",
        "redirect_uri": "https://contoso.example/onboarded",
        "identity": "umi-vector",
        "identity_client_id": CLIENT_ID,
        "identity_principal_id": PRINCIPAL_ID,
        "host": "vm-vector",
        "endpoint_kind": "IMDS",
        "declared_hosts": ["vm-vector"],
        "assertion": ASSERTION,
        "fics": [GOOD_FIC],
        "roles": [("Monitoring Metrics Publisher", DCR)],
    }
    base.update(kw)
    return Context(**base)


def entra_error(code: int, text: str, error: str = "invalid_client") -> ClientAuthenticationError:
    """What azure-identity raises: the MSAL error folded into its message."""
    body = (
        f'{{"error":"{error}","error_description":"AADSTS{code}: {text}{TRACE}",'
        f'"error_codes":[{code}],"error_uri":"https://login.microsoftonline.com/error?code={code}"}}'
    )
    msg = f"Microsoft Entra ID error '({error}) AADSTS{code}: {text}{TRACE}'\nContent: {body}"
    return ClientAuthenticationError(message=msg)


def check(code: str, err: Any, context: Context, *, cause: list[str], fix: list[str]) -> Any:
    d = diagnose(err, context)
    assert d.code == code, d
    for part in cause:
        assert part in d.cause, (part, d.cause)
    for part in fix:
        assert part in d.fix, (part, d.fix)
    assert "Trace ID" not in (d.message or "")
    tested.add(code)
    return d


# ---- Entra: which app, which tenant ---------------------------------------------------


def test_700016_customer_has_not_consented() -> None:
    err = entra_error(
        700016,
        f"Application with identifier '{APP_ID}' was not found in the directory 'Litware'. "
        "This can happen if the application has not been installed by the administrator of "
        "the tenant or consented to by any user in the tenant. You may have sent your "
        "authentication request to the wrong tenant.",
        "unauthorized_client",
    )
    d = check(
        "AADSTS700016",
        err,
        ctx(),
        cause=["customer litware", "has not consented", APP_ID, "litware.onmicrosoft.com"],
        fix=[
            f"https://login.microsoftonline.com/litware.onmicrosoft.com/adminconsent?client_id={APP_ID}",
            "xtenant kit -c xtenant.yaml --customer litware",
            "kits/litware/kit.json",
        ],
    )
    assert d.message.startswith("AADSTS700016: Application with identifier")
    # with Graph permissions the consent link asks for them (v2 endpoint, .default)
    d = diagnose(err, ctx(graph_permissions=True))
    assert "/v2.0/adminconsent?" in d.fix and "graph.microsoft.com%2F.default" in d.fix


def test_700016_in_the_home_tenant_means_a_wrong_app() -> None:
    err = entra_error(
        700016,
        f"Application with identifier '{APP_ID}' was not found in the directory 'Contoso'.",
        "unauthorized_client",
    )
    check(
        "AADSTS700016",
        err,
        ctx(where="home", tenant=HOME, app_in_home=False),
        cause=["not registered in the home tenant", HOME, "does not find appId"],
        fix=["home.apps[logs]", "xtenant apply"],
    )


def test_700016_from_an_msal_error_body() -> None:
    body = {
        "error": "unauthorized_client",
        "error_description": f"AADSTS700016: Application with identifier '{APP_ID}' was not "
        f"found in the directory 'Litware'.{TRACE}",
        "error_codes": [700016],
    }
    check("AADSTS700016", body, ctx(), cause=["has not consented"], fix=["adminconsent"])


def test_700236_app_registered_in_the_customer_tenant() -> None:
    err = entra_error(
        700236,
        f"Entra ID tokens issued by issuer '{ISSUER}' may not be used for federated identity "
        "credential flows for applications or managed identities registered in this tenant.",
    )
    check(
        "AADSTS700236",
        err,
        ctx(app_in_home=False),
        cause=[APP_ID, "registered in a tenant other than", HOME, ISSUER, "umi-vector"],
        fix=["register the app in the home tenant", "home.apps[logs]", "consent"],
    )


def test_7000229_is_a_note_unless_a_home_sp_is_declared() -> None:
    err = entra_error(
        7000229,
        f"The client application {APP_ID} is missing service principal in the tenant {HOME}. "
        "See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119",
    )
    d = check(
        "AADSTS7000229",
        err,
        ctx(where="home", tenant=HOME),
        cause=["no service principal in its home tenant", "none is declared"],
        fix=["nothing to do"],
    )
    assert d.severity == "note"
    d = diagnose(err, ctx(where="home", tenant=HOME, home_sp_declared=True))
    assert d.severity == "error"
    assert "service_principal is true" in d.cause and "xtenant apply" in d.fix


def test_500011_resource_principal_missing() -> None:
    err = entra_error(
        500011,
        "The resource principal named https://monitor.azure.com was not found in the tenant "
        "named Litware. This can happen if the application has not been installed by the "
        "administrator of the tenant or consented to by any user in the tenant. You might "
        "have sent your authentication request to the wrong tenant.",
        "invalid_resource",
    )
    check(
        "AADSTS500011",
        err,
        ctx(resource="https://monitor.azure.com"),
        cause=["https://monitor.azure.com", "no service principal", "litware.onmicrosoft.com"],
        fix=["Microsoft.Insights", "az provider register"],
    )


# ---- Entra: the federated credential ----------------------------------------------------


def test_70021_no_fic_at_all() -> None:
    err = entra_error(
        70021,
        "No matching federated identity record found for presented assertion. Assertion "
        f"Issuer: '{ISSUER}'. Assertion Subject: '{PRINCIPAL_ID}'. Assertion Audience: "
        f"'{EXCHANGE_APP}'. {FIC_DOC}",
        "invalid_request",
    )
    d = check(
        "AADSTS70021",
        err,
        ctx(fics=[]),
        cause=["no federated identity credential at all", "umi-vector"],
        fix=["xtenant apply -c xtenant.yaml", "mi-umi-vector"],
    )
    assert any(ISSUER in line and PRINCIPAL_ID in line for line in d.details)


def test_70021_fic_just_created_is_propagating() -> None:
    err = entra_error(
        70021,
        "No matching federated identity record found for presented assertion. Assertion "
        f"Issuer: '{ISSUER}'. Assertion Subject: '{PRINCIPAL_ID}'. Assertion Audience: "
        f"'{EXCHANGE_APP}'. {FIC_DOC}",
        "invalid_request",
    )
    check(
        "AADSTS70021",
        err,
        ctx(),
        cause=["mi-umi-vector", "matches the assertion exactly", "propagation"],
        fix=["wait a few minutes"],
    )


def test_70021_fics_unreadable_uses_the_message_and_the_config() -> None:
    err = entra_error(
        70021,
        "No matching federated identity record found for presented assertion. Assertion "
        f"Issuer: '{ISSUER}'. Assertion Subject: '{OTHER_PRINCIPAL}'. Assertion Audience: "
        f"'{EXCHANGE_APP}'. {FIC_DOC}",
        "invalid_request",
    )
    d = diagnose(err, ctx(fics=None, assertion=None))
    assert d.code == "AADSTS70021"
    assert f"its subject {OTHER_PRINCIPAL} is not umi-vector's principal id" in d.cause
    assert "--identity" in d.fix
    assert any("could not be read" in line for line in d.details)


def test_700211_issuer_differs() -> None:
    err = entra_error(
        700211,
        "No matching federated identity record found for presented assertion issuer "
        f"'{ISSUER}'. Please check your federated identity credential Subject, Audience and "
        f"Issuer against the presented assertion. {FIC_DOC}",
    )
    fic = {**GOOD_FIC, "issuer": f"https://sts.windows.net/{HOME}/"}
    check(
        "AADSTS700211",
        err,
        ctx(fics=[fic]),
        cause=[
            "the issuer https://sts.windows.net/",
            "v1 issuer",
            f"must be the home tenant's {ISSUER}",
        ],
        fix=[f"issuer = {ISSUER}"],
    )
    fic = {**GOOD_FIC, "issuer": ISSUER + "/"}
    d = diagnose(err, ctx(fics=[fic]))
    assert "trailing slash" in d.cause


def test_700212_audience_differs() -> None:
    err = entra_error(
        700212,
        "No matching federated identity record found for presented assertion audience "
        f"'{EXCHANGE_APP}'. Please check your federated identity credential Subject, Audience "
        f"and Issuer against the presented assertion. {FIC_DOC}",
    )
    fic = {**GOOD_FIC, "audiences": ["api://AzureADTokenExchangeUSGov"]}
    d = check(
        "AADSTS700212",
        err,
        ctx(fics=[fic]),
        cause=["api://AzureADTokenExchangeUSGov", "do not include the exchange audience"],
        fix=["audiences = [api://AzureADTokenExchange]"],
    )
    assert any("audiences ≠" in line for line in d.details)


def test_700213_subject_is_the_client_id() -> None:
    err = entra_error(
        700213,
        "No matching federated identity record found for presented assertion subject "
        f"'{PRINCIPAL_ID}'. Check your federated identity credential Subject, Audience and "
        f"Issuer against the presented assertion. {FIC_DOC}",
    )
    fic = {**GOOD_FIC, "subject": CLIENT_ID}
    d = check(
        "AADSTS700213",
        err,
        ctx(fics=[fic]),
        cause=[
            f"the subject is the identity's client id ({CLIENT_ID}); it must be its principal id",
            PRINCIPAL_ID,
        ],
        fix=[f"subject = {PRINCIPAL_ID}", "xtenant apply"],
    )
    assert any(line.startswith("assertion: ") for line in d.details)
    assert any(f"subject ≠ {CLIENT_ID}" in line for line in d.details)


def test_700213_fic_trusts_another_identity() -> None:
    err = entra_error(
        700213,
        f"No matching federated identity record found for presented assertion subject '{PRINCIPAL_ID}'.",
    )
    fic = {**GOOD_FIC, "subject": OTHER_PRINCIPAL}
    d = diagnose(
        err,
        ctx(fics=[fic], other_identities={"umi-runbooks": {"principal_id": OTHER_PRINCIPAL}}),
    )
    assert "umi-runbooks's principal id" in d.cause


def test_fic_mismatch_predicted_from_the_claims() -> None:
    fic = {**GOOD_FIC, "subject": CLIENT_ID}
    d = check(
        "FIC_MISMATCH",
        ErrorInfo("FIC_MISMATCH", None, "", "entra"),
        ctx(fics=[fic]),
        cause=["the subject is the identity's client id"],
        fix=["xtenant apply"],
    )
    assert d.message is None


def test_700024_stale_assertion() -> None:
    err = entra_error(
        700024,
        "Client assertion is not within its valid time range. Current time: "
        "2026-11-24T14:50:00.000Z, assertion valid from 2026-11-24T12:49:35.000Z, expiry time "
        "of assertion 2026-11-24T13:49:34.000Z. Review the documentation at "
        "https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials .",
    )
    d = check(
        "AADSTS700024",
        err,
        ctx(),
        cause=[
            "outside its validity window",
            "2026-11-24T14:50:00.000Z",
            "2026-11-24T13:49:34.000Z",
        ],
        fix=["fresh MI token", "clock on vm-vector"],
    )
    assert d.details == (
        "Entra's clock: 2026-11-24T14:50:00.000Z; assertion valid from "
        "2026-11-24T12:49:35.000Z until 2026-11-24T13:49:34.000Z",
    )


# ---- Entra: a secret where there should be none ----------------------------------------------


def test_7000215_secret_sent() -> None:
    err = entra_error(
        7000215,
        "Invalid client secret provided. Ensure the secret being sent in the request is the "
        f"client secret value, not the client secret ID, for a secret added to app '{APP_ID}'.",
    )
    check(
        "AADSTS7000215",
        err,
        ctx(environ_names=["AZURE_CLIENT_SECRET"]),
        cause=["a client secret was sent", APP_ID, "AZURE_CLIENT_SECRET is set on this host"],
        fix=["unset AZURE_CLIENT_SECRET", "managed identity"],
    )


def test_7000218_neither_assertion_nor_secret() -> None:
    err = entra_error(
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or "
        "'client_secret'.",
    )
    check(
        "AADSTS7000218",
        err,
        ctx(),
        cause=["neither a client assertion nor a secret", APP_ID],
        fix=["CrossTenantCredential", "AZURE_CLIENT_SECRET"],
    )


# ---- managed-identity endpoints ------------------------------------------------------------


def test_imds_identity_not_attached() -> None:
    err = CredentialUnavailableError(
        "ManagedIdentityCredential authentication unavailable, no response from the IMDS "
        "endpoint. Token request error: (invalid_request) Identity not found"
    )
    d = check(
        "MI_IDENTITY_NOT_FOUND",
        err,
        ctx(attached=False),
        cause=["umi-vector", CLIENT_ID, "not attached to host vm-vector", "ARM confirms"],
        fix=["xtenant apply -c xtenant.yaml", "attaches umi-vector to vm-vector"],
    )
    assert d.message == "(invalid_request) Identity not found"


def test_app_service_identity_not_attached_elsewhere() -> None:
    err = CredentialUnavailableError(
        "App Service managed identity configuration not found in environment. Token request "
        "error: (invalid_scope) 400, No User Assigned or Delegated Managed Identity found for "
        "specified ClientId/ResourceId/PrincipalId."
    )
    d = diagnose(err, ctx(host="web-1", declared_hosts=["vm-vector"]))
    assert d.code == "MI_IDENTITY_NOT_FOUND"
    assert "declared on vm-vector, not on web-1" in d.cause
    assert "run verify on vm-vector" in d.fix and "attach_to" in d.fix


def test_imds_error_body() -> None:
    body = {"error": "invalid_request", "error_description": "Identity not found"}
    assert diagnose(body, ctx()).code == "MI_IDENTITY_NOT_FOUND"


def test_imds_several_identities_none_chosen() -> None:
    err = CredentialUnavailableError(
        "ManagedIdentityCredential authentication unavailable, no response from the IMDS "
        "endpoint. Token request error: (invalid_request) Multiple user assigned identities "
        "exist, please specify the clientId / resourceId of the identity in the token request"
    )
    check(
        "MI_MULTIPLE_IDENTITIES",
        err,
        ctx(
            identity_resource_id="/subscriptions/x/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/umi-vector"
        ),
        cause=["several user-assigned identities", "vm-vector", "none was chosen"],
        fix=["--identity", "umi-vector", "managed_identity=<client id>"],
    )


def test_no_identity_endpoint() -> None:
    err = CredentialUnavailableError(
        "ManagedIdentityCredential authentication unavailable, no response from the IMDS endpoint."
    )
    check(
        "MI_UNAVAILABLE",
        err,
        ctx(host="laptop"),
        cause=["no managed-identity endpoint answers on laptop"],
        fix=["vm-vector", "xtenant sandbox env --as HOST"],
    )


def test_wrong_identity_answered() -> None:
    check(
        "MI_WRONG_IDENTITY",
        ErrorInfo("MI_WRONG_IDENTITY", None, "", "imds"),
        ctx(assertion={**ASSERTION, "sub": OTHER_PRINCIPAL}),
        cause=["another identity", OTHER_PRINCIPAL, "umi-vector"],
        fix=[f"--identity {CLIENT_ID}"],
    )


def test_app_id_unknown() -> None:
    check(
        "APP_ID_UNKNOWN",
        ErrorInfo("APP_ID_UNKNOWN", None, "", None),
        ctx(app_id=None),
        cause=["home.apps[logs] is not known"],
        fix=["xtenant apply", "adopt_app_id"],
    )


# ---- ARM, Graph, Logs Ingestion -------------------------------------------------------------


def test_arm_403_names_role_scope_and_kit_command() -> None:
    resp = httpx.Response(
        403,
        json={
            "error": {
                "code": "AuthorizationFailed",
                "message": f"The client '{SP_OID}' with object id '{SP_OID}' does not have "
                "authorization to perform action 'Microsoft.Insights/dataCollectionRules/read' "
                f"over scope '{DCR}' or the scope is invalid. If access was recently granted, "
                "please refresh your credentials.",
            }
        },
    )
    check(
        "AuthorizationFailed",
        resp,
        ctx(role="Monitoring Reader", scope=DCR, service="arm"),
        cause=[
            "Monitoring Reader is not assigned",
            DCR,
            "Microsoft.Insights/dataCollectionRules/read",
        ],
        fix=[
            "xtenant customer apply --kit kits/litware/kit.json",
            "assign-roles.sh",
            f'az role assignment create --assignee {APP_ID} --role "Monitoring Reader" --scope {DCR}',
        ],
    )
    # the role comes from the customer's grants when the context does not name it
    d = diagnose(resp, ctx(service="arm"))
    assert "Monitoring Metrics Publisher is not assigned" in d.cause


def test_arm_scope_not_found() -> None:
    resp = httpx.Response(
        404,
        json={
            "error": {
                "code": "ResourceNotFound",
                "message": "The Resource 'Microsoft.Insights/dataCollectionRules/dcr-vector' "
                "under resource group 'rg-logs' was not found.",
            }
        },
    )
    check(
        "ResourceNotFound",
        resp,
        ctx(scope=DCR),
        cause=[DCR, "does not exist"],
        fix=["customers[litware].roles"],
    )
    for code in ("ResourceGroupNotFound", "SubscriptionNotFound", "NotFound"):
        body = {"error": {"code": code, "message": "not found"}}
        assert diagnose(body, ctx(scope=DCR)).code == code
        tested.add(code)


def test_arm_token_from_the_wrong_tenant() -> None:
    body = {
        "error": {
            "code": "InvalidAuthenticationTokenTenant",
            "message": f"The access token is from the wrong issuer 'https://sts.windows.net/{HOME}/'. "
            f"It must match the tenant 'https://sts.windows.net/{LITWARE}/' associated with this "
            "subscription.",
        }
    }
    check(
        "InvalidAuthenticationTokenTenant",
        body,
        ctx(scope=DCR),
        cause=["from a tenant other than"],
        fix=["customers[litware].tenant"],
    )


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("Authorization_RequestDenied", "Insufficient privileges to complete the operation."),
        ("accessDenied", "Access denied"),
    ],
)
def test_graph_403_names_the_missing_permission(code: str, message: str) -> None:
    resp = httpx.Response(403, json={"error": {"code": code, "message": message}})
    d = check(
        code,
        resp,
        ctx(
            customer="fabrikam",
            tenant="fabrikam.onmicrosoft.com",
            graph_roles=["Sites.Read.All"],
            granted_roles=[],
            graph_permissions=True,
            service="graph",
        ),
        cause=["Sites.Read.All", "fabrikam.onmicrosoft.com", "token's roles: none"],
        fix=[
            "admin consent is needed again",
            "https://login.microsoftonline.com/fabrikam.onmicrosoft.com/v2.0/adminconsent",
            "kits/fabrikam/kit.json",
        ],
    )
    assert d.message == message


def test_graph_roles_missing_from_the_token() -> None:
    check(
        "GRAPH_ROLES_MISSING",
        ErrorInfo("GRAPH_ROLES_MISSING", None, "", "graph"),
        ctx(graph_roles=["Sites.Read.All"], granted_roles=["User.Read.All"]),
        cause=["Sites.Read.All", "User.Read.All"],
        fix=["admin consent is needed again"],
    )


def test_logs_ingestion_403() -> None:
    resp = httpx.Response(
        403,
        json={
            "error": {
                "code": "OperationFailed",
                "message": "The authentication token provided does not have access to ingest "
                "data for the data collection rule with immutable Id "
                "'dcr-00000000000000000000000000000000' PipelineAccessResult: AccessGranted: "
                f"False, IsRbacPresent: False, IsDcrDceBindingValid: , DcrArmId: {DCR}, Message: "
                "Required authorization action was not found.",
            }
        },
    )
    d = check(
        "LOGS_INGESTION_FORBIDDEN",
        resp,
        ctx(service="monitor"),
        cause=["may not send logs to the DCR", DCR, "Monitoring Metrics Publisher"],
        fix=["xtenant customer apply --kit kits/litware/kit.json", "30 minutes"],
    )
    assert d.message.startswith("The authentication token provided")
    # the DCR comes from the message when the context has no scope and no grants
    d = diagnose(resp, ctx(service="monitor", roles=[]))
    assert DCR in d.cause


# ---- unknown codes, parsing -------------------------------------------------------------------


def test_unknown_aadsts_shows_the_raw_message() -> None:
    err = entra_error(
        90002,
        "Tenant 'nosuch.onmicrosoft.com' not found. Check to make sure you have the correct "
        "tenant ID and are signing into the correct cloud.",
        "invalid_request",
    )
    d = diagnose(err, ctx())
    assert d.code == "AADSTS90002"
    assert d.cause.startswith("AADSTS90002: Tenant 'nosuch.onmicrosoft.com' not found.")
    assert "Trace ID" not in d.cause
    assert "https://login.microsoftonline.com/error?code=90002" in d.fix


def test_unknown_service_error_shows_the_raw_message() -> None:
    resp = httpx.Response(409, json={"error": {"code": "Conflict", "message": "Something odd."}})
    d = diagnose(resp, ctx())
    assert (d.code, d.cause) == ("Conflict", "Something odd.")
    d = diagnose("connection reset by peer", ctx())
    assert d.code == "UNKNOWN" and d.cause == "connection reset by peer"


def test_parse_error_reads_each_shape() -> None:
    assert parse_error(entra_error(700016, "x")).code == "AADSTS700016"
    assert parse_error(f"AADSTS70021: No matching record.{TRACE}").message == (
        "AADSTS70021: No matching record."
    )
    assert parse_error({"error_codes": [50013], "error_description": "Assertion failed"}).code == (
        "AADSTS50013"
    )
    info = parse_error(
        httpx.Response(403, json={"error": {"code": "AuthorizationFailed", "message": "no"}})
    )
    assert (info.code, info.status) == ("AuthorizationFailed", 403)
    assert parse_error(httpx.Response(502, text="Bad gateway")).code == "HTTP502"


def test_compare_fics_follows_entras_rules() -> None:
    fics = [
        GOOD_FIC,
        {**GOOD_FIC, "name": "case", "subject": PRINCIPAL_ID.upper()},
        {**GOOD_FIC, "name": "aud", "audiences": [EXCHANGE_APP]},
    ]
    by_name = {c.name: c for c in compare_fics(ASSERTION, fics, "api://AzureADTokenExchange")}
    assert by_name["mi-umi-vector"].matches
    assert by_name["case"].differs == ("subject",)  # matching is case-sensitive
    assert by_name["aud"].matches  # the exchange app id is accepted as such


def test_every_table_entry_is_tested() -> None:
    """Every code in RULES is checked by one of the tests above (run again here, so that
    the check holds whatever order or worker the tests ran in)."""
    tested.clear()
    for name, fn in list(globals().items()):
        if not name.startswith("test_") or fn is test_every_table_entry_is_tested:
            continue
        if name == "test_graph_403_names_the_missing_permission":
            for code, message in (
                (
                    "Authorization_RequestDenied",
                    "Insufficient privileges to complete the operation.",
                ),
                ("accessDenied", "Access denied"),
            ):
                fn(code, message)
        else:
            fn()
    codes = {c for r in RULES for c in r.codes}
    assert codes - tested == set(), f"untested codes: {sorted(codes - tested)}"
