"""Verify a declaration's dossier offline (docs/rules.md §10.5), with the standard library only.

    python -m store.dossier_verify dossier.json [--public-key BASE64]
    python -m store.dossier_verify dossier.zip    # a dossier exported with its files
    python dossier_verify.py dossier.json        # this one file, copied anywhere

prints ``ok: N events, head <hash>, signed by key <id>`` and exits 0 when every event of the
dossier's timeline hashes to its recorded ``hash`` and links to the one before it, the chain is
as long as the proof and the declaration's read-model version say, its head is the proof's
``head_hash`` and the chain's signed checkpoint, the dossier's decisions and deadline entries
repeat the timeline faithfully, and the whole dossier carries a valid Ed25519 signature.
Its ``materials``
section (docs/rules.md §19) is checked the same way: the materials chain's every hash and link,
its length and head against its proof, every file item recorded by an upload event of that chain
with the same id, kind, size and SHA-256 (and every upload event naming an item); given a bundle
(a zip with ``dossier.json`` and ``materials/<sha256>``), every file's bytes are hashed against
its item too. Otherwise it prints the first bad sequence number and why, and exits 1.

**The signature** is what makes a dossier evidence: anyone can recompute hashes, so a dossier
edited and fully re-hashed would otherwise verify. The service signs the canonical JSON of the
whole document (without its ``signature`` member; sorted keys, no whitespace, UTF-8) with its
Ed25519 key. ``--public-key`` takes the service's public key as published at
``GET /audit/public-key`` (``public_key``); without it the key embedded in the dossier is used and
the output says to compare its id with the published one (a forger could sign with a key of
their own). Ed25519 is verified here in pure Python (RFC 8032 §5.1.7), so the file still needs
nothing but the standard library.

This module imports nothing from the project on purpose: a regulator can read it whole and run
it without installing anything. Its canonical form is the one ``store.audit`` writes (a test
keeps the two in step), described in :data:`CANONICAL_FORM`, which every dossier embeds.
"""

from __future__ import annotations

import base64
import binascii
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
    "document_bytes",
    "ed25519_verify",
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
    key_id: str | None = None
    #: Files the materials section lists, and events of the materials chain.
    materials: int = 0
    material_events: int = 0
    #: Files whose bytes were hashed against their items (a bundle).
    files_checked: int = 0


# --------------------------------------------------------------------------- Ed25519 (RFC 8032)

_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _x_of(y: int, sign: int) -> int | None:
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P:
        return None
    return _P - x if (x & 1) != sign else x


def _add(p: tuple[int, ...], q: tuple[int, ...]) -> tuple[int, int, int, int]:
    """Points in extended coordinates (X, Y, Z, T)."""
    a = (p[1] - p[0]) * (q[1] - q[0]) % _P
    b = (p[1] + p[0]) * (q[1] + q[0]) % _P
    c = 2 * p[3] * q[3] * _D % _P
    d = 2 * p[2] * q[2] % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return e * f % _P, g * h % _P, f * g % _P, e * h % _P


def _times(s: int, p: tuple[int, ...]) -> tuple[int, ...]:
    q: tuple[int, ...] = (0, 1, 1, 0)
    while s:
        if s & 1:
            q = _add(q, p)
        p = _add(p, p)
        s >>= 1
    return q


