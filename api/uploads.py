"""Reading a ``multipart/form-data`` upload as it arrives (docs/rules.md §19).

The request body is fed chunk by chunk to python-multipart's streaming parser; the bytes of the
one file part go straight into a :class:`store.materials.objects.Spool` (a temporary file, hashed
as it is written), a megabyte at a time, so an upload is never held whole in memory. The few text
fields (``kind``, ``masked`` …) are kept, each at most 1,000 bytes.

What is refused while reading, before anything is kept (the spool is removed):

- not ``multipart/form-data`` with a boundary: **415**;
- a file larger than the limit for its kind: **413**, as soon as the limit is passed (the rest of
  the body is not read). The limit is the kind's ``max_mb`` when ``kind`` came before the file
  (the console's form and the README's ``curl`` send it first), else the largest of the catalogue,
  and the kind's own limit is checked once the body is in;
- a body that ends before the closing boundary (a cut-off upload), a second file, a field that is
  too long or too many fields, a part without a name: **400**.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote

from fastapi import HTTPException, Request, status
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from store.materials.objects import CHUNK, ObjectStore, Spool

__all__ = ["MAX_FIELD_BYTES", "ReceivedUpload", "receive_upload", "too_large"]

MAX_FIELD_BYTES = 1000
MAX_FIELDS = 10


@dataclass
class ReceivedUpload:
    fields: dict[str, str] = field(default_factory=dict)
    filename: str | None = None
    #: The file, spooled and hashed (None when the body held no file part).
    spool: Spool | None = None
    sha256: str = ""

    def discard(self) -> None:
        if self.spool is not None:
            self.spool.discard()


def too_large(limit: int) -> HTTPException:
    mb = limit / (1024 * 1024)
    return HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE,
        f"文件过大，此类材料不超过 {mb:g} MB / the file is larger than {mb:g} MB, the limit for "
        "this kind of material",
    )


def _bad(message: str) -> HTTPException:
    return HTTPException(status.HTTP_400_BAD_REQUEST, message)


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None
    data: bytearray = field(default_factory=bytearray)
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


class _Reader:
    """The parser's callbacks: they only record what arrived; the coroutine writes it."""

    def __init__(self) -> None:
        self.part = _Part()
        self.header_name = b""
        self.header_value = b""
        self.fields: dict[str, str] = {}
        self.file_name: str | None = None
        self.in_file = False
        self.file_started = False
        self.pending = bytearray()
        self.ended = False
        self.error: str | None = None

    def on_part_begin(self) -> None:
        self.part = _Part()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        self.part.headers.append((self.header_name.lower(), self.header_value))
        self.header_name = self.header_value = b""

    def on_headers_finished(self) -> None:
        disposition = dict(self.part.headers).get(b"content-disposition", b"")
        _, options = parse_options_header(disposition)
        name = options.get(b"name")
        if name is None:
            self.error = "每个字段都需要名称 / a part of the form has no name"
            return
        self.part.name = name.decode("utf-8", "replace")
        if b"filename" in options:
            if self.file_started:
                self.error = "一次只能上传一个文件 / send one file per upload"
                return
            if self.part.name != "file":
                self.error = "文件字段应名为 file / the file field must be named 'file'"
                return
            self.file_started = self.in_file = True
            self.file_name = _raw_filename(disposition)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.error:
            return
        if self.in_file:
            self.pending += data[start:end]
            return
        self.part.data += data[start:end]
        if len(self.part.data) > MAX_FIELD_BYTES:
            self.error = f"字段 {self.part.name} 过长 / the field {self.part.name} is too long"

    def on_part_end(self) -> None:
        if self.in_file:
            self.in_file = False
            return
        if self.error or not self.part.name:
            return
        if len(self.fields) >= MAX_FIELDS:
            self.error = "字段过多 / too many fields"
            return
        self.fields[self.part.name] = self.part.data.decode("utf-8", "replace").strip()

    def on_end(self) -> None:
        self.ended = True


_STAR = re.compile(rb"filename\*\s*=\s*(?i:utf-8)''([^;\s]+)")
_QUOTED = re.compile(rb'filename\s*=\s*"((?:[^"\\]|\\.)*)"')
_TOKEN = re.compile(rb"filename\s*=\s*([^;\s]+)")


def _raw_filename(disposition: bytes) -> str:
    """The file name exactly as the client sent it. python-multipart drops everything up to a
    backslash (an old browser's habit), which would hide a path-like name the service refuses."""
    star = _STAR.search(disposition)
    if star:
        return unquote(star.group(1).decode("latin-1"), encoding="utf-8", errors="replace")
    found = _QUOTED.search(disposition) or _TOKEN.search(disposition)
    raw = found.group(1) if found else b""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


async def receive_upload(
    request: Request,
    objects: ObjectStore,
    *,
    limit_for: Callable[[dict[str, str]], int],
) -> ReceivedUpload:
    """Read the upload in ``request``; ``limit_for(fields so far)`` gives the largest file
    allowed once the file part begins. The caller owns (and must discard) the spool."""
    content_type = request.headers.get("content-type", "")
    kind, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            "请以 multipart/form-data 上传（字段 kind 和 file）/ upload as multipart/form-data "
            "with the fields kind and file",
        )
    reader = _Reader()
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": reader.on_part_begin,
            "on_part_data": reader.on_part_data,
            "on_part_end": reader.on_part_end,
            "on_header_field": reader.on_header_field,
            "on_header_value": reader.on_header_value,
            "on_header_end": reader.on_header_end,
            "on_headers_finished": reader.on_headers_finished,
            "on_end": reader.on_end,
        },
    )
    received = ReceivedUpload()
    limit = 0
    try:
        async for chunk in request.stream():
            try:
                parser.write(chunk)
            except MultipartParseError as err:
                raise _bad(f"无法解析上传内容 / unreadable multipart body ({err})") from None
            if reader.error:
                raise _bad(reader.error)
            if reader.file_started and received.spool is None:
                received.spool = objects.spool()
                received.filename = reader.file_name
                limit = limit_for(dict(reader.fields))
            if received.spool is not None and (
                len(reader.pending) >= CHUNK or (reader.pending and not reader.in_file)
            ):
                await _flush(received.spool, reader, limit)
        if not reader.ended:
            raise _bad(
                "上传不完整：请求在结束边界之前中断 / the upload is incomplete: the body ended "
                "before its closing boundary"
            )
        if received.spool is not None:
            await _flush(received.spool, reader, limit)
            received.sha256 = await asyncio.to_thread(received.spool.finish)
        received.fields = dict(reader.fields)
        return received
    except BaseException:
        received.discard()
        raise


async def _flush(spool: Spool, reader: _Reader, limit: int) -> None:
    if not reader.pending:
        return
    if spool.size + len(reader.pending) > limit:
        raise too_large(limit)
    data = bytes(reader.pending)
    reader.pending.clear()
    await asyncio.to_thread(spool.write, data)
