"""The dossier (docs/rules.md §10.5): one JSON document per declaration that a regulator can verify
offline, with nothing but the file and ``store/dossier_verify.py`` (standard library only).

Sections (``docs/audit.md`` shows an example):

- ``declaration``: the declaration's latest view (``declaration_read.view_json``), and
  ``read_model_version``: the ``seq`` of the last event that view reflects;
- ``timeline``: every audit event, oldest first, with all fifteen canonical fields (``at`` as
  canonical text, ``reasons``/``detail`` as JSON values), its ``prev_hash`` and ``hash``: enough
  to recompute every hash;
- ``decisions``: the events whose actor is a person (not ``system``): who decided what, in which
  role and organisation, with the opinion and reason codes;
- ``deadlines``: the view's deadlines and their one-line explanations, and every event that
  recorded a deadline with its explanation (the rule, its inputs and the calendar version, §10.1);
- ``calendar``: the calendar versions those explanations name, and for every year they or the
  events touch the official year an administrator loaded (if any) and the days the service uses
  now (version, holidays, adjusted working days);
- ``proof``: the canonical form in prose, the hash algorithm, the first ``prev_hash`` (64 zeros),
  the head hash, the event count, the chain's signed checkpoint (``checkpoint``: its ``seq``,
  ``hash``, key and signature, :mod:`store.audit.heads`), and the store's own verification when
  the dossier was made;
- ``signature``: the service's Ed25519 signature of the whole document (its canonical JSON
  without this member), with the key's id and public key; ``GET /audit/public-key`` publishes
  the key to compare with.
- ``materials``: the uploaded files' metadata and hashes and their own audit chain (uploads and
  reads, docs/rules.md §19; :mod:`store.materials.dossier`).

The readable sections repeat the timeline; the offline verifier checks that they agree with it,
and checks both signatures, so a dossier edited and fully re-hashed fails.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from domain.calendar import BEIJING
from store.audit import (
    CANONICAL_FIELDS,
    GENESIS_HASH,
    canonical_instant,
    check_chains,
    events_of,
    row_dict,
)
from store.audit.heads import load_heads, signer_of
from store.calendar import load_official_years, work_calendar
from store.dossier_verify import CANONICAL_FORM, document_bytes
from store.materials.dossier import materials_section
from store.tables import DeclarationRead

__all__ = ["DOSSIER_FORMAT", "DossierNotFound", "build_dossier", "dossier_json"]

DOSSIER_FORMAT = "review-chain-dossier/2"

#: The actor of every step the workflow takes by itself (``domain.models.SYSTEM``).
SYSTEM_ACTOR = "system"

_DECISION_FIELDS = (
    "seq",
    "at",
    "actor_id",
    "actor_role",
    "actor_org",
    "action",
    "outcome",
    "stage_before",
    "stage_after",
    "opinion",
    "reasons",
)

#: ``2024=chinese-calendar 1.11.0;2027=provisional:statutory-holidays;holidays 0.109``: a version
#: may itself hold ``;``, so a year's version runs up to the next ``;YYYY=``.
_YEAR_VERSION = re.compile(r"(\d{4})=(.*?)(?=;\d{4}=|$)")
#: ``domain.chain.explain``: ``"<text> [<source>; calendar <versions>]"``.
_EXPLAINED = re.compile(r"; calendar ([^\]]*)\]")


class DossierNotFound(LookupError):
    """The store knows no event and no view of this declaration."""


def _calendar_versions(explanations: Iterable[Any]) -> dict[int, set[str]]:
    """Year -> calendar versions named by explanations (dicts with ``calendar_version``, or the
    one-line texts of the view)."""
    named: dict[int, set[str]] = {}
    for explanation in explanations:
        texts: list[str] = []
        if isinstance(explanation, dict):
            texts.append(str(explanation.get("calendar_version") or ""))
        elif isinstance(explanation, str):
            texts.extend(_EXPLAINED.findall(explanation))
        for text in texts:
            for year, version in _YEAR_VERSION.findall(text):
                named.setdefault(int(year), set()).add(version)
    return named


def _deadline_entry(event: dict[str, Any]) -> dict[str, Any]:
    detail = event["detail"]
    entry: dict[str, Any] = {
        "seq": event["seq"],
        "at": event["at"],
        "action": event["action"],
        # The instant the event names: set (at), moved (after), enforced (deadline).
        "deadline": detail.get("deadline") or detail.get("after") or detail.get("at"),
        "explanation": detail["explanation"],
    }
    for name in ("before", "first_day", "last_day"):
        if detail.get(name) is not None:
            entry[name] = detail[name]
    return entry


def _calendar(session: Session, named: dict[int, set[str]], years: set[int]) -> dict[str, Any]:
    loaded = load_official_years(session)
    in_use = work_calendar(session)
    out = []
    for year in sorted(years | set(named)):
        official = loaded.get(year)
        data = in_use.year_data(year)
        out.append(
            {
                "year": year,
                "versions_named": sorted(named.get(year, ())),
                "official_loaded": None
                if official is None
                else {
                    "version": official.version,
                    "holidays": [d.isoformat() for d in official.holidays],
                    "workdays": [d.isoformat() for d in official.workdays],
                },
                "in_use": {
                    "version": data.version,
                    "official": data.official,
                    "holidays": [d.isoformat() for d in data.holidays],
                    "workdays": [d.isoformat() for d in data.workdays],
                },
            }
        )
    return {
        "versions": sorted(f"{y}={v}" for y, versions in named.items() for v in versions),
        "years": out,
        "note": (
            "in_use is the calendar the service holds now: loaded year, else the packaged "
            "chinese-calendar data, else provisional. A deadline was computed with the version "
            "its explanation names; where that differs from in_use, the year was reloaded since "
            "and open deadlines were recomputed (deadline.*.recomputed events)."
        ),
    }


def build_dossier(
    session: Session, declaration_id: str, *, generated_at: datetime | None = None
) -> dict[str, Any]:
    """The dossier of one declaration as a JSON-ready dict, signed (see the module docstring).
    The timeline ends at the chain's checkpoint, read first, so an event appended meanwhile
    waits for the next dossier instead of contradicting this one's checkpoint."""
    signer = signer_of(session)
    head = load_heads(session, chain=declaration_id).get(declaration_id)
    rows = events_of(session, declaration_id)
    if head is not None:
        rows = [row for row in rows if row.seq <= head.seq]
    table = DeclarationRead.__table__  # type: ignore[attr-defined]
    read = (
        session.connection()
        .execute(
            sa.select(table.c.view_json, table.c.version, table.c.campaign_id).where(
                table.c.declaration_id == declaration_id
            )
        )
        .first()
    )
    if not rows and read is None:
        raise DossierNotFound(f"no audit event and no view of declaration {declaration_id}")
    view: dict[str, Any] | None = None
    version: int | None = None
    campaign_id = ""
    if read is not None:
        view, version, campaign_id = json.loads(read.view_json), int(read.version), read.campaign_id
    timeline = []
    for row in rows:
        event = row_dict(row)
        timeline.append({name: event[name] for name in (*CANONICAL_FIELDS, "hash")})
    if timeline:
        campaign_id = timeline[0]["campaign_id"]

    decisions = [
        {name: e[name] for name in _DECISION_FIELDS}
        for e in timeline
        if e["actor_id"] != SYSTEM_ACTOR
    ]
    deadline_events = [_deadline_entry(e) for e in timeline if "explanation" in e["detail"]]
    view_explanations: dict[str, str] = dict((view or {}).get("deadline_explanations") or {})
    named = _calendar_versions(
        [*(e["explanation"] for e in deadline_events), *view_explanations.values()]
    )
    years = {row.at.astimezone(BEIJING).year for row in rows}

    check = check_chains(session, declaration_id=declaration_id)
    checkpoint = None
    if head is not None:
        checkpoint = {
            "seq": head.seq,
            "hash": head.hash,
            "campaign_id": head.campaign_id,
            "key_id": head.key_id,
            "public_key": signer.trusted_keys().get(head.key_id),
            "signature": head.signature,
            "signed": "Ed25519 over the UTF-8 of 'review-chain audit head v1\\n<declaration_id>"
            "\\n<campaign_id>\\n<seq>\\n<hash>'",
        }
    document: dict[str, Any] = {
        "format": DOSSIER_FORMAT,
        "generated_at": canonical_instant(generated_at or datetime.now(UTC)),
        "declaration_id": declaration_id,
        "campaign_id": campaign_id,
        "declaration": view,
        "read_model_version": version,
        "timeline": timeline,
        "decisions": decisions,
        "deadlines": {
            "current": (view or {}).get("deadlines") or {},
            "explanations": view_explanations,
            "provisional": list((view or {}).get("provisional_deadlines") or []),
            "events": deadline_events,
        },
        "calendar": _calendar(session, named, years),
        "proof": {
            "algorithm": "sha256",
            "canonical_form": CANONICAL_FORM,
            "canonical_fields": list(CANONICAL_FIELDS),
            "genesis_prev_hash": GENESIS_HASH,
            "event_count": len(timeline),
            "head_hash": timeline[-1]["hash"] if timeline else GENESIS_HASH,
            "checkpoint": checkpoint,
            "store_check": check.model_dump(),
            "verify_offline": "python -m store.dossier_verify DOSSIER.json --public-key KEY "
            "(store/dossier_verify.py: Python standard library only; KEY from "
            "GET /audit/public-key)",
        },
        "materials": materials_section(session, declaration_id),
    }
    document["signature"] = {
        "algorithm": "Ed25519",
        "key_id": signer.key_id,
        "public_key": signer.public_key,
        "covers": "the canonical JSON (sorted keys, no whitespace, UTF-8) of this document "
        "without its signature member",
        "value": signer.sign(document_bytes(document)),
    }
    return document


def dossier_json(dossier: dict[str, Any]) -> str:
    """The dossier as UTF-8-ready JSON text (indented for reading; Chinese kept as is)."""
    return json.dumps(dossier, ensure_ascii=False, indent=2) + "\n"
