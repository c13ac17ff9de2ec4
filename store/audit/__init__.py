"""The audit trail's hash chain (docs/rules.md §8; docs/audit.md).

Each declaration's events form one chain ordered by ``seq`` (1, 2, 3, …). Every row carries the
hash of the row before it (``prev_hash``; 64 zeros for ``seq`` 1) and its own ``hash``:

    hash = sha256(canonical_bytes(row)).hexdigest()

**Canonical form.** ``canonical_bytes`` serialises one JSON object holding exactly these fifteen
keys, every column of ``audit_event`` except ``id`` and ``hash``:

    declaration_id, campaign_id, seq, at, actor_id, actor_role, actor_org, action,
    stage_before, stage_after, outcome, opinion, reasons, detail, prev_hash

- keys sorted (at every depth), no whitespace (separators ``","`` and ``":"``), non-ASCII
  characters written as themselves (``ensure_ascii=False``), encoded as UTF-8;
- ``seq`` is a JSON integer; ``stage_before`` / ``stage_after`` are a string or ``null``;
- ``at`` is the instant in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (always six fractional
  digits and a literal ``Z``), e.g. ``"2024-09-25T02:00:00.000000Z"`` for 10:00 Beijing time;
- ``reasons`` (a list of strings) and ``detail`` (an object) are JSON *values*, not the JSON text
  the columns store; the columns store them in this same canonical form, so an auditor can
  recompute every hash from the table alone.

An auditor verifies a declaration by walking its rows in ``seq`` order: ``seq`` runs 1..n without
a gap, each ``prev_hash`` equals the previous row's ``hash``, and each ``hash`` equals the hash of
the row's canonical bytes (:func:`verify`). A deleted *last* event leaves a shorter chain that is
still consistent, so every chain is also compared with its **signed checkpoint** (``audit_head``:
the ``seq`` and ``hash`` of its last event, signed with the service's Ed25519 key and moved in
the same transaction as every append), and a declaration's chain with the read model, which
records the ``seq`` of the last event each view reflects (``declaration_read.version``).
``docs/audit.md`` describes the whole scheme for auditors.

The package, by concern: :mod:`~store.audit.canonical` (the canonical form and hashes),
:mod:`~store.audit.append` (writing), :mod:`~store.audit.heads` (signed checkpoints),
:mod:`~store.audit.verify` (verification). Everything is importable from ``store.audit``.
"""

from store.audit.append import append_events, chain_rows, insert_rows, tail_rows
from store.audit.canonical import (
    CANONICAL_FIELDS,
    GENESIS_HASH,
    ChainCheck,
    canonical_bytes,
    canonical_instant,
    event_hash,
    events_of,
    row_dict,
)
from store.audit.heads import AuditHead, head_message
from store.audit.verify import ChainReport, Progress, check_chains, count_chains, verify
from store.errors import AuditConflict, AuditGap

__all__ = [
    "CANONICAL_FIELDS",
    "GENESIS_HASH",
    "AuditConflict",
    "AuditGap",
    "AuditHead",
    "ChainCheck",
    "ChainReport",
    "Progress",
    "append_events",
    "canonical_bytes",
    "canonical_instant",
    "chain_rows",
    "check_chains",
    "count_chains",
    "event_hash",
    "events_of",
    "head_message",
    "insert_rows",
    "row_dict",
    "tail_rows",
    "verify",
]
