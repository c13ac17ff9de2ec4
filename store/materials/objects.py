"""Where the bytes of uploaded materials live (docs/rules.md §19): one small interface,
:class:`ObjectStore`, over a directory (``file:./var/materials``, the default) or an S3-compatible
bucket (``s3://bucket``, e.g. MinIO), chosen by ``REVIEWCHAIN_STORAGE_URL``.

Objects are **content-addressed**: an object's name is the SHA-256 of its bytes, so writing the
same file twice writes it once, an object is never changed after it is written, and a reader can
check what it got against the hash the database recorded. The database keeps every other fact
(who uploaded what, for which declaration, which file replaced which).

An upload reaches the store in two steps. It is first **spooled** (:class:`Spool`): written in
chunks to a temporary file while it is hashed, so that no upload is ever held whole in memory and
its hash is known once its last byte is in. Once it has been checked it is **committed**
(:meth:`ObjectStore.put`) under its hash: a rename within the directory store, an upload of the
spooled file (in parts of 8 MiB, one at a time) to the bucket. A failed or refused upload is
discarded and leaves nothing; a commit whose database write then fails leaves an object nothing
names, which nobody can see and :func:`store.materials.records.sweep_orphans` removes later.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from settings import Settings

__all__ = [
    "CHUNK",
    "FileObjects",
    "ObjectStore",
    "S3Objects",
    "Spool",
    "open_objects",
]

#: Bytes read or written at a time.
CHUNK = 1024 * 1024
#: Bytes of the start of an upload kept in memory to judge its type (and an image's header).
HEAD_BYTES = 256 * 1024
TAIL_BYTES = 4096
_HEX64 = frozenset("0123456789abcdef")


def _check_hash(sha256: str) -> str:
    if len(sha256) != 64 or not set(sha256) <= _HEX64:
        raise ValueError(f"not a SHA-256 in hex: {sha256!r}")
    return sha256


@dataclass
class Spool:
    """An upload being written to a temporary file in ``directory``, hashed as it goes."""

    directory: Path
    path: Path = field(init=False)
    size: int = 0
    head: bytearray = field(default_factory=bytearray)
    tail: bytes = b""
    _hash: Any = field(default_factory=hashlib.sha256)
    _file: Any = None

    def __post_init__(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix="upload-", suffix=".part", dir=self.directory)
        self.path = Path(name)
        self._file = os.fdopen(handle, "wb")

    def write(self, data: bytes) -> None:
        if not data:
            return
        self._file.write(data)
        self._hash.update(data)
        self.size += len(data)
        if len(self.head) < HEAD_BYTES:
            self.head += data[: HEAD_BYTES - len(self.head)]
        self.tail = (
            (self.tail + data)[-TAIL_BYTES:] if len(data) < TAIL_BYTES else data[-TAIL_BYTES:]
        )

    def finish(self) -> str:
        """Flush the file to disk and return the SHA-256 of everything written."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        return str(self._hash.hexdigest())

    @property
    def sha256(self) -> str:
        return str(self._hash.hexdigest())

    def discard(self) -> None:
        """Remove the temporary file (a refused, cut-off or failed upload leaves nothing)."""
        if self._file is not None and not self._file.closed:
            self._file.close()
        self.path.unlink(missing_ok=True)


class ObjectStore(Protocol):
    """What the service needs of a place for bytes."""

    #: A printable name (``file:/srv/materials``, ``s3://bucket``), never a secret.
    name: str

    def spool(self) -> Spool:
        """A new temporary file for an upload, where :meth:`put` commits it from cheaply."""
        ...

    def put(self, sha256: str, source: Path) -> bool:
        """Commit ``source`` (a finished spool) as the object ``sha256``; True when written,
        False when the object existed already. ``source`` is consumed either way."""
        ...

    def exists(self, sha256: str) -> bool: ...

    def read(self, sha256: str, chunk: int = CHUNK) -> Iterator[bytes]:
        """The object's bytes in chunks (KeyError when absent)."""
        ...

    def delete(self, sha256: str) -> None: ...

    def objects(self) -> Iterator[tuple[str, datetime]]:
        """Every object as ``(sha256, when it was written)``."""
        ...

    def stale_spools(self, older_than: datetime) -> list[Path]:
        """Temporary files of uploads that never finished (a crashed process), for removal."""
        ...


