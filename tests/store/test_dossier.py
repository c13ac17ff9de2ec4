"""§10.5 dossier export: one document per declaration (timeline, decisions, deadlines with their
explanations, the calendar used, the chain's proof) that a regulator verifies offline with the
standard library alone (``store/dossier_verify.py``)."""

from __future__ import annotations

import ast
import copy
import hashlib
import json
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.calendar import CalendarYear
from domain.models import AuditEventIn
from store import audit, dossier_verify
from store.audit import GENESIS_HASH, append_events, events_of, row_dict
from store.calendar import put_calendar_year
from store.db import Store
from store.dossier import DossierNotFound, build_dossier, dossier_json
from store.dossier_verify import CANONICAL_FORM, main, verify_dossier
from store.readmodel import upsert_view
from testing.builders import APPLICANT, MONDAY, SYSTEM, declaration_id, event, view

VERIFIER = Path(dossier_verify.__file__)
UNIT = ("unit-reviewer-7", "unit_reviewer", "U-001")
EXPLANATION = {
    "rule": "working_days",
    "source": "001 二(二) 公示不少于5个工作日",
    "inputs": {"start": "2024-09-27T10:00:00+08:00", "working_days": "5"},
    "calendar_version": "2024=国办发明电〔2023〕7号",
    "provisional": False,
    "text": "公示 2024-09-28 至 2024-10-10",
}
DECLARATION_TEXT = "申报截止 2024-10-31T24:00 (001 一(一)) / campaign declaration_closes_at"
PUBLICITY_TEXT = (
    "公示 2024-09-28 至 2024-10-10 [001 二(二); calendar 2024=国办发明电〔2023〕7号;"
    "2025=provisional:statutory-holidays;holidays 0.109]"
)


def _trail(d: str) -> list[AuditEventIn]:
    at = MONDAY.replace(day=27, hour=10)
    return [
        event(d, 1, at - timedelta(days=5), action="created", after="draft", actor=APPLICANT),
        event(d, 2, at - timedelta(days=4), action="submit", before="draft",
              after="unit_review", actor=APPLICANT),
        event(d, 3, at, action="decision.approve", before="unit_review", after="unit_publicity",
              actor=UNIT, opinion="材料齐全，同意公示", reasons=[]),
        event(d, 4, at, action="deadline.publicity_ends.set", before="unit_publicity",
              after="unit_publicity", actor=SYSTEM,
              detail={"at": "2024-10-11T00:00:00+08:00", "first_day": "2024-09-28",
                      "last_day": "2024-10-10", "explanation": EXPLANATION}),
        event(d, 5, at + timedelta(days=1), action="decision.return", before="unit_publicity",
              after="unit_publicity", actor=UNIT, outcome="refused",
              opinion="公示期内不能退回", reasons=["wrong_stage"]),
    ]  # fmt: skip


@pytest.fixture
def declared(store: Store) -> str:
    d = declaration_id()
    with store.session() as session:
        put_calendar_year(
            session,
            CalendarYear(
                year=2024,
                version="国办发明电〔2023〕7号",
                holidays=[date(2024, 10, d) for d in range(1, 8)],
                workdays=[date(2024, 9, 29), date(2024, 10, 12)],
            ),
            replace=True,
        )
        append_events(session, _trail(d))
        shown = view(d, version=5, state="unit_publicity").model_copy(
            update={
                "deadline_explanations": {
                    "declaration": DECLARATION_TEXT,
                    "publicity_ends": PUBLICITY_TEXT,
                }
            }
        )
        upsert_view(session, shown)
    return d


def _dossier(store: Store, d: str) -> dict[str, Any]:
    with store.session(readonly=True) as session:
        document = build_dossier(session, d, generated_at=MONDAY)
    return json.loads(dossier_json(document))  # exactly what the file holds


def test_the_dossier_holds_view_timeline_decisions_deadlines_calendar_and_proof(
    store: Store, declared: str
) -> None:
    document = _dossier(store, declared)
    with store.session(readonly=True) as session:
        rows = events_of(session, declared)
    assert document["format"] == "review-chain-dossier/2"
    assert document["generated_at"] == "2024-09-01T16:00:00.000000Z"
    assert document["declaration"]["id"] == declared and document["read_model_version"] == 5
    assert document["campaign_id"] == "aks-2024-transport"
    assert [e["seq"] for e in document["timeline"]] == [1, 2, 3, 4, 5]
    assert document["timeline"][3] == {
        name: value for name, value in row_dict(rows[3]).items() if name != "id"
    }
    # Who decided what: every person's event (accepted or refused), never the system's.
    assert [(d["seq"], d["actor_id"], d["outcome"]) for d in document["decisions"]] == [
        (1, "applicant-1", "accepted"),
        (2, "applicant-1", "accepted"),
        (3, "unit-reviewer-7", "accepted"),
        (5, "unit-reviewer-7", "refused"),
    ]
    assert document["decisions"][3]["opinion"] == "公示期内不能退回"
    assert document["decisions"][3]["reasons"] == ["wrong_stage"]
    assert document["decisions"][2]["actor_org"] == "U-001"
    deadlines = document["deadlines"]
    assert deadlines["explanations"]["publicity_ends"] == PUBLICITY_TEXT
    assert deadlines["events"] == [
        {
            "seq": 4,
            "at": "2024-09-27T02:00:00.000000Z",
            "action": "deadline.publicity_ends.set",
            "deadline": "2024-10-11T00:00:00+08:00",
            "explanation": EXPLANATION,
            "first_day": "2024-09-28",
            "last_day": "2024-10-10",
        }
    ]
    calendar = document["calendar"]
    assert calendar["versions"] == [
        "2024=国办发明电〔2023〕7号",
        "2025=provisional:statutory-holidays;holidays 0.109",
    ]
    year_2024, year_2025 = calendar["years"]
    assert year_2024["official_loaded"] == {
        "version": "国办发明电〔2023〕7号",
        "holidays": [f"2024-10-0{d}" for d in range(1, 8)],
        "workdays": ["2024-09-29", "2024-10-12"],
    }
    assert year_2024["in_use"]["version"] == "国办发明电〔2023〕7号"
    assert year_2025["official_loaded"] is None and year_2025["in_use"]["holidays"]
    proof = document["proof"]
    assert proof["canonical_form"] == CANONICAL_FORM
    assert proof["genesis_prev_hash"] == GENESIS_HASH
    assert (proof["event_count"], proof["head_hash"]) == (5, rows[-1].hash)
    assert proof["store_check"]["ok"] is True


