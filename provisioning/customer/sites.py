"""SharePoint site permissions for our app (``Sites.Selected`` grants), exactly as the kit
lists them: one permission per site, with the kit's role.

Graph v1.0, microsoft-graph-docs-contrib ``api-reference/v1.0/api/``:
``site-getbypath.md`` (``GET /sites/{hostname}:/{path}``: the admin's token resolves a site
named by URL), ``site-list-permissions.md`` (``GET /sites/{id}/permissions``: observe),
``site-post-permissions.md`` (``POST``: grant; application permission Sites.FullControl.All),
``site-update-permission.md`` (``PATCH``: another role), ``site-delete-permission.md``
(``DELETE``: remove). A permission is the app's when ``grantedToIdentitiesV2`` (or the
deprecated ``grantedToIdentities``) names its appId. The create body carries
``grantedToIdentities``, the form ``site-post-permissions.md`` documents for the request.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from provisioning.core.engine import Context, Task
from provisioning.core.errors import TaskError, is_not_found, status_of
from provisioning.core.plan import Action, Change, FieldChange
from provisioning.kit.model import Kit, KitSitePermission

from . import label, privilege


class SitePermissionTask(Task):
    kind = "site permission"

    def __init__(self, kit: Kit, perm: KitSitePermission, *, remove: bool = False) -> None:
        self.kit = kit
        self.perm = perm
        self.ref = perm.ref
        self.remove = remove
        self.stage = 0 if remove else 1
        self.address = f"{label(kit)}.site[{self.ref.label}]"
        self.site_id: str | None = None
        self.found: list[tuple[str, list[str]]] = []  # (permission id, roles) naming our app

    def _site(self, ctx: Context) -> Any:
        """The site by its address: the path form (``{host}:/{path}``) holds ``/`` and ``:``,
        which the SDK's ``{site-id}`` parameter would escape, so the URL is given whole."""
        graph = ctx.clients.graph
        url = f"{graph.request_adapter.base_url}/{self.ref.graph_path}"
        return graph.sites.by_site_id("-").with_url(url)

    def _permissions(self, ctx: Context) -> Any:
        assert self.site_id is not None
        return ctx.clients.graph.sites.by_site_id(self.site_id).permissions

    async def observe(self, ctx: Context) -> None:
        self.site_id, self.found = None, []
        try:
            site = await self._site(ctx).get()
        except Exception as e:
            if is_not_found(e):
                raise TaskError(
                    self.address,
                    f"SharePoint has no site {self.perm.site} in tenant "
                    f"{self.kit.customer.tenant}: check the URL with the provider",
                ) from None
            if status_of(e) == 403:
                raise TaskError(self.address, _denied(self.kit, "read the site")) from None
            raise
        self.site_id = str(site.id) if site and site.id else None
        if self.site_id is None:
            raise TaskError(self.address, f"Graph returned no id for site {self.perm.site}")
        try:
            page = await self._permissions(ctx).get()
        except Exception as e:
            if status_of(e) == 403:
                raise TaskError(self.address, _denied(self.kit, "read its permissions")) from None
            raise
        app_id = self.kit.app_id.lower()
        for p in (page.value or []) if page else []:
            if _names_app(p, app_id) and p.id:
                self.found.append((str(p.id), [str(r) for r in p.roles or []]))

    @property
    def _privileged(self) -> str | None:
        if not privilege.site_role_is_privileged(self.perm.role):
            return None
        return privilege.warning(
            f"fullcontrol on {self.perm.site} lets the app grant anyone access to the site",
            self.perm.allow_privileged,
        )

    def changes(self, ctx: Context) -> list[Change]:
        site = FieldChange("site", None, self.perm.site)
        if self.remove:
            if not self.found:
                return [Change(self.address, self.kind, Action.NOOP)]
            return [
                Change(
                    self.address,
                    self.kind,
                    Action.DELETE,
                    [FieldChange("site", self.perm.site, None)]
                    + [FieldChange("role", ",".join(roles), None) for _, roles in self.found],
                    apply=partial(self._delete, ctx, [pid for pid, _ in self.found]),
                )
            ]
        want = self.perm.role
        if any(roles == [want] for _, roles in self.found):
            out = [Change(self.address, self.kind, Action.NOOP)]
            others = [pid for pid, roles in self.found if roles != [want]]
            if others:
                out.append(
                    Change(
                        self.address,
                        self.kind,
                        Action.NOOP,
                        note=f"{len(others)} other permission(s) of this app on the site, "
                        f"made outside this kit, were left alone: {', '.join(others)}",
                    )
                )
            return out
        if self.found:
            pid, roles = self.found[0]
            return [
                Change(
                    self.address,
                    self.kind,
                    Action.UPDATE,
                    [site, FieldChange("role", ",".join(roles), want)],
                    note=self.perm.why,
                    apply=partial(self._update, ctx, pid),
                    privileged=self._privileged,
                )
            ]
        return [
            Change(
                self.address,
                self.kind,
                Action.CREATE,
                [site, FieldChange("role", None, want), FieldChange("app", None, self.kit.app_id)],
                note=self.perm.why,
                apply=partial(self._grant, ctx),
                privileged=self._privileged,
            )
        ]

    async def _grant(self, ctx: Context) -> None:
        from msgraph.generated.models.identity import Identity
        from msgraph.generated.models.identity_set import IdentitySet
        from msgraph.generated.models.permission import Permission

        app = Identity(id=self.kit.app_id, display_name=self.kit.home.app.display_name)
        body = Permission(
            roles=[self.perm.role], granted_to_identities=[IdentitySet(application=app)]
        )
        try:
            await self._permissions(ctx).post(body)
        except Exception as e:
            if status_of(e) == 403:
                raise TaskError(
                    self.address, _denied(self.kit, "grant a site permission")
                ) from None
            raise

    async def _update(self, ctx: Context, pid: str) -> None:
        from msgraph.generated.models.permission import Permission

        try:
            await (
                self._permissions(ctx)
                .by_permission_id(pid)
                .patch(Permission(roles=[self.perm.role]))
            )
        except Exception as e:
            if status_of(e) == 403:
                raise TaskError(
                    self.address, _denied(self.kit, "change a site permission")
                ) from None
            raise

    async def _delete(self, ctx: Context, pids: list[str]) -> None:
        for pid in pids:
            try:
                await self._permissions(ctx).by_permission_id(pid).delete()
            except Exception as e:
                if status_of(e) == 403:
                    raise TaskError(
                        self.address, _denied(self.kit, "remove a site permission")
                    ) from None
                if not is_not_found(e):
                    raise

    def verified(self, ctx: Context) -> str | None:
        roles = ", ".join(",".join(r) for _, r in self.found) or "none"
        return f"{self.address}: {roles}"


def _names_app(p: Any, app_id: str) -> bool:
    """Whether a site permission is granted to the application ``app_id``."""
    idents = list(p.granted_to_identities_v2 or []) + list(p.granted_to_identities or [])
    if p.granted_to_v2 is not None:
        idents.append(p.granted_to_v2)
    for ident in idents:
        application = getattr(ident, "application", None)
        if application is not None and str(application.id or "").lower() == app_id:
            return True
    return False


def _denied(kit: Kit, what: str) -> str:
    return (
        f"permission denied to {what} in tenant {kit.customer.tenant}: managing site "
        "permissions needs Microsoft Graph Sites.FullControl.All (an application, or a "
        "SharePoint Administrator signed in with Connect-MgGraph -Scopes Sites.FullControl.All, "
        "as the kit's scoped-grants.ps1 does)"
    )
