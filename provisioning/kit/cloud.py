"""Which cloud a kit is applied against: never the kit's say alone.

A kit names its cloud. For a cloud xtenant knows (public, usgov, china) every endpoint comes
from xtenant's own profile, and a kit whose endpoints differ is refused, naming the field:
otherwise a kit could send the admin's tokens, or their client secret, to a host of its
choosing. A custom cloud is accepted only as the profile the admin running the command
passes with ``--cloud FILE`` (or ``XTENANT_CLOUD``), and the kit must agree with it too.
"""

from __future__ import annotations

from provisioning.config import Issue
from provisioning.core import clouds
from provisioning.core.clouds import Cloud

from .model import Kit, KitError

COMPARED = (
    "authority",
    "arm",
    "graph",
    "exchange_audience",
    "arm_audience",
    "graph_audience",
    "monitor_audience",
)


def _norm(url: str) -> str:
    return url.strip().rstrip("/").lower()


def cloud_for(kit: Kit, chosen: Cloud | None, *, source: str | None = None) -> Cloud:
    """The profile to apply ``kit`` with: ``chosen`` (the admin's ``--cloud``) or, for a
    known cloud, xtenant's own. ``KitError`` when the kit's endpoints disagree with it."""
    name = kit.cloud.name
    if chosen is None:
        if name.lower() not in clouds.BUILTIN:
            raise KitError(
                [
                    Issue(
                        "cloud.name",
                        f"{name!r} is not a cloud xtenant knows, and the endpoints inside a kit "
                        "are never trusted on their own: if your tenant really is in this cloud, "
                        "pass its profile yourself with --cloud FILE",
                        source,
                        found=name,
                        expected=" | ".join(clouds.BUILTIN),
                    )
                ]
            )
        chosen = clouds.resolve(name.lower())
    problems = [
        Issue(
            f"cloud.{field}",
            f"differs from cloud {chosen.name!r} as xtenant knows it: a kit cannot choose where "
            "your requests and tokens go",
            source,
            found=str(getattr(kit.cloud, field)),
            expected=str(getattr(chosen, field)),
        )
        for field in COMPARED
        if _norm(str(getattr(kit.cloud, field))) != _norm(str(getattr(chosen, field)))
    ]
    if problems:
        raise KitError(problems)
    return chosen