class FileObjects:
    """Objects as read-only files ``<root>/sha256/<first two hex digits>/<sha256>``; uploads
    spool in ``<root>/.incoming`` (the same file system, so a commit is a rename)."""

    def __init__(self, root: Path, spool_dir: Path | None = None) -> None:
        self.root = root.resolve()
        self.incoming = (spool_dir or self.root / ".incoming").resolve()
        self.name = f"file:{self.root}"

    def _path(self, sha256: str) -> Path:
        _check_hash(sha256)
        return self.root / "sha256" / sha256[:2] / sha256

    def spool(self) -> Spool:
        return Spool(self.incoming)

    def put(self, sha256: str, source: Path) -> bool:
        target = self._path(sha256)
        if target.exists():
            source.unlink(missing_ok=True)
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(source, 0o444)
        try:
            os.replace(source, target)
        except OSError:  # another file system (a spool directory set elsewhere): copy, then rename
            handle, temp = tempfile.mkstemp(dir=target.parent, prefix=".copy-")
            with os.fdopen(handle, "wb") as out, source.open("rb") as src:
                while block := src.read(CHUNK):
                    out.write(block)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temp, 0o444)
            os.replace(temp, target)
            source.unlink(missing_ok=True)
        _fsync_dir(target.parent)
        return True

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).is_file()

    def read(self, sha256: str, chunk: int = CHUNK) -> Iterator[bytes]:
        path = self._path(sha256)
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            raise KeyError(sha256) from None
        with handle:
            while block := handle.read(chunk):
                yield block

    def local_path(self, sha256: str) -> Path | None:
        """The object's file (for readers that need random access, e.g. a PDF)."""
        path = self._path(sha256)
        return path if path.is_file() else None

    def delete(self, sha256: str) -> None:
        path = self._path(sha256)
        if path.exists():
            os.chmod(path, 0o644)
            path.unlink()

    def objects(self) -> Iterator[tuple[str, datetime]]:
        base = self.root / "sha256"
        if not base.is_dir():
            return
        for folder in sorted(base.iterdir()):
            for path in sorted(folder.iterdir()) if folder.is_dir() else ():
                if len(path.name) == 64 and set(path.name) <= _HEX64:
                    yield path.name, datetime.fromtimestamp(path.stat().st_mtime, UTC)

    def stale_spools(self, older_than: datetime) -> list[Path]:
        if not self.incoming.is_dir():
            return []
        return [
            p
            for p in self.incoming.glob("upload-*.part")
            if datetime.fromtimestamp(p.stat().st_mtime, UTC) < older_than
        ]


def _fsync_dir(path: Path) -> None:
    try:
        handle = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


