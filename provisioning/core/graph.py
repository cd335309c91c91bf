"""Small msgraph-sdk helpers: request options, the upsert header, and reading every page."""

from __future__ import annotations

from typing import Any

CREATE_IF_MISSING = "create-if-missing"


def prefer_create_if_missing() -> Any:
    """Request configuration for Graph's upsert by alternate key (PATCH creates when missing)."""
    from kiota_abstractions.base_request_configuration import RequestConfiguration

    config: Any = RequestConfiguration()
    config.headers.add("Prefer", CREATE_IF_MISSING)
    return config


def graph_permission_hint(tenant: str) -> str:
    return (
        f"the admin needs the Application.ReadWrite.All Graph permission (or the Application "
        f"Administrator / Cloud Application Administrator role) in tenant {tenant}"
    )


# msgraph-sdk's alternate-key builders (``applications_with_unique_name`` and friends)
# write the key into the *client's* path_parameters dict and the URL is expanded only
# when the request is sent, so two concurrent lookups can fetch the same object. We
# build them through their public constructors with a private copy of the parameters.


def app_by_unique_name(graph: Any, unique_name: str) -> Any:
    from msgraph.generated.applications_with_unique_name.applications_with_unique_name_request_builder import (
        ApplicationsWithUniqueNameRequestBuilder,
    )

    return ApplicationsWithUniqueNameRequestBuilder(
        graph.request_adapter, _params(graph), unique_name
    )


def app_by_app_id(graph: Any, app_id: str) -> Any:
    from msgraph.generated.applications_with_app_id.applications_with_app_id_request_builder import (
        ApplicationsWithAppIdRequestBuilder,
    )

    return ApplicationsWithAppIdRequestBuilder(graph.request_adapter, _params(graph), app_id)


def sp_by_app_id(graph: Any, app_id: str) -> Any:
    from msgraph.generated.service_principals_with_app_id.service_principals_with_app_id_request_builder import (
        ServicePrincipalsWithAppIdRequestBuilder,
    )

    return ServicePrincipalsWithAppIdRequestBuilder(graph.request_adapter, _params(graph), app_id)


def _params(graph: Any) -> dict[str, Any]:
    return {"baseurl": graph.request_adapter.base_url}


async def every_page(graph: Any, first: Any) -> list[Any]:
    """Every item of a Graph collection whose first page is ``first``: "When more results are
    available, the response includes an @odata.nextLink ... continue to make calls using the
    @odata.nextLink URL ... until it is no longer returned" (learn.microsoft.com/graph/paging),
    with msgraph-core's own ``PageIterator``."""
    if first is None:
        return []
    if not getattr(first, "odata_next_link", None):
        return list(first.value or [])
    from msgraph.generated.models.o_data_errors.o_data_error import ODataError
    from msgraph_core.tasks.page_iterator import PageIterator

    items: list[Any] = []

    def take(item: Any) -> bool:
        items.append(item)
        return True

    pages = PageIterator(
        first, graph.request_adapter, error_mapping={"4XX": ODataError, "5XX": ODataError}
    )
    await pages.iterate(take)
    return items


async def deleted_objects(graph: Any, kind: str) -> list[Any]:
    """The tenant's soft-deleted ``application``s or ``servicePrincipal``s (every page), where
    Entra keeps them for 30 days (graph/api/directory-deleteditems-list); [] when the caller
    may not read them."""
    from provisioning.core.errors import status_of

    items = graph.directory.deleted_items
    builder = items.graph_application if kind == "application" else items.graph_service_principal
    try:
        return await every_page(graph, await builder.get())
    except Exception as e:
        if status_of(e) in (401, 403):
            return []
        raise


async def restore_deleted(graph: Any, object_id: str) -> Any:
    """``POST /directory/deletedItems/{id}/restore``: the object comes back whole, same ids."""
    return await graph.directory.deleted_items.by_directory_object_id(object_id).restore.post()


def deleted_on(obj: Any) -> str:
    when = getattr(obj, "deleted_date_time", None)
    return when.strftime("%Y-%m-%d %H:%M UTC") if when is not None else "recently"
