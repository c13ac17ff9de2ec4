"""Verify a declaration's dossier offline (docs/rules.md §10.5), with the standard library only.

    python -m store.dossier_verify dossier.json
    python -m store.dossier_verify dossier.zip    # a dossier exported with its files
    python dossier_verify.py dossier.json        # this one file, copied anywhere

prints ``ok: N events, head <hash>`` and exits 0 when every event of the dossier's timeline
hashes to its recorded ``hash`` and links to the one before it, the chain is as long as the proof
and the declaration's read-model version say, its head is the proof's ``head_hash``, and the
dossier's decisions and deadline entries repeat the timeline faithfully. Its ``materials``
section (docs/rules.md §19) is checked the same way: the materials chain's every hash and link,
its length and head against its proof, every file item recorded by an upload event of that chain
with the same id, kind, size and SHA-256 (and every upload event naming an item); given a bundle
(a zip with ``dossier.json`` and ``materials/<sha256>``), every file's bytes are hashed against
its item too. Otherwise it prints the first bad sequence number and why, and exits 1.

This module imports nothing from the project on purpose: a regulator can read it whole and run
it without installing anything. Its canonical form is the one ``store.audit`` writes (a test
keeps the two in step), described in :data:`CANONICAL_FORM`, which every dossier embeds.
"""

from __future__ import annotations

import hashlib
import json
import sys
import zipfile
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

__all__ = [
    "CANONICAL_FIELDS",
    "CANONICAL_FORM",
    "GENESIS_HASH",
    "Verdict",
    "canonical_bytes",
    "main",
    "verify_bundle",
    "verify_dossier",
]

GENESIS_HASH = "0" * 64

CANONICAL_FIELDS = (
    "declaration_id",
    "campaign_id",
    "seq",
    "at",
    "actor_id",
    "actor_role",
    "actor_org",
    "action",
    "stage_before",
    "stage_after",
    "outcome",
    "opinion",
    "reasons",
    "detail",
    "prev_hash",
)

CANONICAL_FORM = """\
Each event's hash is the lowercase hex SHA-256 of its canonical bytes. The canonical bytes are \
one JSON object holding exactly these fifteen keys (every column of the audit_event table except \
its row id and the hash itself): declaration_id, campaign_id, seq, at, actor_id, actor_role, \
actor_org, action, stage_before, stage_after, outcome, opinion, reasons, detail, prev_hash. \
Keys are sorted by code point at every depth; there is no whitespace (separators "," and ":"); \
non-ASCII characters are written as themselves, not as \\u escapes; the text is encoded as \
UTF-8. seq is a JSON integer; stage_before and stage_after are a string or null; at is the \
instant in UTC written YYYY-MM-DDTHH:MM:SS.ffffffZ (always six fractional digits and a literal \
Z, e.g. 2024-09-25T02:00:00.000000Z for 10:00 Beijing time); reasons (a list of strings) and \
detail (an object) are JSON values, not JSON text. In Python: json.dumps(event, sort_keys=True, \
separators=(",", ":"), ensure_ascii=False).encode("utf-8"). Each declaration's events form one \
chain: seq runs 1, 2, 3, ... without a gap; the prev_hash of event 1 is 64 zeros and that of \
every later event is the hash of the event before it; the last event's hash is the chain's head."""


class Verdict(NamedTuple):
    ok: bool
    events: int
    head: str
    first_bad_seq: int | None = None
    problem: str | None = None
    #: Files the materials section lists, and events of the materials chain.
    materials: int = 0
    material_events: int = 0
    #: Files whose bytes were hashed against their items (a bundle).
    files_checked: int = 0


def canonical_bytes(event: dict[str, Any]) -> bytes:
    """The bytes an event's hash covers (see :data:`CANONICAL_FORM`)."""
    body = {name: event[name] for name in CANONICAL_FIELDS}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def _bad(events: int, head: str, seq: int, problem: str) -> Verdict:
    return Verdict(False, events, head, seq, problem)


