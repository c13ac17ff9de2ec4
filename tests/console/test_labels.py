"""Every code the service can emit has a Chinese label in the console (api/console/labels.py).

The codes are read from where the service defines them: the domain's tables, enums and Literals
(states, pending actions, commands, roles, levels, routes, deadlines, defense modes, late
policies, channels), the problem kinds of the API, the catalogues and campaigns of the notices in
``examples/``, and, where the service writes a code as a literal, its source: every audit action
it records (``action=…``, ``record``/``move``/``refused``), every refusal code
(``Refusal("code", …)``), every eligibility flag, every notification kind and every fact an audit
event keeps in its ``detail``. Actions the chain builds from parts (``{stage}.{outcome}``,
``deadline.{kind}.set`` …) are expanded from the domain's vocabularies, and a new way of building
one fails until it is listed here. The stored histories (tests/histories) add what real runs
recorded: actions, reasons, notification kinds, flags and detail keys.
"""

from __future__ import annotations

import ast
import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml

from activities.retry import NON_RETRYABLE
from api.console.labels import (
    CHANNEL_LABELS,
    DEADLINE_LABELS,
    DETAIL_LABELS,
    FLAG_LABELS,
    LEVEL_LABELS,
    NOTIFICATION_LABELS,
    PENDING_LABELS,
    PROBLEM_LABELS,
    REFUSAL_LABELS,
    ROLE_LABELS,
    ROUTE_LABELS,
    SERIES_LABELS,
    STATE_LABELS,
    VALUE_LABELS,
    action_label,
    reason_label,
)
from api.problems import PROBLEM_KINDS
from domain.commands import COMMANDS
from domain.models import ROLES, Campaign, Deadlines, DecisionCommand, Level, Route
from domain.models.base import DefenseMode, PublicityKind
from domain.models.commands import DecisionStage
from domain.models.view import DefenseView
from domain.organisations import campaign_scope_refusal
from domain.reminders import DELIVERY_STATUSES, Channel
from domain.states import PENDING, STATES
from tests.workflows.helpers import stored_histories
from workflows.prepare import _snake

ROOT = Path(__file__).resolve().parents[2]
SERVICE = ("api", "domain", "store", "activities", "workflows", "gateway")
EXAMPLES = ROOT / "examples"
#: The deadlines a late fee or late materials policy governs (``timer.{kind}_deadline``,
#: ``{kind}_late``): ``Campaign.late_payment`` and ``Campaign.late_materials``.
LATE_KINDS = ("fee", "materials")
#: Deadlines the workflow computes and records (``deadline.{kind}.set`` …): the view's, and the
#: day the at-risk warning starts.
COMPUTED = (*Deadlines.model_fields, "at_risk_from")
OUTCOMES: tuple[str, ...] = get_args(DecisionCommand.model_fields["outcome"].annotation)

#: How the service builds an action from parts, and every action each way builds.
FAMILIES: dict[str, list[str]] = {
    "f'{stage}.{cmd.outcome}'": [f"{s}.{o}" for s in get_args(DecisionStage) for o in OUTCOMES],
    "f'timer.{kind}_ended'": [f"timer.{k}_ended" for k in get_args(PublicityKind)],
    "f'timer.{kind}_deadline'": [f"timer.{k}_deadline" for k in LATE_KINDS],
    **{
        f"f'deadline.{{kind}}.{change}'": [f"deadline.{k}.{change}" for k in COMPUTED]
        for change in ("set", "recomputed", "confirmed")
    },
}


def trees() -> Iterator[tuple[Path, ast.Module]]:
    for package in SERVICE:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield path, ast.parse(path.read_text(encoding="utf-8"))


def calls(name: str) -> Iterator[tuple[Path, ast.Call]]:
    """Every call of a function or method called ``name``."""
    for path, tree in trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                if called == name:
                    yield path, node


