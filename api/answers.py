"""One time format in every JSON answer: an instant is written in ISO 8601 at Beijing's offset,
``2024-10-11T00:00:00+08:00``, as the notices state their times in Beijing time (docs/rules.md §1,
Time). Whatever offset an instant arrived with (a campaign posted in UTC with ``Z``, the
workflow's clock, the audit trail's canonical UTC), the answer names the same instant at +08:00.

:class:`JSONAnswer` is the app's default response class (``api.app.create_app``), and the routes
that build a response themselves use it too, so this module is the one place answers are written.
It rewrites the answer only, after FastAPI has serialised it: the workflow's histories, the store
and the audit trail's canonical form (hashed in UTC, ``store.audit.canonical``) keep what they
recorded, and an audit event's ``detail`` reads the same instants at +08:00 as well.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from fastapi.responses import JSONResponse

from domain.calendar import BEIJING

__all__ = ["JSONAnswer", "in_beijing"]

#: An ISO 8601 instant with an offset (``Z`` or ``±HH:MM``); a date alone, or a date and time
#: without an offset, is not an instant and stays as it is.
INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$")


def _instant(text: str) -> str:
    try:
        at = datetime.fromisoformat(text)
    except ValueError:  # a look-alike that is no date (month 13): not an instant
        return text
    return at.astimezone(BEIJING).isoformat()


def in_beijing(content: Any) -> Any:
    """``content`` (JSON data) with every instant written at +08:00."""
    if isinstance(content, str):
        return _instant(content) if INSTANT.match(content) else content
    if isinstance(content, dict):
        return {key: in_beijing(item) for key, item in content.items()}
    if isinstance(content, list):
        return [in_beijing(item) for item in content]
    if isinstance(content, datetime) and content.tzinfo is not None:
        return content.astimezone(BEIJING).isoformat()
    return content


class JSONAnswer(JSONResponse):
    """A JSON answer whose instants are written at +08:00 (see the module docstring)."""

    def render(self, content: Any) -> bytes:
        return super().render(in_beijing(content))
