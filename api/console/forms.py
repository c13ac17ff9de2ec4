"""Reading the console's HTML forms (``application/x-www-form-urlencoded``, UTF-8).

Parsed here rather than with FastAPI's ``Form()`` so that a bad form renders a page, not JSON, and
the project needs no multipart parser. Fields stay strings: each action validates them with the
API's own body model (``api.schemas``), so the console accepts exactly what the API accepts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import Depends, HTTPException, Request, status

from api.console.auth import ConsoleActorDep, check_origin, verify_csrf
from api.deps import SettingsDep

__all__ = ["Form", "FormDep", "PostedForm", "read_form"]

#: Largest form body accepted (a meeting page with a few hundred rows stays far below it).
MAX_FORM_BYTES = 512 * 1024
MAX_FIELDS = 5000


@dataclass(frozen=True)
class Form:
    fields: dict[str, list[str]] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[0].strip() if values else default

    def all(self, name: str) -> list[str]:
        return [v.strip() for v in self.fields.get(name, []) if v.strip()]

    def optional(self, name: str) -> str | None:
        """The value, or None when the field is missing or blank."""
        return self.get(name) or None

    def codes(self, name: str) -> list[str]:
        """Every value of a repeated field, plus comma- or space-separated codes typed in."""
        out: list[str] = []
        for value in self.all(name):
            for part in value.replace("，", ",").replace(",", " ").split():
                if part not in out:
                    out.append(part)
        return out


async def read_form(request: Request) -> Form:
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "需要表单提交 / a form post is expected"
        )
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "表单过大 / the form is too large")
    try:
        text = body.decode("utf-8")
        fields = parse_qs(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError) as err:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "无法读取表单 / unreadable form") from err
    return Form(fields)


FormDep = Annotated[Form, Depends(read_form)]


async def posted_form(
    request: Request, _: ConsoleActorDep, form: FormDep, settings: SettingsDep
) -> Form:
    """A form from a signed-in page (401 when signed out): posted from the console's own origin
    and carrying the session's CSRF token (else 403, not audited: a forged post is nobody's
    decision)."""
    check_origin(request, settings)
    verify_csrf(request, settings, form.get("csrf"))
    return form


PostedForm = Annotated[Form, Depends(posted_form)]