def text(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def action_nodes() -> Iterator[ast.expr]:
    """Every expression the service passes or assigns as an audit action."""
    for _, tree in trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                yield from (k.value for k in node.keywords if k.arg == "action")
                method = getattr(node.func, "attr", None)
                if method in ("record", "move", "refused") and len(node.args) >= 2:
                    yield node.args[1]
            elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "action" for t in node.targets
            ):
                yield node.value


def audit_actions() -> set[str]:
    found: set[str] = set()
    unknown = []
    for node in action_nodes():
        if (constant := text(node)) is not None:
            found.add(constant)
        elif isinstance(node, ast.JoinedStr):
            template = ast.unparse(node)
            if template not in FAMILIES:
                unknown.append(template)
            found.update(FAMILIES.get(template, []))
    assert not unknown, f"new ways of building an audit action, list them in FAMILIES: {unknown}"
    found.update(COMMANDS)
    found.add("audit.superseded")  # store.audit_tail.SUPERSEDED
    return found


def refusal_codes() -> set[str]:
    codes = {c for _, call in calls("Refusal") if call.args and (c := text(call.args[0]))}
    scoped = (
        campaign_scope_refusal("committee", "x", "c", []),
        campaign_scope_refusal("finance", "x", None, ["f"]),
    )
    codes.update(found[0] for found in scoped if found)
    codes.update(_snake(kind) for kind in NON_RETRYABLE["confirm_fee"])  # workflows.prepare
    for _, call in calls("Problem"):  # the API's own refusals: code=f"{action}.<code>"
        for keyword in call.keywords:
            if keyword.arg == "code" and isinstance(keyword.value, ast.JoinedStr):
                tail = text(keyword.value.values[-1])
                assert tail and tail.startswith("."), ast.unparse(keyword.value)
                codes.add(tail[1:])
    return codes


def flags() -> set[str]:
    """The eligibility flags (``flags.add("…")``) and the late fee or materials ones."""
    found: set[str] = set()
    for _, call in calls("add"):
        receiver = getattr(call.func, "value", None)
        if isinstance(receiver, ast.Name) and receiver.id == "flags" and call.args:
            found.update(f for f in [text(call.args[0])] if f)
    assert "appraisal_missing" in found
    return found | {f"{kind}_late" for kind in LATE_KINDS}


def notification_kinds() -> set[str]:
    return {
        k
        for _, call in calls("Notification")
        for keyword in call.keywords
        if keyword.arg == "kind" and (k := text(keyword.value))
    }


def detail_keys() -> set[str]:
    """The keys of the ``detail`` dicts the service writes, and the fields of the commands a
    refused attempt keeps under ``detail.command``."""
    keys: set[str] = set()
    for _, tree in trees():
        for node in ast.walk(tree):
            values: list[ast.expr] = []
            if isinstance(node, ast.Call):
                values = [k.value for k in node.keywords if k.arg == "detail"]
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id == "detail":
                        values.append(node.value)
                    if (
                        isinstance(target, ast.Subscript)
                        and isinstance(target.value, ast.Name)
                        and target.value.id == "detail"
                        and (key := text(target.slice)) is not None
                    ):
                        keys.add(key)
            for value in values:
                if isinstance(value, ast.Dict):
                    keys.update(k for k in map(text, value.keys) if k)
    for spec in COMMANDS.values():
        keys.update(name for name in spec.model.model_fields if name != "actor")
    return keys


