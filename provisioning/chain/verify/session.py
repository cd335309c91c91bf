"""What one verify run shares between its steps: the options it was asked with, the home
state (``HomeState``), the MI tokens already taken, the credentials to close, the rows
recorded so far, and the diagnosis ``Context`` of a hop built from all of that."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from provisioning.config import App, Config, Customer, Identity
from provisioning.core import armid
from provisioning.core.clouds import Cloud
from provisioning.core.hosts import HostKind, host_label, is_host, lookup
from provisioning.state import HomeState, IdentityState
from provisioning.state.home import identity_id

from ..diagnose import SECRET_VARIABLES, Context
from .endpoint import endpoint_info
from .report import Row, scrub


@dataclass(frozen=True)
class VerifyOptions:
    """What a run was asked, resolved (``verify()``'s arguments after the defaults)."""

    config: Config
    cloud: Cloud
    host: str  # this host's name as in attach_to
    config_path: str | None = None
    identity: str | None = None  # one MI selector for every customer
    identities: Mapping[str, str] = field(default_factory=dict)  # identity name -> selector
    app_ids: Mapping[str, str] = field(default_factory=dict)  # app key -> appId
    probe: bool = False
    kit_dir: str = "kits"
    environ: Mapping[str, str] = field(default_factory=dict)
    on_step: Callable[[Row], None] | None = None


@dataclass(frozen=True)
class Chain:
    """One customer's chain as verified: the customer, its app, and the identity (config
    name) whose token is presented."""

    customer: Customer
    app: App
    identity: str | None


@dataclass
class MiResult:
    """One MI token taken on this host (its claims, never the token), shared by every
    customer whose app trusts that identity."""

    selector: str | None
    assertion: Any
    claims: dict[str, Any] | None = None
    error: BaseException | None = None
    seconds: float = 0.0
    first_customer: str | None = None  # the customer whose row took (and timed) it


class Session:
    def __init__(self, options: VerifyOptions, home: HomeState) -> None:
        self.options = options
        self.home_state = home  # what the home admin's credential could read (maybe nothing)
        self.config = options.config
        self.cloud = options.cloud
        self.host = options.host
        self.home = options.config.home.tenant_id
        self.endpoint = endpoint_info(options.environ)
        kind = self.host_kind()
        if kind is not None:
            self.endpoint["host_kind"] = f"{kind.label} ({kind.full_type})"
        self.mi: dict[str | None, MiResult] = {}
        self.creds: list[Any] = []
        self.rows: list[Row] = []

    def endpoint_words(self) -> str:
        """The host kind and the endpoint that answers, for a row: "Container App
        (Microsoft.App/containerApps), App Service identity endpoint"."""
        kind = self.endpoint.get("host_kind")
        return f"{kind}, {self.endpoint['kind']}" if kind else str(self.endpoint["kind"])

    def add(self, row: Row) -> Row:
        """Record ``row`` (scrubbed) and report it to ``on_step``."""
        row.detail = scrub(row.detail)
        row.note = scrub(row.note) if row.note else None
        row.data = scrub(row.data)
        self.rows.append(row)
        if self.options.on_step is not None:
            self.options.on_step(row)
        return row

    def app_id(self, app: App) -> str | None:
        read = self.home_state.apps.get(app.key)
        return self.options.app_ids.get(app.key) or (read and read.app_id) or app.adopt_app_id

    def identity(self, name: str | None) -> IdentityState | None:
        """The identity as ARM has it (``None``: not read)."""
        return self.home_state.identities.get(name or "")

    def fics(self, app: App) -> list[dict[str, Any]] | None:
        """The app's federated credentials (``None``: not read)."""
        found = self.home_state.fics.get(app.key)
        return None if found is None else [{"name": f.name, **f.fields()} for f in found]

    def app_in_home(self, app: App) -> bool | None:
        if app.key in self.home_state.apps:
            return True
        return False if f"home.app[{app.key}]" in self.home_state.absent else None

    def host_id(self) -> armid.ResourceId | None:
        """This host's ARM id, when a declared identity names it (``attach_to`` or
        ``system_assigned_of``)."""
        for ident in self.config.home.identities:
            for h in ident.host_ids:
                if is_host(h, self.host):
                    return h
        return None

    def host_kind(self) -> HostKind | None:
        rid = self.host_id()
        return lookup(rid) if rid is not None else None

    def attached(self, ident: str | None) -> bool | None:
        """Whether this host carries ``ident`` now (``None``: not known); for a host's
        system-assigned identity, whether it is on."""
        cfg = find_identity(self.config, ident)
        host = next((h for h in cfg.host_ids if is_host(h, self.host)), None) if cfg else None
        if cfg is None or host is None:
            return None
        if cfg.system_assigned:
            block = self.home_state.hosts.get(str(host).lower())
            return None if block is None else block.system
        return self.home_state.attached(cfg.name, host)

    def context(self, chain: Chain, **kw: Any) -> Context:
        """Everything known about a hop of ``chain``; ``kw`` adds or overrides fields."""
        customer, app, ident = chain.customer, chain.app, chain.identity
        opts = self.options
        read = self.identity(ident)
        ids = read.ids() if read else {}
        identity_cfg = find_identity(self.config, ident)
        base: dict[str, Any] = {
            "cloud": self.cloud,
            "config_path": opts.config_path,
            "kit_dir": opts.kit_dir,
            "home_tenant": self.home,
            "tenant": customer.tenant,
            "customer": customer.name,
            "app_key": app.key,
            "app_id": self.app_id(app),
            "app_name": self._app_name(app),
            "redirect_uri": app.redirect_uris[0] if app.redirect_uris else None,
            "graph_permissions": bool(app.graph_app_roles),
            "home_sp_declared": app.service_principal,
            "app_in_home": self.app_in_home(app),
            "identity": ident,
            "identity_client_id": ids.get("client_id")
            or opts.identities.get(ident or "")
            or opts.identity,
            "identity_principal_id": ids.get("principal_id"),
            "identity_resource_id": ids.get("resource_id") or identity_rid(self.config, ident),
            "other_identities": {
                k: v.ids() for k, v in self.home_state.identities.items() if k != ident
            },
            "host": self.host,
            "endpoint_kind": self.endpoint["kind"],
            "declared_hosts": [host_label(h) for h in identity_cfg.host_ids]
            if identity_cfg
            else [],
            "attached": self.attached(ident),
            "host_kind": kind.label if (kind := self.host_kind()) else None,
            "system_assigned_of": identity_cfg.system_assigned_of if identity_cfg else None,
            "fics": self.fics(app),
            "expected_issuer": self.cloud.fic_issuer(self.home),
            "expected_audience": self.cloud.exchange_audience,
            "roles": [(role_name(g), g.scope) for g in customer.roles],
            "graph_roles": list(customer.graph_app_roles),
            "environ_names": [n for n in SECRET_VARIABLES if opts.environ.get(n)],
        }
        base.update(kw)
        return Context(**base)

    def _app_name(self, app: App) -> str:
        read = self.home_state.apps.get(app.key)
        return (read.display_name if read else "") or app.display_name

    def close(self) -> None:
        """Close every credential the run opened (their HTTP pools), quietly."""
        for c in self.creds:
            for inner in c._by_tenant.values():
                try:
                    inner.close()
                except Exception:
                    pass
        for res in self.mi.values():
            if res.assertion is not None:
                try:
                    res.assertion.close()
                except Exception:
                    pass


# ---- the config, looked up ------------------------------------------------------------


def find_identity(config: Config, name: str | None) -> Identity | None:
    if not name:
        return None
    for i in config.home.identities:
        if i.name.casefold() == name.casefold():
            return i
    return None


def identity_rid(config: Config, name: str | None) -> str | None:
    ident = find_identity(config, name)
    if ident is None:
        return None
    return identity_id(config.home.subscription_id, ident)


def role_name(grant: Any) -> str:
    rd = grant.role_def
    return rd.name if rd else grant.role


def is_dcr(scope: str) -> bool:
    rid = armid.try_parse(scope)
    return bool(rid and rid.full_type.lower() == "microsoft.insights/datacollectionrules")
