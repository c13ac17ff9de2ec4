"""The materials' part of a declaration's dossier (docs/rules.md §10.5, §19).

``materials`` in the dossier holds:

- ``items``: every file ever uploaded for the declaration (current and replaced), with its kind,
  masked flag, name, type, size, pages, SHA-256, who uploaded it when and at which stage, and
  which file it replaced or was replaced by;
- ``timeline``: the declaration's materials chain (``materials:<id>``): every upload and every
  read, with the fifteen canonical fields and the hash of each event, verified offline exactly as
  the declaration's own timeline is;
- ``proof``: the chain's id, event count and head hash.

With ``files`` (:func:`write_bundle`) the dossier travels as a zip: ``dossier.json`` and every
file's bytes as ``materials/<sha256>``; ``python -m store.dossier_verify dossier.zip`` then also
hashes each file against its item.
"""

from __future__ import annotations

import json
import zipfile
from typing import Any, BinaryIO

from sqlmodel import Session

from store.audit import GENESIS_HASH
from store.materials.objects import ObjectStore
from store.materials.records import all_files, chain_events, material_json, materials_chain

__all__ = ["BUNDLE_DOSSIER", "materials_section", "write_bundle"]

#: The dossier's name inside a bundle.
BUNDLE_DOSSIER = "dossier.json"


def materials_section(session: Session, declaration_id: str) -> dict[str, Any]:
    items = []
    for material in all_files(session, declaration_id):
        item = material_json(material)
        item.pop("current")
        items.append(item)
    timeline = chain_events(session, declaration_id)
    return {
        "chain_id": materials_chain(declaration_id),
        "items": items,
        "timeline": timeline,
        "proof": {
            "event_count": len(timeline),
            "head_hash": timeline[-1]["hash"] if timeline else GENESIS_HASH,
            "files": "in a bundle exported with files: materials/<sha256>",
        },
    }


def write_bundle(dossier: dict[str, Any], objects: ObjectStore, target: BinaryIO) -> int:
    """Write the dossier and the bytes of every file it names as a zip to ``target``; returns
    how many files it holds. Files stream from the store a megabyte at a time."""
    hashes = sorted({item["sha256"] for item in (dossier.get("materials") or {}).get("items", [])})
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as bundle:
        text = json.dumps(dossier, ensure_ascii=False, indent=2) + "\n"
        bundle.writestr(BUNDLE_DOSSIER, text.encode("utf-8"))
        for sha in hashes:
            info = zipfile.ZipInfo(f"materials/{sha}")
            info.compress_type = zipfile.ZIP_STORED  # scans do not compress
            with bundle.open(info, "w", force_zip64=True) as out:
                for block in objects.read(sha):
                    out.write(block)
    return len(hashes)