def _point(data: bytes) -> tuple[int, int, int, int] | None:
    y = int.from_bytes(data, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    x = _x_of(y, sign)
    return None if x is None else (x, y, 1, x * y % _P)


_BASE = _point((4 * pow(5, _P - 2, _P) % _P).to_bytes(32, "little"))


def ed25519_verify(public: bytes, message: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is ``public``'s Ed25519 signature of ``message``."""
    if len(public) != 32 or len(signature) != 64 or _BASE is None:
        return False
    a, r = _point(public), _point(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= _L:
        return False
    k = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % _L
    left, right = _times(s, _BASE), _add(r, _times(k, a))
    return (left[0] * right[2] - right[0] * left[2]) % _P == 0 and (
        left[1] * right[2] - right[1] * left[2]
    ) % _P == 0


def _key(text: Any) -> bytes:
    raw = base64.b64decode(str(text), validate=True)
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return raw


def _key_id(public: bytes) -> str:
    return hashlib.sha256(public).hexdigest()[:16]


def document_bytes(dossier: dict[str, Any]) -> bytes:
    """What the dossier's signature covers: the document without ``signature``, canonical JSON."""
    body = {k: v for k, v in dossier.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def head_message(chain: str, campaign_id: str, seq: int, digest: str) -> bytes:
    """What a chain's checkpoint signature covers (the store's ``store.audit.heads``)."""
    return f"review-chain audit head v1\n{chain}\n{campaign_id}\n{seq}\n{digest}".encode()


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


def _signed(dossier: dict[str, Any], verdict: Verdict, public_key: str | None) -> Verdict:
    """The whole document's signature, and the chain's signed checkpoint."""
    block = dossier.get("signature")
    if not isinstance(block, dict) or block.get("algorithm") != "Ed25519":
        return verdict._replace(ok=False, problem="the dossier is not signed (Ed25519)")
    try:
        embedded = _key(block["public_key"])
        trusted = _key(public_key) if public_key else embedded
        signature = base64.b64decode(str(block["value"]), validate=True)
    except (binascii.Error, ValueError, KeyError) as err:
        return verdict._replace(ok=False, problem=f"unreadable signature: {err}")
    if trusted != embedded:
        return verdict._replace(
            ok=False,
            problem=f"signed with key {_key_id(embedded)}, not the service's key "
            f"{_key_id(trusted)}: the dossier was re-signed by someone else",
        )
    if block.get("key_id") != _key_id(embedded):
        return verdict._replace(ok=False, problem="the signature's key_id is not its key's")
    if not ed25519_verify(embedded, document_bytes(dossier), signature):
        return verdict._replace(
            ok=False,
            problem="the signature does not match the document: it was altered after signing",
        )
    checkpoint = dossier["proof"].get("checkpoint")
    if not isinstance(checkpoint, dict):
        return verdict._replace(ok=False, problem="the proof holds no signed checkpoint")
    message = head_message(
        dossier["declaration_id"], checkpoint["campaign_id"], checkpoint["seq"], checkpoint["hash"]
    )
    head_key = _key(checkpoint["public_key"])
    if _key_id(head_key) != checkpoint.get("key_id") or not ed25519_verify(
        head_key, message, base64.b64decode(str(checkpoint["signature"]), validate=True)
    ):
        return verdict._replace(ok=False, problem="the chain's checkpoint signature is invalid")
    if (checkpoint["seq"], checkpoint["hash"]) != (verdict.events, verdict.head):
        return _bad(
            verdict.events,
            verdict.head,
            min(checkpoint["seq"], verdict.events) + 1,
            f"the signed checkpoint names event {checkpoint['seq']}, the timeline ends at "
            f"event {verdict.events}",
        )
    return verdict._replace(key_id=_key_id(embedded))


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


def verify_dossier(
    dossier: dict[str, Any], public_key: str | None = None, files: Files | None = None
) -> Verdict:
    """Check a loaded dossier (against the service's ``public_key``, base64, when given); the
    verdict names the first bad ``seq`` and why. ``files`` gives the bytes of the materials (a
    bundle) to hash against their items."""
    try:
        verdict = _walk(dossier)
        verdict = _agrees(dossier, verdict) if verdict.ok else verdict
        verdict = _materials(dossier, verdict, files) if verdict.ok else verdict
        return _signed(dossier, verdict, public_key) if verdict.ok else verdict
    except (KeyError, TypeError, AttributeError, ValueError) as err:
        return Verdict(False, 0, GENESIS_HASH, None, f"not a dossier: {type(err).__name__} {err}")


def verify_bundle(path: str, public_key: str | None = None) -> Verdict:
    """Check a bundle: ``dossier.json`` and ``materials/<sha256>`` in one zip."""
    with zipfile.ZipFile(path) as bundle:
        names = set(bundle.namelist())
        dossier = json.loads(bundle.read("dossier.json").decode("utf-8"))

        def files(sha: str) -> Iterable[bytes] | None:
            name = f"materials/{sha}"
            if name not in names:
                return None
            return _blocks(bundle, name)

        return verify_dossier(dossier, public_key, files)


def _blocks(bundle: zipfile.ZipFile, name: str) -> Iterable[bytes]:
    with bundle.open(name) as handle:
        while block := handle.read(1024 * 1024):
            yield block


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    public_key = None
    if "--public-key" in args:
        at = args.index("--public-key")
        if at + 1 >= len(args):
            print("error: --public-key needs the key (base64)", file=sys.stderr)
            return 1
        public_key = args[at + 1]
        del args[at : at + 2]
    if len(args) != 1:
        print(
            "usage: python -m store.dossier_verify DOSSIER.json|DOSSIER.zip [--public-key BASE64]",
            file=sys.stderr,
        )
        return 1
    try:
        if zipfile.is_zipfile(args[0]):
            verdict = verify_bundle(args[0], public_key)
        else:
            with open(args[0], encoding="utf-8") as handle:
                dossier = json.load(handle)
            verdict = verify_dossier(dossier, public_key)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as err:
        print(f"error: cannot read {args[0]}: {err}", file=sys.stderr)
        return 1
    if verdict.ok:
        line = f"ok: {verdict.events} events, head {verdict.head}, signed by key {verdict.key_id}"
        if verdict.materials or verdict.material_events:
            line += f"; materials: {verdict.materials} files, {verdict.material_events} events"
            if verdict.files_checked:
                line += f", {verdict.files_checked} files hashed"
        print(line)
        if public_key is None:
            print(
                f"note: key {verdict.key_id} is the one the dossier carries; compare it with the "
                "service's (GET /audit/public-key) or pass --public-key"
            )
        return 0
    where = f"first bad seq {verdict.first_bad_seq}" if verdict.first_bad_seq else "bad dossier"
    print(f"{where}: {verdict.problem}")
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