def _walk(dossier: dict[str, Any]) -> Verdict:
    """The chain itself: every hash and link, and its length against the proof."""
    declaration_id = dossier["declaration_id"]
    proof = dossier["proof"]
    timeline = dossier["timeline"]
    if proof.get("genesis_prev_hash") != GENESIS_HASH:
        return _bad(0, GENESIS_HASH, 1, "the proof's genesis_prev_hash is not 64 zeros")
    prev = GENESIS_HASH
    for index, event in enumerate(timeline, start=1):
        seq = event.get("seq")
        if seq != index:
            return _bad(index - 1, prev, index, f"event {index} expected, found seq {seq}")
        missing = [name for name in (*CANONICAL_FIELDS, "hash") if name not in event]
        if missing:
            return _bad(index - 1, prev, seq, f"event {seq} lacks {', '.join(missing)}")
        if event["declaration_id"] != declaration_id:
            return _bad(index - 1, prev, seq, f"event {seq} belongs to another declaration")
        if hashlib.sha256(canonical_bytes(event)).hexdigest() != event["hash"]:
            return _bad(index - 1, prev, seq, f"event {seq}: hash does not match its content")
        if event["prev_hash"] != prev:
            return _bad(index - 1, prev, seq, f"event {seq}: prev_hash is not the hash before it")
        prev = event["hash"]
    count = len(timeline)
    expected = max(int(proof.get("event_count") or 0), int(dossier.get("read_model_version") or 0))
    if count < expected:
        return _bad(
            count, prev, count + 1, f"the chain holds {count} events, the dossier names {expected}"
        )
    if count != proof.get("event_count"):
        named = proof.get("event_count")
        seq = named + 1 if isinstance(named, int) and 0 <= named < count else count
        return _bad(count, prev, seq, f"the chain holds {count} events, the proof counts {named}")
    if proof.get("head_hash") != prev:
        return _bad(count, prev, count, "the proof's head_hash is not the last event's hash")
    return Verdict(True, count, prev)


def _agrees(dossier: dict[str, Any], verdict: Verdict) -> Verdict:
    """The dossier's readable sections repeat the (verified) timeline, never contradict it."""
    timeline = dossier["timeline"]
    entries = [(e, "decision") for e in dossier.get("decisions", [])]
    entries += [(e, "deadline entry") for e in dossier.get("deadlines", {}).get("events", [])]
    for entry, kind in entries:
        seq = entry.get("seq")
        if not isinstance(seq, int) or not 1 <= seq <= len(timeline):
            return Verdict(
                False, verdict.events, verdict.head, None, f"a {kind} names no event (seq {seq})"
            )
        event = timeline[seq - 1]
        for name, value in entry.items():
            if name == "explanation":
                source = event["detail"].get("explanation")
            elif name in event:
                source = event[name]
            else:
                continue  # derived for reading (e.g. the instant a deadline entry names)
            if source != value:
                return _bad(
                    verdict.events,
                    verdict.head,
                    seq,
                    f"{kind} {seq}: {name} differs from the event",
                )
    return verdict


#: The bytes of a material by its SHA-256 (None when the bundle lacks it).
Files = Callable[[str], Iterable[bytes] | None]

_UPLOAD_FIELDS = ("kind", "masked", "size", "sha256", "filename", "content_type", "replaces")


