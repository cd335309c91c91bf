"""Tasks on a customer (resource) tenant, run with the customer admin's own credentials
from a kit: the app's service principal (consent), Graph app-role grants, RBAC."""

from __future__ import annotations

from provisioning.core.engine import Task

from .spec import CustomerSpec


def customer_tasks(spec: CustomerSpec, *, remove: bool = False) -> list[Task]:
    from .grants import GraphGrantsTask
    from .rbac import RoleAssignmentTask
    from .service_principal import CustomerSpTask

    tasks: list[Task] = [CustomerSpTask(spec, remove=remove)]
    if spec.graph_roles:
        tasks.append(GraphGrantsTask(spec, remove=remove))
    tasks.extend(RoleAssignmentTask(spec, g, remove=remove) for g in spec.roles)
    return tasks
