"""Workflows of the review chain."""

from __future__ import annotations

from typing import Any


def all_workflows() -> list[type[Any]]:
    from workflows.campaign_ops import (
        CalendarRecomputeWorkflow,
        CampaignDeadlineChangeWorkflow,
        CloseReviewWorkflow,
    )
    from workflows.declaration import DeclarationWorkflow
    from workflows.outbox import OutboxDeliveryWorkflow

    return [
        DeclarationWorkflow,
        CampaignDeadlineChangeWorkflow,
        CloseReviewWorkflow,
        CalendarRecomputeWorkflow,
        OutboxDeliveryWorkflow,
    ]
