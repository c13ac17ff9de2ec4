"""Response headers that keep a browser from being turned against the service (a security
review found the console sent none of them).

Every response: ``X-Content-Type-Options: nosniff`` (a JSON answer or an export is never run as
a script or rendered as HTML), ``X-Frame-Options: DENY`` (no page is framed by another site, so
no click on a framed console button is stolen) and ``Referrer-Policy: same-origin`` (links out of
the console do not carry declaration ids in their ``Referer``; same-origin posts keep theirs,
which the console's origin check may read).

Console pages also get a Content-Security-Policy that allows only the console's own script and
style files: no inline script, no other origin, no plugin, no framing, forms posting only to the
console itself. Injected markup, were any to slip past the templates' escaping, could run
nothing. The API's own ``/docs`` page (FastAPI's, which loads Swagger UI from a CDN) is left
without one.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CONSOLE_CSP", "SecurityHeaders", "content_disposition"]

CONSOLE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)

_EVERYWHERE = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
)


class SecurityHeaders:
    def __init__(self, app: ASGIApp, console_prefix: str = "/console") -> None:
        self.app = app
        self.console_prefix = console_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        console = path == self.console_prefix or path.startswith(self.console_prefix + "/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                added = [(k, v) for k, v in _EVERYWHERE if k not in present]
                if console and b"content-security-policy" not in present:
                    added.append((b"content-security-policy", CONSOLE_CSP.encode()))
                message["headers"] = [*message.get("headers", []), *added]
            await send(message)

        await self.app(scope, receive, with_headers)


def content_disposition(filename: str, kind: Literal["attachment", "inline"] = "attachment") -> str:
    """A ``Content-Disposition`` value for any file name (RFC 6266): a plain ASCII ``filename``
    for old clients (every other character, quotes and controls as ``_``) and the exact name as
    UTF-8 in ``filename*`` (RFC 5987), which current browsers prefer. A header is Latin-1 text,
    so a campaign named 阿克苏… in a bare ``filename`` used to fail the response with a 500."""
    fallback = (
        "".join(c if " " <= c < "\x7f" and c not in '"\\;' else "_" for c in filename).strip()
        or "download"
    )
    encoded = quote(filename, safe="")
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