class S3Objects:
    """Objects ``sha256/<sha256>`` in an S3-compatible bucket (boto3; MinIO in compose). Uploads
    spool in a local directory first: the hash must be known before the object is named."""

    #: Parts of a multipart upload, sent one at a time: an upload holds at most this in memory.
    PART = 8 * 1024 * 1024

    def __init__(
        self,
        bucket: str,
        *,
        endpoint: str = "",
        access_key: str = "",
        secret_key: str = "",
        region: str = "us-east-1",
        spool_dir: Path | None = None,
    ) -> None:
        import boto3
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config

        self.bucket = bucket
        self.name = f"s3://{bucket}" + (f" at {endpoint}" if endpoint else "")
        self.incoming = spool_dir or Path(tempfile.gettempdir()) / "reviewchain-uploads"
        self._client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint or None,
            aws_access_key_id=access_key or None,
            aws_secret_access_key=secret_key or None,
            region_name=region,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                retries={"max_attempts": 4, "mode": "standard"},
            ),
        )
        self._transfer = TransferConfig(
            multipart_threshold=self.PART,
            multipart_chunksize=self.PART,
            max_concurrency=1,
            use_threads=False,
        )
        self._bucket_ready = False

    @staticmethod
    def _key(sha256: str) -> str:
        return f"sha256/{_check_hash(sha256)}"

    def _missing(self, err: Exception) -> bool:
        code = str(getattr(err, "response", {}).get("Error", {}).get("Code", ""))
        return code in ("404", "NoSuchKey", "NotFound", "NoSuchBucket")

    def ensure_bucket(self) -> None:
        """Create the bucket when it does not exist yet (MinIO starts empty)."""
        if self._bucket_ready:
            return
        from botocore.exceptions import ClientError

        try:
            self._client.head_bucket(Bucket=self.bucket)
        except ClientError as err:
            if not self._missing(err):
                raise
            self._client.create_bucket(Bucket=self.bucket)
        self._bucket_ready = True

    def spool(self) -> Spool:
        return Spool(self.incoming)

    def put(self, sha256: str, source: Path) -> bool:
        try:
            self.ensure_bucket()
            if self.exists(sha256):
                return False
            self._client.upload_file(
                str(source),
                self.bucket,
                self._key(sha256),
                ExtraArgs={"Metadata": {"sha256": sha256}},
                Config=self._transfer,
            )
            return True
        finally:
            source.unlink(missing_ok=True)

    def exists(self, sha256: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._client.head_object(Bucket=self.bucket, Key=self._key(sha256))
        except ClientError as err:
            if self._missing(err):
                return False
            raise
        return True

    def read(self, sha256: str, chunk: int = CHUNK) -> Iterator[bytes]:
        from botocore.exceptions import ClientError

        try:
            answer = self._client.get_object(Bucket=self.bucket, Key=self._key(sha256))
        except ClientError as err:
            if self._missing(err):
                raise KeyError(sha256) from None
            raise
        body = answer["Body"]
        try:
            yield from body.iter_chunks(chunk)
        finally:
            body.close()

    def delete(self, sha256: str) -> None:
        self._client.delete_object(Bucket=self.bucket, Key=self._key(sha256))

    def objects(self) -> Iterator[tuple[str, datetime]]:
        self.ensure_bucket()
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix="sha256/"
        )
        for page in pages:
            for item in page.get("Contents", []):
                name = item["Key"].removeprefix("sha256/")
                if len(name) == 64 and set(name) <= _HEX64:
                    yield name, item["LastModified"]

    def stale_spools(self, older_than: datetime) -> list[Path]:
        if not self.incoming.is_dir():
            return []
        return [
            p
            for p in self.incoming.glob("upload-*.part")
            if datetime.fromtimestamp(p.stat().st_mtime, UTC) < older_than
        ]


def open_objects(settings: Settings) -> ObjectStore:
    """The object store ``REVIEWCHAIN_STORAGE_URL`` names: ``file:<directory>`` (relative to the
    working directory, e.g. ``file:./var/materials``) or ``s3://<bucket>`` with
    ``REVIEWCHAIN_S3_ENDPOINT``, ``_ACCESS_KEY`` and ``_SECRET_KEY``."""
    url = settings.storage_url.strip()
    spool = Path(settings.upload_spool_dir) if settings.upload_spool_dir else None
    if url.startswith("file:"):
        rest = url.removeprefix("file:")
        if rest.startswith("//"):
            rest = rest[2:]
        if not rest:
            raise ValueError("REVIEWCHAIN_STORAGE_URL file: needs a directory")
        return FileObjects(Path(rest), spool)
    if url.startswith("s3://"):
        bucket = url.removeprefix("s3://").strip("/")
        if not bucket or "/" in bucket:
            raise ValueError("REVIEWCHAIN_STORAGE_URL s3:// needs a bucket name and nothing else")
        return S3Objects(
            bucket,
            endpoint=settings.s3_endpoint,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key,
            region=settings.s3_region,
            spool_dir=spool,
        )
    raise ValueError(
        f"unsupported REVIEWCHAIN_STORAGE_URL {url!r}: use file:./var/materials or s3://bucket"
    )
