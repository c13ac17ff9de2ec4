"""Sample files to upload as materials (docs/rules.md §19): a small PDF per kind of a catalogue
and a photo, made on the spot. For the demo and the README's walk-through, never for a real
declaration (each says it is a sample)."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw
from reportlab.pdfgen import canvas

from domain.models import MaterialKind

__all__ = ["photo_jpeg", "sample_for", "sample_pdf", "write_samples"]


def sample_pdf(title: str, kind: str) -> bytes:
    """A one-page PDF naming the kind (ASCII text: no font needed)."""
    buffer = io.BytesIO()
    sheet = canvas.Canvas(buffer)
    sheet.setFont("Helvetica-Bold", 16)
    sheet.drawString(72, 760, f"SAMPLE - {kind}")
    sheet.setFont("Helvetica", 11)
    sheet.drawString(
        72,
        736,
        f"A sample upload for the demo ({title.encode('ascii', 'ignore').decode() or kind}).",
    )
    sheet.drawString(72, 718, "Not a real document.")
    sheet.showPage()
    sheet.save()
    return buffer.getvalue()


def photo_jpeg() -> bytes:
    """A 295x413 px (one-inch at 300 dpi) placeholder portrait."""
    image = Image.new("RGB", (295, 413), (225, 232, 240))
    draw = ImageDraw.Draw(image)
    draw.ellipse((97, 80, 197, 200), fill=(170, 180, 195))
    draw.rectangle((67, 220, 227, 413), fill=(170, 180, 195))
    draw.text((10, 10), "SAMPLE", fill=(120, 40, 40))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def sample_for(name: str, kind: MaterialKind) -> tuple[str, bytes, str]:
    """``(file name, bytes, media type)`` of a sample file the kind takes."""
    if kind.types and "pdf" not in kind.types:
        return f"{name}.jpg", photo_jpeg(), "image/jpeg"
    return f"{name}.pdf", sample_pdf(kind.label, name), "application/pdf"


def write_samples(directory: Path) -> list[Path]:
    """``sample.pdf`` and ``photo.jpg`` in ``directory`` (for ``curl -F file=@…``)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in (("sample.pdf", sample_pdf("sample", "sample")), ("photo.jpg", photo_jpeg())):
        path = directory / name
        path.write_bytes(data)
        written.append(path)
    return written
