"""What the directory's models share: constants, the store's collections and indexes, the
sandbox clock, request-body validation against the CSDL, and small helpers."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import secrets
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...store import Doc
from .. import csdl
from ..exceptions import GraphError, bad_value

if TYPE_CHECKING:
    from ...world import World

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
ARM_APP_ID = "797f4846-ba00-4fd7-ba43-dac1f8f63013"
MONITOR_APP_ID = "e933bd07-d2ee-4f1d-933c-3752b819567b"  # Azure Monitor Control Service
EXCHANGE_APP_ID = "fb60f99c-7a34-4190-8149-302f77469936"  # api://AzureADTokenExchange
MICROSOFT_TENANT = (
    "f8cdef31-a31e-4b4a-93e4-5f571e91255a"  # appOwnerOrganizationId of first-party apps
)

SIGN_IN_AUDIENCES = (
    "AzureADMyOrg",
    "AzureADMultipleOrgs",
    "AzureADandPersonalMicrosoftAccount",
    "PersonalMicrosoftAccount",
)
MULTI_TENANT = ("AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount")
MAX_FICS = 20
FIC_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$")
DEFAULT_ACCESS_ROLE = "00000000-0000-0000-0000-000000000000"

_DATA = Path(__file__).resolve().parents[2] / "data"


def iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def public(doc: Doc) -> Doc:
    """The wire view: internal fields stripped."""
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def _hash_secret(secret: str, salt: str) -> str:
    return hashlib.sha256((salt + secret).encode()).hexdigest()


def _new_secret() -> str:
    """Shaped like an Entra client secret: 3 chars, ``8Q~``, 34 more (40 in all)."""
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.~"
    head = "".join(secrets.choice(alphabet[:62]) for _ in range(3))
    return head + "8Q~" + "".join(secrets.choice(alphabet) for _ in range(34))


def _assignment_id(principal_id: str) -> str:
    """appRoleAssignment ids are base64url strings derived from the principal's id."""
    raw = uuid.UUID(principal_id).bytes_le + uuid.uuid4().bytes
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _norm_uri(value: str) -> str:
    return value.strip().rstrip("/").lower()


def _spns(app: Doc) -> list[str]:
    out = [app["appId"]]
    for u in app.get("identifierUris") or []:
        if u not in out:
            out.append(u)
    return out


def _merge(target: Doc, patch: Doc) -> None:
    """PATCH semantics: complex values merge, collections and primitives replace."""
    for k, v in patch.items():
        if isinstance(v, dict) and isinstance(target.get(k), dict):
            _merge(target[k], v)
        else:
            target[k] = v


class DirectoryModel:
    APPS = "applications"
    SPS = "servicePrincipals"
    FICS = "federatedIdentityCredentials"
    ARA = "appRoleAssignments"
    SITES = "sites"

    def __init__(self, world: World) -> None:
        self.world = world
        self.store = world.store
        self._app_idx: dict[str, str] = {}  # appId -> object id (verified on use)
        self._sp_idx: dict[tuple[str, str], str] = {}  # (tid, appId) -> object id
        self._graph_roles: list[dict[str, Any]] | None = None

    # ---- helpers ---------------------------------------------------------------------------
    def now(self) -> float:
        return self.world.now()

    def _tenant_doc(self, tid: str) -> Doc:
        t = self.world.tenants.get(tid)
        if t is None:
            raise GraphError(400, "Request_BadRequest", f"Tenant '{tid}' not found.")
        return t

    @staticmethod
    def blank(type_name: str) -> Doc:
        """Every declared property of an entity type at Graph's default (streams left out)."""
        spec = csdl.type_of(type_name)
        return {k: csdl.default_of(t) for k, (t, _n) in spec["props"].items() if t != "Edm.Stream"}

    def _validate_body(self, type_name: str, body: Any, resource: str) -> Doc:
        if not isinstance(body, dict):
            raise GraphError(400, "BadRequest", "Empty Payload. JSON content expected.")
        spec = csdl.type_of(type_name)
        clean: Doc = {}
        for k, v in body.items():
            if k.startswith("@odata.") or "@odata." in k:
                continue
            if k not in spec["props"]:
                raise GraphError(400, "Request_BadRequest", f"Invalid property '{k}'.")
            edm, nullable = spec["props"][k]
            err = csdl.check_value(edm, v, k)
            if err:
                raise GraphError(400, "BadRequest", f"Invalid value for property '{k}': {err}.")
            if v is None and not nullable:
                raise bad_value(k, resource)
            clean[k] = v
        return clean

    if TYPE_CHECKING:  # what the parts use of each other (``Directory`` is their union)

        def app(self, object_id: str) -> Doc | None: ...
        def app_by_app_id(self, app_id: str) -> Doc | None: ...
        def create_app(
            self,
            tid: str,
            body: Any,
            *,
            caller: dict[str, Any] | None = None,
            unique_name: str | None = None,
        ) -> Doc: ...
        def add_password(self, app: Doc, body: Any) -> Doc: ...
        def sp(self, tid: str, object_id: str) -> Doc | None: ...
        def sp_by_app_id(self, tid: str, app_id: str) -> Doc | None: ...
        def sp_for_resource(self, tid: str, resource: str) -> Doc | None: ...
        def ensure_first_party(self, tid: str) -> None: ...
        def can_instantiate(self, tid: str, app_id: str) -> Doc | dict[str, Any]: ...
        def create_sp(
            self,
            tid: str,
            body: Any,
            *,
            caller: dict[str, Any] | None = None,
            app_id: str | None = None,
        ) -> Doc: ...
        def delete_sp(self, tid: str, object_id: str) -> bool: ...
        def _first_party_sp(self, tid: str, spec: dict[str, Any]) -> Doc: ...
        def _sp_from_app(self, tid: str, app: Doc) -> Doc: ...
        def _put_sp(self, doc: Doc) -> Doc: ...
        def deleted_holding_unique_name(self, tid: str, name: str) -> Doc | None: ...
