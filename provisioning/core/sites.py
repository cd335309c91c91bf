"""A SharePoint site named by URL or by site id, parsed once; its Microsoft Graph address
is computed here and nowhere else.

Graph addresses a site by id (``GET /sites/{hostname},{site-collection-id},{web-id}``) or by
its URL (``GET /sites/{hostname}:/{server-relative-path}``, microsoft-graph-docs-contrib
``api-reference/v1.0/api/site-getbypath.md``). A URL is checked the way ``armid`` checks a
scope, so that the site resolved is byte-for-byte the site named: https only, no user
information, port, query or fragment, no empty, ``.`` or ``..`` segment, no encoded
separator, no control or white-space character, and no ``:`` (Graph's path-addressing
delimiter). Percent escapes in the path are decoded; ``graph_path`` escapes every segment
again, once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from provisioning.core.text import has_unsafe

_GUID = r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}"
_HOST = r"(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
SITE_ID_RE = re.compile(rf"^({_HOST}),({_GUID}),({_GUID})$")
_HOST_RE = re.compile(rf"^{_HOST}$")
EXPECTED = (
    "https://<tenant>.sharepoint.com/sites/<name> (the site's URL) or "
    "<hostname>,<site-collection-id>,<web-id> (its Graph id)"
)


class SiteError(ValueError):
    """Not a site URL or site id; the message says why."""


@dataclass(frozen=True)
class SiteRef:
    """A site: ``site_id`` set when named by id, else ``host`` and the decoded ``segments``."""

    host: str
    segments: tuple[str, ...] = ()
    site_id: str | None = None

    def __str__(self) -> str:
        """The canonical form: the id, or the URL with each segment escaped once."""
        if self.site_id is not None:
            return self.site_id
        return f"https://{self.host}" + "".join(f"/{_seg(s)}" for s in self.segments)

    @property
    def key(self) -> tuple[str, ...]:
        """What two references to one site share (SharePoint paths ignore case)."""
        if self.site_id is not None:
            return ("id", self.site_id)
        return ("url", self.host, *(s.casefold() for s in self.segments))

    @property
    def is_url(self) -> bool:
        return self.site_id is None

    @property
    def graph_path(self) -> str:
        """The site's address below ``/v1.0``: ``sites/{id}`` or ``sites/{host}:/{path}``
        (the root site of a host: ``sites/{host}``)."""
        if self.site_id is not None:
            return f"sites/{quote(self.site_id, safe=',')}"
        if not self.segments:
            return f"sites/{self.host}"
        return f"sites/{self.host}:/" + "/".join(_seg(s) for s in self.segments)

    @property
    def label(self) -> str:
        """Short words for plans: the site's last path segment or its host."""
        if self.site_id is not None:
            return self.site_id.split(",", 1)[0]
        return self.segments[-1] if self.segments else self.host


def _seg(segment: str) -> str:
    return quote(segment, safe="")


def parse(value: str) -> SiteRef:
    """A site URL or site id; ``SiteError`` otherwise."""
    text = value.strip()
    if text != value or not text:
        raise SiteError("leading or trailing white space" if text else "empty")
    m = SITE_ID_RE.match(text)
    if m:
        return SiteRef(host=m.group(1).lower(), site_id=",".join(g.lower() for g in m.groups()))
    if has_unsafe(text) or any(ch.isspace() for ch in text):
        raise SiteError("control or white-space characters")
    parts = urlsplit(text)
    if parts.scheme.lower() != "https":
        raise SiteError("not an https URL or a site id")
    if parts.username or parts.password or parts.port is not None or "@" in parts.netloc:
        raise SiteError("a site URL has no user information or port")
    if parts.query or parts.fragment or "?" in text or "#" in text:
        raise SiteError("a site URL has no query ('?') or fragment ('#')")
    host = (parts.hostname or "").lower()
    if not _HOST_RE.match(host):
        raise SiteError(f"not a host name: {parts.netloc!r}")
    path = parts.path
    if "\\" in path:
        raise SiteError("backslash in the path")
    raw = path.split("/")[1:] if path else []
    if raw and raw[-1] == "":
        raw = raw[:-1]  # one trailing slash is the same site
    segments = []
    for seg in raw:
        low = seg.lower()
        if "%2f" in low or "%5c" in low:
            raise SiteError("an encoded '/' or '\\' in the path")
        decoded = unquote(seg)
        if decoded in ("", ".", ".."):
            raise SiteError("an empty, '.' or '..' path segment")
        if ":" in decoded:
            raise SiteError("':' in the path (Graph's path delimiter)")
        if has_unsafe(decoded) or any(ch.isspace() and ch != " " for ch in decoded):
            raise SiteError("control characters in the path")
        segments.append(decoded)
    return SiteRef(host=host, segments=tuple(segments))


def try_parse(value: str) -> SiteRef | None:
    try:
        return parse(value)
    except SiteError:
        return None