def _materials(dossier: dict[str, Any], verdict: Verdict, files: Files | None) -> Verdict:
    """The materials section: its chain as :func:`_walk` checks the timeline, its items against
    the chain's upload events, and (given ``files``) every file's bytes against its hash."""
    section = dossier.get("materials")
    if section is None:  # a dossier made before materials were uploaded
        return verdict
    chain = f"materials:{dossier['declaration_id']}"
    ok = verdict._replace
    if section.get("chain_id") != chain:
        return ok(ok=False, problem=f"materials: the chain is not {chain}")
    prev = GENESIS_HASH
    uploads: dict[str, dict[str, Any]] = {}
    timeline = section["timeline"]
    for index, event in enumerate(timeline, start=1):
        where = f"materials event {index}"
        missing = [name for name in (*CANONICAL_FIELDS, "hash") if name not in event]
        if missing:
            return ok(ok=False, first_bad_seq=index, problem=f"{where} lacks {', '.join(missing)}")
        if event["seq"] != index or event["declaration_id"] != chain:
            return ok(ok=False, first_bad_seq=index, problem=f"{where}: out of order or chain")
        if hashlib.sha256(canonical_bytes(event)).hexdigest() != event["hash"]:
            return ok(ok=False, first_bad_seq=index, problem=f"{where}: hash does not match")
        if event["prev_hash"] != prev:
            return ok(
                ok=False,
                first_bad_seq=index,
                problem=f"{where}: prev_hash is not the hash before it",
            )
        prev = event["hash"]
        if event["action"] == "upload_material":
            uploads[event["detail"].get("material_id", "")] = event["detail"]
    proof = section["proof"]
    if proof.get("event_count") != len(timeline) or proof.get("head_hash") != prev:
        return ok(ok=False, problem="materials: the proof does not match the chain (count or head)")
    items = section["items"]
    for item in items:
        detail = uploads.pop(item.get("material_id", ""), None)
        if detail is None:
            return ok(
                ok=False, problem=f"materials: no upload event records {item.get('material_id')}"
            )
        differs = [n for n in _UPLOAD_FIELDS if n in detail and detail[n] != item.get(n)]
        if differs:
            named = f"materials: {item['material_id']}: {', '.join(differs)}"
            return ok(ok=False, problem=f"{named} differ from its upload event")
    if uploads:
        return ok(
            ok=False,
            problem=f"materials: upload events without an item: {', '.join(sorted(uploads))}",
        )
    checked = 0
    if files is not None:
        for sha in sorted({item["sha256"] for item in items}):
            blocks = files(sha)
            if blocks is None:
                return ok(ok=False, problem=f"materials: the bundle lacks materials/{sha}")
            digest = hashlib.sha256()
            for block in blocks:
                digest.update(block)
            if digest.hexdigest() != sha:
                return ok(ok=False, problem=f"materials: materials/{sha} does not hash to its name")
            checked += 1
    return ok(materials=len(items), material_events=len(timeline), files_checked=checked)


def verify_dossier(dossier: dict[str, Any], files: Files | None = None) -> Verdict:
    """Check a loaded dossier; the verdict names the first bad ``seq`` and why. ``files`` gives
    the bytes of the materials (a bundle) to hash against their items."""
    try:
        verdict = _walk(dossier)
        verdict = _agrees(dossier, verdict) if verdict.ok else verdict
        return _materials(dossier, verdict, files) if verdict.ok else verdict
    except (KeyError, TypeError, AttributeError, ValueError) as err:
        return Verdict(False, 0, GENESIS_HASH, None, f"not a dossier: {type(err).__name__} {err}")


def verify_bundle(path: str) -> Verdict:
    """Check a bundle: ``dossier.json`` and ``materials/<sha256>`` in one zip."""
    with zipfile.ZipFile(path) as bundle:
        names = set(bundle.namelist())
        dossier = json.loads(bundle.read("dossier.json").decode("utf-8"))

        def files(sha: str) -> Iterable[bytes] | None:
            name = f"materials/{sha}"
            if name not in names:
                return None
            return _blocks(bundle, name)

        return verify_dossier(dossier, files)


def _blocks(bundle: zipfile.ZipFile, name: str) -> Iterable[bytes]:
    with bundle.open(name) as handle:
        while block := handle.read(1024 * 1024):
            yield block


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m store.dossier_verify DOSSIER.json|DOSSIER.zip", file=sys.stderr)
        return 1
    try:
        if zipfile.is_zipfile(args[0]):
            verdict = verify_bundle(args[0])
        else:
            with open(args[0], encoding="utf-8") as handle:
                dossier = json.load(handle)
            verdict = verify_dossier(dossier)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as err:
        print(f"error: cannot read {args[0]}: {err}", file=sys.stderr)
        return 1
    if verdict.ok:
        line = f"ok: {verdict.events} events, head {verdict.head}"
        if verdict.materials or verdict.material_events:
            line += f"; materials: {verdict.materials} files, {verdict.material_events} events"
            if verdict.files_checked:
                line += f", {verdict.files_checked} files hashed"
        print(line)
        return 0
    where = f"first bad seq {verdict.first_bad_seq}" if verdict.first_bad_seq else "bad dossier"
    print(f"{where}: {verdict.problem}")
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
