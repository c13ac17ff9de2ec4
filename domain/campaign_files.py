"""Campaign files: one notice's campaign written as JSON or YAML in the exact shape of
:class:`domain.models.Campaign` (see ``examples/campaigns/``).

Pure apart from reading the one file the caller names. Both formats go through the same pydantic
validation: YAML is read with the safe loader, without its implicit timestamp conversion (dates and
instants stay text, so pydantic parses them exactly as it parses JSON: an instant without a UTC
offset is refused), and a key written twice in one mapping is refused instead of silently keeping
the last value. Every failure is a :class:`ValueError` naming the source and the cause.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError

from domain.campaign_checks import consistency_problems
from domain.file_formats import decode_json, decode_yaml, read_file
from domain.models import Campaign

__all__ = ["SUFFIXES", "CampaignFormat", "load_campaign_file", "parse_campaign"]

CampaignFormat = Literal["json", "yaml"]

#: File suffixes (lower case) and the format each one means.
SUFFIXES: dict[str, CampaignFormat] = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}


def _decode(text: str, fmt: CampaignFormat) -> Any:
    if fmt == "json":
        return decode_json(text)
    if fmt == "yaml":
        return decode_yaml(text)
    raise ValueError(f"unknown campaign format {fmt!r}: expected 'json' or 'yaml'")


def parse_campaign(text: str, fmt: CampaignFormat, *, source: str = "<campaign text>") -> Campaign:
    """Decode ``text`` as ``fmt`` and validate it as a :class:`Campaign`.

    Raises :class:`ValueError` naming ``source`` with the syntax error, with pydantic's
    validation error (every field at fault and why) when the content is not a valid campaign, or
    with the settings it would silently ignore (:mod:`domain.campaign_checks`).
    """
    try:
        data = _decode(text, fmt)
    except (ValueError, yaml.YAMLError) as exc:
        # json.JSONDecodeError is a ValueError
        raise ValueError(f"{source}: not valid {fmt.upper()}: {exc}") from exc
    if not isinstance(data, dict):
        kind = "empty" if data is None else type(data).__name__
        raise ValueError(
            f"{source}: a campaign must be a {fmt.upper()} mapping of Campaign fields, got {kind}"
        )
    try:
        campaign = Campaign.model_validate(data)
    except ValidationError as exc:
        raise ValueError(f"{source}: not a valid campaign: {exc}") from exc
    problems = consistency_problems(campaign)
    if problems:
        listed = "; ".join(str(p) for p in problems)
        raise ValueError(f"{source}: not a consistent campaign: {listed}")
    return campaign


def load_campaign_file(path: Path) -> Campaign:
    """Read one campaign file; ``.json`` is JSON, ``.yaml`` / ``.yml`` is YAML (any case).

    The only I/O is reading ``path`` (as UTF-8). Invalid content raises :class:`ValueError`
    naming the file.
    """
    text, fmt = read_file(path, SUFFIXES, "campaign")
    return parse_campaign(text, fmt, source=str(path))
