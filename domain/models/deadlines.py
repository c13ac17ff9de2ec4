"""Computed deadlines and their explanations (docs/rules.md §3, §7, §10.1)."""

from __future__ import annotations

from datetime import date

from pydantic import AwareDatetime, Field

from domain.models.base import Model


class DeadlineExplanation(Model):
    """§10.1: the rule that set a deadline, its inputs and the calendar used."""

    rule: str
    source: str
    inputs: dict[str, str] = Field(default_factory=dict)
    calendar_version: str = ""
    provisional: bool = False
    text: str = ""


class ComputedDeadline(Model):
    at: AwareDatetime
    explanation: DeadlineExplanation
    #: First and last day shown on a publicity notice (公示时间从…起至…止).
    first_day: date | None = None
    last_day: date | None = None


class AtRiskTable(Model):
    """§10.2: for each number of working days the chain may still need, the instant from which
    fewer remain before ``until``. Computed once per declaration deadline (and calendar), so a
    transition picks its instant without another activity call."""

    until: AwareDatetime
    instants: dict[int, ComputedDeadline] = Field(default_factory=dict)
