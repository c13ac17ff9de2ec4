"""How the console writes a value: a code as its Chinese label with the id beside it
(``单位审核 unit_review``), a yes/no as 是/否, nothing as —, an instant in Beijing time, and an audit
event's ``detail`` as labelled facts. Never a Python value (``True``, ``None``, ``key=value``).

Every function returns markup (the code stands in ``<code>``); text it is given is escaped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from markupsafe import Markup, escape

from api.console.labels import DETAIL_LABELS, OBJECTOR, ROLE_LABELS, VALUE_LABELS
from domain.calendar import BEIJING
from domain.reminders import notice_time

__all__ = ["actor_role", "coded", "detail_items", "value", "yes_no"]

#: An ISO 8601 instant with its offset, as audit details record them.
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")
#: Detail keys whose instants are deadlines, written as the notices write them (24:00).
DEADLINE_KEYS = frozenset(
    {
        "at",
        "after",
        "before",
        "deadline",
        "declaration_closes_at",
        "fee_deadline",
        "materials_deadline",
        "review_closes_at",
    }
)
#: Actions whose actor lodges an objection: whatever their role, they are its objector.
OBJECTING = frozenset({"objection.lodged", "lodge_objection"})
MAX_TEXT = 300


def coded(code: Any, labels: Mapping[str, str] | None = None) -> Markup:
    """``单位审核 <code>unit_review</code>``; the id alone where there is no label; — for none."""
    if code is None or code == "":
        return Markup("—")
    text = str(code)
    label = (labels or {}).get(text, "")
    if not label:
        return Markup("<code>{}</code>").format(text)
    return Markup("{} <code>{}</code>").format(label, text)


def yes_no(flag: Any) -> str:
    return "—" if flag is None else ("是" if flag else "否")


def _instant(text: str, key: str) -> str:
    at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if key in DEADLINE_KEYS:
        return notice_time(at)
    return at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def _labels(key: str, kinds: Mapping[str, str] | None) -> Mapping[str, str] | None:
    """The labels of the codes that stand under ``key`` (material kinds: the catalogue's)."""
    return kinds if key == "kind" and kinds else VALUE_LABELS.get(key)


def value(
    key: str,
    item: Any,
    kinds: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> Markup:
    """One value of a detail or view, by the key it stands under. The facts of a mapping under
    a key with labels (``flags: {before: […], after: […]}``) are labelled as that key's."""
    labels = _labels(key, kinds) or labels
    if item is None or item == "" or item == [] or item == {}:
        return Markup("—")
    if isinstance(item, bool):
        return Markup(yes_no(item))
    if isinstance(item, Mapping):
        return Markup("；").join(_fact(k, v, kinds, labels) for k, v in item.items())
    if isinstance(item, list | tuple):
        return Markup("、").join(value(key, v, kinds, labels) for v in item)
    if isinstance(item, str) and _INSTANT.match(item):
        return Markup(escape(_instant(item, key)))
    if labels is not None and isinstance(item, str) and item in labels:
        return coded(item, labels)
    text = str(item)
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - 1] + "…"
    return Markup(escape(text))


def _fact(
    key: str,
    item: Any,
    kinds: Mapping[str, str] | None,
    labels: Mapping[str, str] | None = None,
) -> Markup:
    shown = value(key, item, kinds, labels)
    return Markup("{}：{}").format(coded(key, DETAIL_LABELS), shown)


def detail_items(
    detail: Mapping[str, Any] | None,
    kinds: Mapping[str, str] | None = None,
    skip: tuple[str, ...] = ("explanation", "via"),
) -> list[Markup]:
    """An audit event's facts, one labelled line each (``explanation`` is shown as text)."""
    return [_fact(k, v, kinds) for k, v in (detail or {}).items() if k not in skip]


def actor_role(event: Mapping[str, Any]) -> str:
    """Who the actor was in this event: an objection's objector (异议人), else their role."""
    if event.get("action") in OBJECTING:
        return OBJECTOR
    role = str(event.get("actor_role") or "")
    return ROLE_LABELS.get(role, role)
