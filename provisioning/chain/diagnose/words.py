"""The context in words: the values a rule's templates are filled with, and the filling."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from typing import Any

from .model import SECRET_VARIABLES, UNKNOWN, Context


class _Values(dict):
    def __missing__(self, key: str) -> str:
        return UNKNOWN


def cfg(ctx: Context) -> str:
    return f" -c {ctx.config_path}" if ctx.config_path else ""


def app_words(ctx: Context) -> str:
    if ctx.app_name and ctx.app_id:
        return f"app {ctx.app_name} ({ctx.app_id})"
    return f"app {ctx.app_id or ctx.app_name or ctx.app_key or UNKNOWN}"


def identity_words(ctx: Context) -> str:
    ids = [
        f"{label} {value}"
        for label, value in (
            ("client id", ctx.identity_client_id),
            ("principal id", ctx.identity_principal_id),
        )
        if value
    ]
    name = f"identity {ctx.identity}" if ctx.identity else "the managed identity"
    return f"{name} ({', '.join(ids)})" if ids else name


def values_of(ctx: Context) -> _Values:
    v = _Values()
    for k, val in vars(ctx).items():
        if isinstance(val, str):
            v[k] = val
    v["app"] = app_words(ctx)
    v["cfg"] = cfg(ctx)
    v["host"] = ctx.host or "this host"
    if ctx.system_assigned_of:
        v["system_host"] = ctx.system_assigned_of.rsplit("/", 1)[-1]
        v["system_state"] = (
            " (ARM confirms it: the host's identity block has no SystemAssigned)"
            if ctx.attached is False
            else ""
        )
    v["identity"] = ctx.identity or "the trusted identity"
    v["identity_words"] = identity_words(ctx)
    v["customer"] = ctx.customer or "<customer>"
    v["customer_words"] = f"customer {ctx.customer}" if ctx.customer else "the customer"
    v["tenant"] = ctx.tenant or UNKNOWN
    v["declared_hosts"] = ", ".join(ctx.declared_hosts) or "none declared"
    v["endpoint_kind"] = ctx.endpoint_kind or "no identity endpoint configured"
    a = ctx.assertion or {}
    v["assertion_iss"] = str(a.get("iss") or UNKNOWN)
    v["assertion_sub"] = str(a.get("sub") or UNKNOWN)
    v["consent_url"] = consent_url(ctx)
    v["app_home_note"] = (
        f" (the home admin's Graph does not find appId {ctx.app_id} in {ctx.home_tenant})"
        if ctx.app_in_home is False
        else ""
    )
    leaks = [n for n in SECRET_VARIABLES if n in ctx.environ_names]
    v["secret_sources"] = f" ({', '.join(leaks)} is set on this host)" if leaks else ""
    v["resource"] = ctx.resource or UNKNOWN
    v["role"] = ctx.role or UNKNOWN
    v["scope"] = ctx.scope or UNKNOWN
    return v


def consent_url(ctx: Context) -> str:
    if not (ctx.cloud and ctx.tenant and ctx.app_id and ctx.redirect_uri):
        return "(the consent link is in the kit)"
    return ctx.cloud.admin_consent_url(
        ctx.tenant, ctx.app_id, ctx.redirect_uri, graph_permissions=ctx.graph_permissions
    )


def fill(template: str, values: Mapping[str, Any]) -> str:
    out = string.Formatter().vformat(template, (), values)
    return re.sub(r"\s+", " ", out).strip()
