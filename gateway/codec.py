"""Payload protection: every payload the service hands Temporal is encrypted and authenticated
(AES-256-GCM), so that Temporal, its database, its UI and anyone who can reach its frontend see
neither ID numbers nor opinions, and cannot forge a command.

This is Temporal's documented encryption approach (a ``PayloadCodec`` in the data converter, as
in temporalio/samples-python ``encryption/``): a payload becomes ``encoding: binary/encrypted``
with the key's id in ``encryption-key-id`` and ``nonce (12 bytes) || AES-GCM(serialized payload)``
as its data, the key id also bound as associated data. ``REVIEWCHAIN_PAYLOAD_KEYS`` holds the
keys as ``id:base64`` entries separated by commas (``python cli.py keys payload`` makes one):
the **first encrypts, all decrypt**, so a key is rotated by putting a new one first and keeping
the old one until no history needs it.

**A command the worker cannot authenticate changes nothing.** The workflows trust the actor
written inside a command, so the codec is also the service's signature on it: only a holder of a
key can produce a payload that decrypts. A payload that is not encrypted, names an unknown key or
fails authentication is **not** decoded: the codec hands on a payload of encoding
``binary/unauthenticated`` (:data:`UNAUTHENTICATED`) that no payload converter reads. The codec
never raises while decoding: a codec error while decoding a workflow activation fails the
workflow task, again at every retry, and would let anyone wedge a declaration with one bad
signal. Instead the Python SDK meets an argument it cannot convert per handler: a **signal** is
dropped (logged: "Failed deserializing signal input … dropping the signal"), an **update** is
rejected before its validator runs (the caller gets "Failed decoding arguments"), and neither
enters the workflow's state. A signal or update sent with no argument at all needs no decoding;
the worker's interceptor (:mod:`workflows.guard`) drops or rejects those.

``REVIEWCHAIN_PAYLOAD_ACCEPT_PLAINTEXT=true`` decodes unencrypted payloads as before, only while
workflows started before the keys were set are still running (their histories hold plaintext);
while it is on, the door this module closes is open.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, PayloadCodec

from settings import Settings

__all__ = [
    "ENCRYPTED",
    "KEY_ID",
    "UNAUTHENTICATED",
    "EncryptionCodec",
    "PayloadKeys",
    "data_converter",
    "new_payload_key",
    "with_data_converter",
]

ENCRYPTED = b"binary/encrypted"
UNAUTHENTICATED = b"binary/unauthenticated"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12


def new_payload_key(key_id: str) -> str:
    """A fresh ``id:base64`` entry for ``REVIEWCHAIN_PAYLOAD_KEYS`` (a 256-bit AES key)."""
    return f"{key_id}:{base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()}"


class PayloadKeys:
    """The keys of ``REVIEWCHAIN_PAYLOAD_KEYS``, in order: the first encrypts."""

    def __init__(self, keys: Sequence[tuple[str, bytes]]) -> None:
        if not keys:
            raise ValueError("REVIEWCHAIN_PAYLOAD_KEYS names no key")
        ids = [key_id for key_id, _ in keys]
        if len(set(ids)) != len(ids):
            raise ValueError("REVIEWCHAIN_PAYLOAD_KEYS names a key id twice")
        self.current = ids[0]
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys}

    @classmethod
    def parse(cls, text: str) -> PayloadKeys:
        keys = []
        for entry in (e.strip() for e in text.split(",")):
            if not entry:
                continue
            key_id, sep, encoded = entry.partition(":")
            if not sep or not key_id or len(key_id) > 64:
                raise ValueError("REVIEWCHAIN_PAYLOAD_KEYS entries are id:base64-key")
            try:
                key = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError) as err:
                raise ValueError(f"payload key {key_id}: not base64") from err
            if len(key) not in (16, 24, 32):
                raise ValueError(f"payload key {key_id}: {len(key)} bytes, AES needs 16, 24 or 32")
            keys.append((key_id, key))
        return cls(keys)

    def cipher(self, key_id: str) -> AESGCM | None:
        return self._ciphers.get(key_id)


def _unauthenticated(why: str) -> Payload:
    return Payload(metadata={"encoding": UNAUTHENTICATED, "reason": why.encode()}, data=b"")


class EncryptionCodec(PayloadCodec):
    """AES-GCM over whole payloads; see the module docstring."""

    def __init__(self, keys: PayloadKeys, *, accept_plaintext: bool = False) -> None:
        self.keys = keys
        self.accept_plaintext = accept_plaintext

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(p) for p in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        key_id = self.keys.current
        cipher = self.keys.cipher(key_id)
        assert cipher is not None
        nonce = os.urandom(NONCE_BYTES)
        sealed = cipher.encrypt(nonce, payload.SerializeToString(), key_id.encode())
        return Payload(
            metadata={"encoding": ENCRYPTED, KEY_ID: key_id.encode()}, data=nonce + sealed
        )

    def decrypt(self, payload: Payload) -> Payload:
        """The payload sealed inside ``payload``, or an unauthenticated marker; never raises."""
        if payload.metadata.get("encoding") != ENCRYPTED:
            if self.accept_plaintext:
                return payload
            return _unauthenticated("not encrypted with the service's keys")
        key_id = payload.metadata.get(KEY_ID, b"").decode("utf-8", "replace")
        cipher = self.keys.cipher(key_id)
        if cipher is None:
            return _unauthenticated(f"encrypted with an unknown key {key_id[:64]!r}")
        try:
            opened = cipher.decrypt(
                payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:], key_id.encode()
            )
            return Payload.FromString(opened)
        except (InvalidTag, ValueError):
            return _unauthenticated("failed authentication: forged or damaged")
        except Exception:  # a protobuf decode error: the same, whatever its class
            return _unauthenticated("failed authentication: forged or damaged")


def data_converter(settings: Settings) -> DataConverter:
    """The service's data converter: pydantic, plus the payload codec when keys are set."""
    if not settings.payload_keys:
        return pydantic_data_converter
    codec = EncryptionCodec(
        PayloadKeys.parse(settings.payload_keys),
        accept_plaintext=settings.payload_accept_plaintext,
    )
    return dataclasses.replace(pydantic_data_converter, payload_codec=codec)


def with_data_converter(client: Client, settings: Settings) -> Client:
    """``client`` with the service's data converter (the same connection): what
    ``build_worker`` and ``create_app`` do to the client they are given, so a caller may pass a
    plain client built with ``pydantic_data_converter``."""
    converter = data_converter(settings)
    if client.data_converter == converter:
        return client
    config = client.config()
    config["data_converter"] = converter
    return Client(**config)
