"""The codec server for the Temporal UI (Temporal's "remote data encoder" protocol): with payloads
encrypted (``gateway.codec``), the UI shows workflows' inputs, results and signals as ciphertext
unless it can ask someone who holds the keys, and only for people allowed to read them.

* ``POST /codec/decode`` (auditor, admin): ``{"payloads": [Payload…]}`` in protobuf JSON (as the
  UI sends them, with the caller's token when the UI is configured to pass it) → the same with
  every payload the service encrypted opened; one it did not encrypt (forged, or of another
  key) comes back as it was.
* ``POST /codec/encode`` (auditor, admin): answers the payloads **unchanged**. Encrypting here
  would hand whoever may call it the power to write commands the workers accept, in anyone's
  name; so what the UI sends (a signal typed into it, say) reaches Temporal unauthenticated and
  the workers refuse it. Commands go through the API, which checks and audits them.

Browsers call these from the UI's origin, so ``REVIEWCHAIN_CODEC_CORS_ORIGINS`` lists the origins
allowed (:class:`CodecCors` answers their preflight requests, which carry no token). Without
``REVIEWCHAIN_PAYLOAD_KEYS`` there is nothing to decode: 404.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.exceptions import RequestValidationError
from google.protobuf import json_format
from google.protobuf.message import Error as ProtobufError
from pydantic import BaseModel, ConfigDict, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.api.common.v1 import Payload, Payloads

from api.deps import Allow, SettingsDep
from api.openapi import problems
from domain.models import Actor
from gateway.codec import UNAUTHENTICATED, EncryptionCodec, data_converter
from settings import Settings

__all__ = ["CodecCors", "router"]

router = APIRouter(prefix="/codec", tags=["codec"])

Reader = Annotated[Actor, Depends(Allow("auditor", "admin"))]

NOT_ENCRYPTED = problems(404, s404="payloads are not encrypted here: nothing to decode")

#: Most payloads one call may carry (the UI sends one event's at a time).
MAX_PAYLOADS = 1000


#: Bytes in protobuf JSON: base64, padded (protobuf also reads unpadded and URL-safe text).
BASE64 = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
Base64 = Annotated[str, Field(pattern=BASE64)]


class ExternalPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: An int64 in protobuf, but a JSON number is exact up to 2^53 - 1 only.
    sizeBytes: int = Field(default=0, ge=0, le=2**53 - 1)


class CodecPayload(BaseModel):
    """One Temporal ``Payload`` in protobuf JSON, as the UI sends it."""

    model_config = ConfigDict(extra="forbid")

    metadata: dict[str, Base64] = Field(default_factory=dict, max_length=100)
    data: Base64 = ""
    externalPayloads: list[ExternalPayload] = Field(default_factory=list, max_length=100)


class CodecBody(BaseModel):
    """``{"payloads": [{"metadata": {"encoding": "<base64>"}, "data": "<base64>"}]}``: a
    ``Payloads`` message in protobuf JSON, which holds nothing else (the codec protocol)."""

    model_config = ConfigDict(extra="forbid")

    payloads: list[CodecPayload] = Field(default_factory=list, max_length=MAX_PAYLOADS)


def _codec(settings: Settings) -> EncryptionCodec:
    codec = data_converter(settings).payload_codec
    if not isinstance(codec, EncryptionCodec):
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            "payloads are not encrypted here (REVIEWCHAIN_PAYLOAD_KEYS is not set)",
        )
    return codec


def _parse(body: CodecBody) -> list[Payload]:
    payloads = [p.model_dump(exclude_defaults=True) for p in body.payloads]
    try:
        return list(json_format.ParseDict({"payloads": payloads}, Payloads()).payloads)
    except (json_format.ParseError, ProtobufError, ValueError, TypeError) as err:
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("body", "payloads"),
                    "input": None,
                    "msg": f"not Temporal payloads in protobuf JSON: {str(err)[:200]}",
                }
            ]
        ) from err


def _answer(payloads: list[Payload]) -> dict[str, Any]:
    answer: dict[str, Any] = json_format.MessageToDict(Payloads(payloads=payloads))
    answer.setdefault("payloads", [])
    return answer


@router.post("/decode", responses=NOT_ENCRYPTED)
async def decode(body: CodecBody, _: Reader, settings: SettingsDep) -> dict[str, Any]:
    """Open the payloads the service encrypted; leave any other as it came."""
    codec = _codec(settings)
    out = []
    for payload in _parse(body):
        opened = codec.decrypt(payload)
        out.append(payload if opened.metadata.get("encoding") == UNAUTHENTICATED else opened)
    return _answer(out)


@router.post("/encode", responses=NOT_ENCRYPTED)
async def encode(body: CodecBody, _: Reader, settings: SettingsDep) -> dict[str, Any]:
    """The payloads unchanged: nothing is encrypted for a caller (see the module docstring)."""
    _codec(settings)
    return _answer(_parse(body))


class CodecCors:
    """CORS for ``/codec/*`` only, for the origins of ``codec_cors_origins``: preflight requests
    are answered here (204), and the answers of the routes carry the origin back."""

    def __init__(self, app: ASGIApp, origins: str = "") -> None:
        self.app = app
        self.origins = {o.strip().rstrip("/") for o in origins.split(",") if o.strip()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/codec/"):
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        origin = headers.get(b"origin", b"").decode("latin-1")
        allowed = origin in self.origins
        cors = [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-allow-credentials", b"true"),
            (b"vary", b"Origin"),
        ]
        if scope["method"] == "OPTIONS" and b"access-control-request-method" in headers:
            preflight = [
                (b"access-control-allow-methods", b"POST, OPTIONS"),
                (b"access-control-allow-headers", b"Authorization, Content-Type, X-Namespace"),
                (b"access-control-max-age", b"600"),
            ]
            await send(
                {
                    "type": "http.response.start",
                    "status": 204 if allowed else 403,
                    "headers": [*cors, *preflight] if allowed else [(b"vary", b"Origin")],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return

        async def with_cors(message: Message) -> None:
            if allowed and message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *cors]
            await send(message)

        await self.app(scope, receive, with_cors)
