"""Scoped grants in the sandbox's Graph: SharePoint sites named by path, Sites.Selected
enforcement for reads and writes, and ``roleManagement/directory`` (built-in definitions with
Microsoft's template ids, assignments, and what a directory role lets its holder read).

Raw HTTP with real tokens (from the sandbox's Entra, through azure-identity) where the wire
format is the point; the unmodified msgraph-sdk where a client's view is.
"""

from __future__ import annotations

from typing import Any

from test_graph import G, assert_error, credential, make_client, run, sdk

MARKETING = "/sites/fabrikam.sharepoint.com:/sites/Marketing"
FINANCE = "/sites/fabrikam.sharepoint.com:/sites/Finance"
DIRECTORY_READERS = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"
USER_ADMINISTRATOR = "fe930be7-5e62-47db-91af-98c3a49a38b1"


def _grant(admin: G, site_id: str, app_id: str, role: str) -> dict[str, Any]:
    body = {"roles": [role], "grantedToIdentities": [{"application": {"id": app_id}}]}
    return admin.ok(admin.post(f"/sites/{site_id}/permissions", body), 201)


def test_a_site_is_found_by_its_path(sandbox_env: Any) -> None:
    admin = G(sandbox_env, "fabrikam")
    by_path = admin.ok(admin.get(MARKETING))
    assert by_path["webUrl"] == "https://fabrikam.sharepoint.com/sites/Marketing"
    by_id = admin.ok(admin.get(f"/sites/{by_path['id']}"))
    assert by_id["id"] == by_path["id"]
    assert admin.ok(admin.get(MARKETING.replace("Marketing", "marketing")))["id"] == by_path["id"]
    # the path may go on after a closing ':'
    perms = admin.ok(admin.get(f"{MARKETING}:/permissions"))
    assert "value" in perms
    assert_error(admin.get("/sites/fabrikam.sharepoint.com:/sites/Nowhere"), 404, "itemNotFound")


def test_sites_selected_reads_only_the_granted_site_and_writes_only_with_write(
    sandbox_env: Any,
) -> None:
    sb = sandbox_env
    admin = G(sb, "fabrikam")
    marketing = admin.ok(admin.get(MARKETING))
    client = make_client(sb, "fabrikam", ["Sites.Selected"])
    g = client["g"]()
    assert_error(g.get(MARKETING), 403, "accessDenied")
    perm = _grant(admin, marketing["id"], client["app"]["appId"], "read")
    assert perm["grantedToIdentitiesV2"][0]["application"]["id"] == client["app"]["appId"]

    assert g.ok(g.get(MARKETING))["id"] == marketing["id"]
    assert_error(g.get(FINANCE), 403, "accessDenied")  # another site stays closed
    lists = g.ok(g.get(f"/sites/{marketing['id']}/lists"))["value"]
    assert [x["displayName"] for x in lists] == ["Documents"]
    items = f"/sites/{marketing['id']}/lists/{lists[0]['id']}/items"
    assert_error(g.post(items, {"fields": {"Title": "x"}}), 403, "accessDenied")  # read: no write

    changed = admin.ok(
        admin.patch(f"/sites/{marketing['id']}/permissions/{perm['id']}", {"roles": ["write"]})
    )
    assert changed["roles"] == ["write"]
    made = g.ok(g.post(items, {"fields": {"Title": "written"}}), 201)
    assert made["fields"]["Title"] == "written"
    assert [i["id"] for i in g.ok(g.get(items))["value"]] == [made["id"]]

    # tenant-wide: Sites.Read.All reads every site but writes none; ReadWrite.All writes
    reader = make_client(sb, "fabrikam", ["Sites.Read.All"])["g"]()
    assert reader.ok(reader.get(FINANCE))["displayName"] == "Finance"
    assert_error(reader.post(items, {"fields": {"Title": "no"}}), 403, "accessDenied")
    writer = make_client(sb, "fabrikam", ["Sites.ReadWrite.All"])["g"]()
    writer.ok(writer.post(items, {"fields": {"Title": "yes"}}), 201)

    assert admin.delete(f"/sites/{marketing['id']}/permissions/{perm['id']}").status_code == 204
    assert_error(g.get(MARKETING), 403, "accessDenied")


def test_site_permission_roles_and_bodies(sandbox_env: Any) -> None:
    admin = G(sandbox_env, "fabrikam")
    site = admin.ok(admin.get(FINANCE))["id"]
    app = make_client(sandbox_env, "fabrikam", ["Sites.Selected"])["app"]["appId"]
    manage = _grant(admin, site, app, "manage")
    assert manage["roles"] == ["manage"]
    # the newer single form (grantedToV2, list-post-permissions) is accepted too
    other = make_client(sandbox_env, "fabrikam", ["Sites.Selected"])["app"]["appId"]
    single = {"roles": ["read"], "grantedToV2": {"application": {"id": other}}}
    admin.ok(admin.post(f"/sites/{site}/permissions", single), 201)
    bad = {"roles": ["admin"], "grantedToIdentities": [{"application": {"id": app}}]}
    assert_error(admin.post(f"/sites/{site}/permissions", bad), 400, "invalidRequest")
    assert_error(
        admin.patch(f"/sites/{site}/permissions/{manage['id']}", {"roles": ["read"], "x": 1}),
        400,
        "invalidRequest",
    )
    # managing permissions needs Sites.FullControl.All: Sites.ReadWrite.All is refused
    writer = make_client(sandbox_env, "fabrikam", ["Sites.ReadWrite.All"])["g"]()
    assert_error(writer.get(f"/sites/{site}/permissions"), 403, "accessDenied")