def recorded() -> dict[str, set[str]]:
    """What the stored histories' audit writes recorded (their activity inputs)."""
    out: dict[str, set[str]] = {
        "actions": set(),
        "reasons": set(),
        "kinds": set(),
        "flags": set(),
        "detail": set(),
    }

    def keys(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                out["detail"].add(key)
                if key != "explanation":  # shown as its text, never as keys
                    keys(item)
        elif isinstance(value, list):
            for item in value:
                keys(item)

    for path in stored_histories():
        for event in json.loads(path.read_text())["events"]:
            scheduled = event.get("activityTaskScheduledEventAttributes") or {}
            if scheduled.get("activityType", {}).get("name") != "record_audit_event":
                continue
            for payload in scheduled["input"]["payloads"]:
                batch = json.loads(base64.b64decode(payload["data"]))
                for e in batch["events"]:
                    out["actions"].add(e["action"])
                    out["reasons"].update(e["reasons"])
                    keys(e["detail"])
                out["kinds"].update(n["kind"] for n in batch["notifications"])
                out["flags"].update(batch["view"]["flags"])
    assert out["actions"], "no audit write found in the stored histories"
    return out


def missing(codes: set[str], labels: dict[str, str]) -> list[str]:
    return sorted(c for c in codes if not labels.get(c))


def test_states_pending_actions_and_commands_have_labels() -> None:
    assert missing({s.value for s in STATES}, STATE_LABELS) == []
    assert missing({action for _, action in PENDING.values()}, PENDING_LABELS) == []
    assert sorted(c for c in COMMANDS if not action_label(c)) == []


def test_every_audit_action_the_service_records_has_a_label() -> None:
    actions = audit_actions() | recorded()["actions"]
    assert len(actions) > 80
    assert sorted(a for a in actions if not action_label(a)) == []


def test_every_refusal_code_and_problem_kind_has_a_label() -> None:
    codes = refusal_codes()
    assert {"wrong_stage", "not_this_committee", "payment_refused", "forbidden"} <= codes
    assert missing(codes, REFUSAL_LABELS) == []
    assert missing(set(PROBLEM_KINDS), PROBLEM_LABELS) == []
    reasons = recorded()["reasons"]
    assert sorted(r for r in reasons if not reason_label(r)) == []
    assert reason_label("decide.wrong_stage") == "审核决定：环节不符"


def test_flags_notifications_deliveries_and_channels_have_labels() -> None:
    history = recorded()
    assert missing(flags() | history["flags"], FLAG_LABELS) == []
    assert missing(notification_kinds() | history["kinds"], NOTIFICATION_LABELS) == []
    assert missing(set(get_args(Channel)), CHANNEL_LABELS) == []
    assert all(DELIVERY_STATUSES.values())


def test_roles_levels_routes_deadlines_and_other_values_have_labels() -> None:
    assert missing(set(ROLES), ROLE_LABELS) == []
    assert missing(set(get_args(Level)), LEVEL_LABELS) == []
    assert missing(set(get_args(Route)), ROUTE_LABELS) == []
    assert missing(set(COMPUTED), DEADLINE_LABELS) == []
    assert missing(set(get_args(DefenseMode)), VALUE_LABELS["mode"]) == []
    venue = DefenseView.model_fields["venue"].annotation
    assert missing({v for v in get_args(get_args(venue)[0])}, VALUE_LABELS["venue"]) == []
    policy = Campaign.model_fields["late_payment"].annotation
    assert missing(set(get_args(policy)), VALUE_LABELS["policy"]) == []


@pytest.mark.parametrize("path", sorted((EXAMPLES / "campaigns").glob("*.yaml")), ids=str)
def test_every_series_of_the_notices_campaigns_has_a_label(path: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    series = {data["series"], *(data.get("series_specialties") or {})}
    assert missing(series, SERIES_LABELS) == []


@pytest.mark.parametrize(
    "path",
    sorted((EXAMPLES / "catalogues").glob("*.yaml"))
    + sorted((EXAMPLES / "campaigns").glob("*.yaml")),
    ids=str,
)
def test_every_material_kind_of_the_notices_catalogues_has_a_label(path: Path) -> None:
    catalogue = yaml.safe_load(path.read_text(encoding="utf-8")).get("materials_catalogue") or {}
    assert sorted(kind for kind, spec in catalogue.items() if not (spec or {}).get("label")) == []


def test_every_fact_an_audit_event_records_has_a_label() -> None:
    keys = detail_keys() | recorded()["detail"]
    assert {"upheld", "objection_id", "flags", "command", "stage"} <= keys
    assert missing(keys, DETAIL_LABELS) == []
