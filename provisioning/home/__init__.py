"""Tasks on the home tenant: identities, their attachments, the multi-tenant apps,
their federated credentials, and (optionally) the apps' home service principals."""

from __future__ import annotations

from provisioning.core.engine import Task

from ..config import Config


def home_tasks(config: Config) -> list[Task]:
    from .app import AppTask
    from .attach import AttachTask, PruneAttachmentsTask
    from .fic import FicsTask
    from .identity import IdentityTask
    from .service_principal import HomeServicePrincipalTask
    from .system_identity import SystemIdentityTask

    tasks: list[Task] = []
    for ident in config.home.identities:
        if ident.system_assigned:
            tasks.append(SystemIdentityTask(ident))
            continue
        tasks.append(IdentityTask(ident))
        tasks.extend(AttachTask(ident, host) for host in ident.attach_ids)
    for app in config.home.apps:
        tasks.append(AppTask(app))
        tasks.append(FicsTask(app))
        if app.service_principal:
            tasks.append(HomeServicePrincipalTask(app))
    tasks.append(PruneAttachmentsTask())
    return tasks
