"""The service's audit signing key (Ed25519): it signs each chain's checkpoint
(:mod:`store.audit.heads`) and every dossier (:mod:`store.dossier`), and its public key is
published (``GET /audit/public-key``) so that anyone can check both offline.

``REVIEWCHAIN_SIGNING_KEY`` holds the key as the base64 of its 32-byte seed
(``python cli.py keys signing`` makes one). Without it, a development process generates one
in ``var/audit-signing-key`` (mode 0600) the first time and reuses it; production refuses to
start without it (``settings.check_startup``). Keep the key outside the database: whoever holds
it, and only they, can write a checkpoint that verifies. After a rotation, list the earlier
public keys in ``REVIEWCHAIN_SIGNING_PREVIOUS_PUBLIC_KEYS`` so that what they signed still
verifies; each chain is signed again with the new key at its next event.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

if TYPE_CHECKING:
    from settings import Settings

__all__ = ["Signer", "key_id_of", "new_signing_key"]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id_of(public_raw: bytes) -> str:
    """A key's id: the first 16 hex digits of the SHA-256 of its raw public key."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


def _decode_key(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as err:
        raise ValueError(f"{what} is not base64") from err
    if len(raw) != 32:
        raise ValueError(f"{what} must be 32 bytes (base64 of an Ed25519 key), not {len(raw)}")
    return raw


def new_signing_key() -> str:
    """A fresh signing key, as ``REVIEWCHAIN_SIGNING_KEY`` takes it."""
    return _b64(os.urandom(32))


class Signer:
    """Signs with the current key; verifies with it and with the earlier keys still trusted."""

    def __init__(self, seed: bytes, previous: list[bytes] | None = None) -> None:
        self._private = Ed25519PrivateKey.from_private_bytes(seed)
        self.public_raw = _raw(self._private.public_key())
        self.key_id = key_id_of(self.public_raw)
        self._trusted: dict[str, Ed25519PublicKey] = {self.key_id: self._private.public_key()}
        for raw in previous or []:
            self._trusted[key_id_of(raw)] = Ed25519PublicKey.from_public_bytes(raw)

    @property
    def public_key(self) -> str:
        """The current public key, base64 of its 32 raw bytes."""
        return _b64(self.public_raw)

    def trusted_keys(self) -> dict[str, str]:
        """Every key a signature may verify with: key id -> base64 public key."""
        return {kid: _b64(_raw(key)) for kid, key in self._trusted.items()}

    def sign(self, message: bytes) -> str:
        return _b64(self._private.sign(message))

    def verify(self, key_id: str, message: bytes, signature: str) -> bool:
        key = self._trusted.get(key_id)
        if key is None:
            return False
        try:
            key.verify(base64.b64decode(signature, validate=True), message)
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True

    @classmethod
    def from_text(cls, key: str, previous: str = "") -> Signer:
        olds = [_decode_key(k, "a previous public key") for k in previous.split(",") if k.strip()]
        return cls(_decode_key(key, "REVIEWCHAIN_SIGNING_KEY"), olds)

    @classmethod
    def development(cls, path: Path, previous: str = "") -> Signer:
        """The key kept in ``path``, generated there (mode 0600) the first time."""
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            draft = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(new_signing_key() + "\n")
            try:
                os.link(draft, path)  # atomic, and never over a key another process made
            except FileExistsError:
                pass  # the worker and the API started together: use the one that won
            finally:
                draft.unlink()
        return cls.from_text(path.read_text().strip(), previous)

    @classmethod
    def from_settings(cls, settings: Settings) -> Signer:
        if settings.signing_key:
            return cls.from_text(settings.signing_key, settings.signing_previous_public_keys)
        return cls.development(
            Path(settings.signing_key_file), settings.signing_previous_public_keys
        )
