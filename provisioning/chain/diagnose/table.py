"""The knowledge, as data: error code → cause and fix templates, with the condition a
rule applies under (``when``) and the analyzer that derives extra values (``analyze``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .model import Context

# The rules are tried in order; the first whose code matches and whose ``when`` holds wins.
# Templates are ``str.format`` fields over the context's values (``words.values_of``) and the
# analyzer's; a missing value reads "(unknown)".

Predicate = Callable[[Context], bool]

WHEN: dict[str, Predicate] = {
    "home": lambda c: c.where == "home",
    "customer": lambda c: c.where != "home",
    "home_sp_declared": lambda c: c.home_sp_declared,
    "home_sp_not_declared": lambda c: not c.home_sp_declared,
    "app_not_in_home": lambda c: c.app_in_home is False,
    "system_assigned": lambda c: c.system_assigned_of is not None,
}


@dataclass(frozen=True)
class Rule:
    codes: tuple[str, ...]
    cause: str
    fix: str
    when: str | None = None  # a key of WHEN
    analyze: str | None = None  # a key of ANALYZERS
    severity: str = "error"


_CONSENT_FIX = (
    "the admin of {tenant} consents to {app}: send them their onboarding kit "
    "(`xtenant kit{cfg} --customer {customer} --out {kit_dir}` → {kit_dir}/{customer}/index.html, "
    "or `xtenant customer apply --kit {kit_dir}/{customer}/kit.json`) or the consent link "
    "{consent_url}"
)
_GRANT_ROLE_FIX = (
    "the admin of {tenant} grants {role} on {scope} to {app}: `xtenant customer apply --kit "
    "{kit_dir}/{customer}/kit.json` (or {kit_dir}/{customer}/assign-roles.sh; by hand: "
    'az role assignment create --assignee {app_id} --role "{role}" --scope {scope})'
)
_GRAPH_FIX = (
    "if {graph_missing} was added to the app after {customer} consented, admin consent is "
    "needed again: the admin of {tenant} opens {consent_url} (or runs `xtenant customer apply "
    "--kit {kit_dir}/{customer}/kit.json`, which grants it); check that customers[{customer}]"
    ".graph_app_roles and home.apps[{app_key}].graph_app_roles list it"
)

RULES: tuple[Rule, ...] = (
    # ---- Entra: which app, which tenant ------------------------------------------------
    Rule(
        ("AADSTS700016",),
        when="home",
        cause="{app} is not registered in the home tenant {home_tenant}{app_home_note}",
        fix="check home.apps[{app_key}]: `xtenant apply{cfg}` creates the app in {home_tenant}; "
        "if an app id was passed to verify, it must be that app's appId",
    ),
    Rule(
        ("AADSTS700016",),
        cause="{customer_words} (tenant {tenant}) has not consented to {app}: the app has no "
        "service principal there",
        fix=_CONSENT_FIX,
    ),
    Rule(
        ("APP_ID_UNKNOWN",),
        cause="the client id (appId) of home.apps[{app_key}] is not known: the app does not "
        "exist in {home_tenant} yet, or it could not be looked up (no home credential)",
        fix="`xtenant apply{cfg}` creates the app; or run verify with a home admin credential, "
        "or give the appId (home.apps[{app_key}].adopt_app_id, or verify's app_ids)",
    ),
    Rule(
        ("AADSTS700236",),
        cause="{app} is registered in a tenant other than {home_tenant}, where {identity_words} "
        "lives{app_home_note}: Entra accepts a managed identity's token (issuer {assertion_iss}) "
        "as a credential only for an app registered in the identity's own tenant",
        fix="register the app in the home tenant {home_tenant} (home.apps[{app_key}]; "
        "`xtenant apply{cfg}`), have {tenant} consent to that app (its kit: "
        "{kit_dir}/{customer}/index.html), and remove the app registered in the customer tenant",
    ),
    Rule(
        ("AADSTS7000229",),
        when="home_sp_declared",
        cause="{app} has no service principal in its home tenant {home_tenant}, although "
        "home.apps[{app_key}].service_principal is true",
        fix="`xtenant apply{cfg}` creates it",
    ),
    Rule(
        ("AADSTS7000229",),
        severity="note",
        cause="{app} has no service principal in its home tenant {home_tenant} (none is declared), "
        "so Entra issues no token there; the app and its home directory were found",
        fix="nothing to do: the customer tenants are where the app acts. Set "
        "home.apps[{app_key}].service_principal: true if it must act at home too",
    ),
    Rule(
        ("AADSTS500011",),
        cause="the resource {resource} has no service principal in tenant {tenant}, so no token "
        "can be issued for it there",
        fix="for Azure Monitor the customer registers the Microsoft.Insights resource provider "
        "in their subscription (`az provider register -n Microsoft.Insights`); for another "
        "resource its application must be provisioned in {tenant}. Check also that the request "
        "goes to the right tenant ({tenant})",
    ),
    # ---- Entra: the federated credential -------------------------------------------------
    Rule(
        ("AADSTS70021", "AADSTS700211", "AADSTS700212", "AADSTS700213", "FIC_MISMATCH"),
        analyze="fic",
        cause="{fic_cause}",
        fix="{fic_fix}",
    ),
    Rule(
        ("AADSTS700024",),
        analyze="times",
        cause="the assertion (the managed identity's token) was outside its validity window when "
        "Entra checked it (Entra's time {entra_now}; valid {valid_from} to {valid_until}): a "
        "stale, cached MI token was presented, or a clock is off",
        fix="take a fresh MI token for each exchange (CrossTenantCredential renews it 5 minutes "
        "before it expires) and check the clock on {host} (`timedatectl`, chrony/NTP)",
    ),
    # ---- Entra: a secret where there should be none ----------------------------------------
    Rule(
        ("AADSTS7000215",),
        cause="a client secret was sent for {app}, and it is not valid: this chain uses no secret, "
        "so something on {host} configures one{secret_sources}",
        fix="remove the secret from the workload's configuration (unset AZURE_CLIENT_SECRET / "
        "drop it from the app settings), delete any password credential on the app, and let the "
        "workload authenticate with its managed identity (CrossTenantCredential)",
    ),
    Rule(
        ("AADSTS7000218",),
        cause="the token request for {app} carried neither a client assertion nor a secret: the "
        "credential in use is not the federated one{secret_sources}",
        fix="use CrossTenantCredential (or ClientAssertionCredential with the MI token) for "
        "{app}; a secret-based configuration (AZURE_CLIENT_SECRET, EnvironmentCredential) must "
        "not be on the workload",
    ),
    # ---- the managed-identity endpoint ---------------------------------------------------
    Rule(
        ("MI_IDENTITY_NOT_FOUND",),
        when="system_assigned",
        cause="the system-assigned identity of {system_host} is off{system_state}: {identity} "
        "is that identity, so {host} has no token to give",
        fix="`xtenant apply{cfg}` enables it (the plan shows the change) and points the app's "
        "federated credential at its new principal id; turning it off again breaks the chain. "
        "Better still, move to a user-assigned identity (`xtenant validate` says how)",
    ),
    Rule(
        ("MI_IDENTITY_NOT_FOUND",),
        analyze="mi",
        cause="{identity_words} is not attached to host {host}{attach_state}",
        fix="{attach_fix}",
    ),
    Rule(
        ("MI_MULTIPLE_IDENTITIES",),
        cause="several user-assigned identities are attached to host {host} and none was chosen",
        fix="choose {identity}: `xtenant verify --identity <its client id>` (or run verify with a "
        "home admin credential, so xtenant reads the client id of {identity_resource_id} from "
        "ARM); a workload passes managed_identity=<client id> to CrossTenantCredential",
    ),
    Rule(
        ("MI_UNAVAILABLE",),
        cause="no managed-identity endpoint answers on {host} ({endpoint_kind}): it is not an "
        "Azure host with an identity, or its identity endpoint variables are missing",
        fix="run verify on a host that carries {identity} ({declared_hosts}); to rehearse on the "
        "sandbox: `eval $(xtenant sandbox env --as HOST)`",
    ),
    Rule(
        ("MI_WRONG_IDENTITY",),
        cause="host {host} answered with another identity (principal {assertion_sub}), not "
        "{identity_words}",
        fix="select {identity} by its client id: `xtenant verify --identity {identity_client_id}` "
        "(`az identity show -n {identity} -g <resource group> --query clientId` tells it); a "
        "workload passes managed_identity=<client id> — on a host with several identities, or a "
        "system-assigned one, the endpoint does not pick yours",
    ),
    # ---- ARM --------------------------------------------------------------------------------
    Rule(
        ("AuthorizationFailed",),
        analyze="arm",
        cause="{app}'s service principal in {tenant} may not {action} on {scope}: {role} is not "
        "assigned to it there",
        fix=_GRANT_ROLE_FIX,
    ),
    Rule(
        ("ResourceNotFound", "ResourceGroupNotFound", "SubscriptionNotFound", "NotFound"),
        when="customer",
        cause="the scope {scope} does not exist in {tenant} (or is not visible to {app})",
        fix="check customers[{customer}].roles: the scope must be the ARM id of an existing "
        "resource, resource group or subscription of {tenant}",
    ),
    Rule(
        ("InvalidAuthenticationTokenTenant",),
        cause="the token is from a tenant other than the one that owns {scope}",
        fix="customers[{customer}].tenant must be the tenant of the subscription in {scope}",
    ),
    # ---- Graph ------------------------------------------------------------------------------
    Rule(
        ("Authorization_RequestDenied", "accessDenied", "GRAPH_ROLES_MISSING"),
        analyze="graph",
        cause="{app} lacks the Graph application permission {graph_missing} in {tenant} (the "
        "token's roles: {granted})",
        fix=_GRAPH_FIX,
    ),
    # ---- Logs Ingestion ---------------------------------------------------------------------
    Rule(
        ("LOGS_INGESTION_FORBIDDEN",),
        analyze="logs",
        cause="{app}'s service principal in {tenant} may not send logs to the DCR {scope}: it "
        "needs {role} (data action Microsoft.Insights/Telemetry/Write) there",
        fix=_GRANT_ROLE_FIX + "; a new assignment can take up to 30 minutes to reach the "
        "ingestion service",
    ),
)

ENTRA_ERROR_URL = "https://login.microsoftonline.com/error?code={n}"


def rules_for(code: str) -> list[Rule]:
    return [r for r in RULES if code in r.codes]