def test_the_offline_verifier_accepts_an_untouched_dossier(
    store: Store, declared: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = _dossier(store, declared)
    path = tmp_path / "dossier.json"
    path.write_text(dossier_json(document), encoding="utf-8")
    assert main([str(path), "--public-key", store.signer.public_key]) == 0
    key = store.signer.key_id
    assert capsys.readouterr().out == (
        f"ok: 5 events, head {document['proof']['head_hash']}, signed by key {key}\n"
    )


def _edit_event(doc: dict[str, Any]) -> None:
    doc["timeline"][1]["actor_id"] = "someone-else"


def _drop_last(doc: dict[str, Any]) -> None:
    doc["timeline"].pop()


def _drop_last_and_fix_the_proof(doc: dict[str, Any]) -> None:
    """Consistent chain, count and head: only the declaration's read-model version betrays it."""
    doc["timeline"].pop()
    doc["proof"].update(event_count=4, head_hash=doc["timeline"][-1]["hash"])
    doc["decisions"].pop()


def _swap(doc: dict[str, Any]) -> None:
    t = doc["timeline"]
    t[1], t[2] = t[2], t[1]


def _forge_decision(doc: dict[str, Any]) -> None:
    doc["decisions"][2]["opinion"] = "不同意"


def _forge_explanation(doc: dict[str, Any]) -> None:
    doc["deadlines"]["events"][0]["explanation"]["calendar_version"] = "2024=something else"


def _forge_head(doc: dict[str, Any]) -> None:
    doc["proof"]["head_hash"] = "f" * 64


@pytest.mark.parametrize(
    ("tamper", "seq"),
    [
        (_edit_event, 2),
        (_drop_last, 5),
        (_drop_last_and_fix_the_proof, 5),
        (_swap, 2),
        (_forge_decision, 3),
        (_forge_explanation, 4),
        (_forge_head, 5),
    ],
)
def test_the_offline_verifier_names_the_first_bad_seq_of_a_tampered_dossier(
    store: Store, declared: str, tamper: Any, seq: int
) -> None:
    document = _dossier(store, declared)
    tampered = copy.deepcopy(document)
    tamper(tampered)
    verdict = verify_dossier(tampered)
    assert (verdict.ok, verdict.first_bad_seq) == (False, seq), verdict.problem


def test_the_offline_verifier_needs_only_the_standard_library(
    store: Store, declared: str, tmp_path: Path
) -> None:
    """Copied alone next to the dossier and run with no site-packages and no project on the
    path (``-I -S``), the verifier still answers, and says so with its exit status."""
    tree = ast.parse(VERIFIER.read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (
            node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")]
        )
    }
    assert imported <= set(sys.stdlib_module_names), imported - set(sys.stdlib_module_names)
    shutil.copy(VERIFIER, tmp_path / "dossier_verify.py")
    document = _dossier(store, declared)
    (tmp_path / "good.json").write_text(dossier_json(document), encoding="utf-8")
    _edit_event(document)
    (tmp_path / "bad.json").write_text(dossier_json(document), encoding="utf-8")
    run = [sys.executable, "-I", "-S", "dossier_verify.py"]
    good = subprocess.run([*run, "good.json"], cwd=tmp_path, capture_output=True, text=True)
    bad = subprocess.run([*run, "bad.json"], cwd=tmp_path, capture_output=True, text=True)
    assert (good.returncode, good.stdout.split(",")[0]) == (0, "ok: 5 events")
    assert (bad.returncode, bad.stdout.split(":")[0]) == (1, "first bad seq 2")


def test_the_verifier_and_the_store_share_one_canonical_form(store: Store, declared: str) -> None:
    assert dossier_verify.CANONICAL_FIELDS == audit.CANONICAL_FIELDS
    assert dossier_verify.GENESIS_HASH == audit.GENESIS_HASH
    with store.session(readonly=True) as session:
        rows = events_of(session, declared)
    for row in rows:
        data = row_dict(row)
        assert dossier_verify.canonical_bytes(data) == audit.canonical_bytes(data)


def test_a_dossier_of_an_unknown_declaration_is_refused(store: Store) -> None:
    with store.session(readonly=True) as session, pytest.raises(DossierNotFound):
        build_dossier(session, "D-nobody")


def test_the_documented_example_of_the_canonical_form_holds() -> None:
    """docs/audit.md shows canonical bytes and their hash; both verifiers must agree with it."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "audit.md").read_text(encoding="utf-8")
    example = text.split("For example, these canonical bytes")[1]
    canonical = example.split("```")[1].strip()
    digest = example.split("hash to `")[1].split("`")[0]
    event = json.loads(canonical)
    assert dossier_verify.canonical_bytes(event) == canonical.encode("utf-8")
    assert audit.canonical_bytes(event) == canonical.encode("utf-8")
    assert hashlib.sha256(canonical.encode("utf-8")).hexdigest() == digest