def test_built_in_role_definitions_carry_microsofts_template_ids(sandbox_env: Any) -> None:
    admin = G(sandbox_env, "fabrikam")
    defs = admin.ok(admin.get("/roleManagement/directory/roleDefinitions"))["value"]
    by_name = {d["displayName"]: d for d in defs}
    readers = by_name["Directory Readers"]
    assert readers["id"] == readers["templateId"] == DIRECTORY_READERS
    assert readers["isBuiltIn"] is True
    assert (
        "microsoft.directory/users/standard/read"
        in (readers["rolePermissions"][0]["allowedResourceActions"])
    )
    user_admin = admin.ok(
        admin.get(
            "/roleManagement/directory/roleDefinitions",
            params={"$filter": "displayName eq 'User Administrator'"},
        )
    )["value"]
    assert [d["id"] for d in user_admin] == [USER_ADMINISTRATOR]
    one = admin.ok(admin.get(f"/roleManagement/directory/roleDefinitions/{DIRECTORY_READERS}"))
    assert one["displayName"] == "Directory Readers"
    assert_error(
        admin.get("/roleManagement/directory/roleDefinitions/00000000-0000-0000-0000-000000000001"),
        404,
        "Request_ResourceNotFound",
    )


def test_role_assignments_as_graph_answers_them(sandbox_env: Any) -> None:
    sb = sandbox_env
    admin = G(sb, "fabrikam")
    client = make_client(sb, "fabrikam", [])
    sp = client["sp"]["id"]
    g = client["g"]()
    assert_error(g.get("/organization"), 403, "Authorization_RequestDenied")

    path = "/roleManagement/directory/roleAssignments"
    body = {"principalId": sp, "roleDefinitionId": DIRECTORY_READERS, "directoryScopeId": "/"}
    made = admin.ok(admin.post(path, body), 201)
    assert made["@odata.context"].endswith("#roleManagement/directory/roleAssignments/$entity")
    assert (made["principalId"], made["roleDefinitionId"], made["directoryScopeId"]) == (
        sp,
        DIRECTORY_READERS,
        "/",
    )
    assert_error(admin.post(path, body), 400, "Request_BadRequest", "A conflicting object")
    mine = admin.ok(admin.get(path, params={"$filter": f"principalId eq '{sp}'"}))["value"]
    assert [a["id"] for a in mine] == [made["id"]]
    # the role takes effect: Directory Readers reads the organization and role assignments
    g = client["g"]()
    assert g.ok(g.get("/organization"))["value"][0]["id"] == admin.tid
    g.ok(g.get(path, params={"$filter": f"principalId eq '{sp}'"}))
    assert_error(g.post(path, body), 403, "Authorization_RequestDenied")  # reading only

    au = {**body, "directoryScopeId": "/administrativeUnits/5D107BBA-d8e2-4e13-b6ae-884be90e5d1a"}
    in_au = admin.ok(admin.post(path, au), 201)
    assert in_au["directoryScopeId"] == "/administrativeUnits/5d107bba-d8e2-4e13-b6ae-884be90e5d1a"
    assert in_au["id"] != made["id"]
    assert_error(
        admin.post(path, {**body, "directoryScopeId": "/subscriptions/x"}),
        400,
        "Request_BadRequest",
    )
    unknown = {**body, "principalId": "00000000-0000-0000-0000-0000000000aa"}
    assert_error(admin.post(path, unknown), 404, "Request_ResourceNotFound")

    assert admin.delete(f"{path}/{made['id']}").status_code == 204
    assert_error(admin.get(f"{path}/{made['id']}"), 404, "Request_ResourceNotFound")
    assert_error(admin.delete(f"{path}/{made['id']}"), 404, "Request_ResourceNotFound")
    # deleting the service principal takes its remaining assignments with it
    admin.ok(admin.delete(f"/servicePrincipals/{sp}"), 204)
    assert admin.ok(admin.get(path, params={"$filter": f"principalId eq '{sp}'"}))["value"] == []


def test_the_sdk_reads_and_writes_role_assignments(sandbox_env: Any) -> None:
    sb = sandbox_env
    sp = make_client(sb, "fabrikam", [])["sp"]["id"]

    async def main() -> None:
        from msgraph.generated.models.unified_role_assignment import UnifiedRoleAssignment

        client = sdk(sb, credential(sb, "fabrikam"))
        ra = client.role_management.directory.role_assignments
        made = await ra.post(
            UnifiedRoleAssignment(
                principal_id=sp, role_definition_id=DIRECTORY_READERS, directory_scope_id="/"
            )
        )
        assert made is not None and made.directory_scope_id == "/"
        page = await ra.get()
        assert made.id in [a.id for a in page.value]
        await ra.by_unified_role_assignment_id(made.id).delete()

    run(main())
