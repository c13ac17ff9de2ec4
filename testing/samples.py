"""Files to upload in tests and benchmarks: real PDFs, JPEGs and PNGs, made here (no fixture
files in the repository), of any size."""

from __future__ import annotations

import io
import os

from PIL import Image
from pypdf import PdfWriter
from reportlab.pdfgen import canvas


def pdf(text: str = "学历证书 degree certificate (test)", pages: int = 1, size: int = 0) -> bytes:
    """A PDF of ``pages`` pages; with ``size``, padded to at least that many bytes with an
    attached file of random bytes (incompressible, like a scan)."""
    buffer = io.BytesIO()
    sheet = canvas.Canvas(buffer)
    for number in range(1, pages + 1):
        sheet.drawString(72, 760, f"{text} - page {number}")
        sheet.showPage()
    sheet.save()
    data = buffer.getvalue()
    if size > len(data):
        writer = PdfWriter(clone_from=io.BytesIO(data))
        writer.add_attachment("scan.bin", os.urandom(size - len(data)))
        out = io.BytesIO()
        writer.write(out)
        data = out.getvalue()
    return data


def jpeg(
    width: int = 640, height: int = 480, colour: tuple[int, int, int] = (200, 210, 220)
) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "JPEG", quality=85)
    return out.getvalue()


def png(width: int = 320, height: int = 240) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (250, 250, 250)).save(out, "PNG")
    return out.getvalue()
