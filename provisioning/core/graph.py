"""Small msgraph-sdk helpers: request options and the upsert header."""

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
