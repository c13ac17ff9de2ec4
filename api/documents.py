"""What the service does with the content of an uploaded PDF or image (docs/rules.md §19).

**Inspection at upload** (:func:`inspect_file`): a PDF must open, without a password (a reviewer
must read it and the service must stamp it), and its pages are counted; an image must open and be
at most 50 megapixels. Anything else is refused as a file nobody could read (004 附件2 二(二):
"附件材料无法打开的情况，一律视为无相关附件材料").

**Visible watermarks** on the materials reviewers open: every page of a PDF
and every image is served with the reader's id, role and organisation, the instant (Beijing
time) and the declaration, repeated across it, so that a copy that leaves the service names who
took it and when. The original stays untouched in the store (its SHA-256 is what the audit
trail and the dossier name); the stamped copy is made per request and never kept.

PDF pages get a transparent overlay drawn with reportlab and merged with pypdf; images are drawn
on with Pillow and re-encoded in their own format. The text is ASCII so that it renders with the
fonts every PDF reader and Pillow carry.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageDraw, ImageFont
from pypdf import PdfReader, PdfWriter, Transformation
from reportlab.lib.colors import Color
from reportlab.pdfgen import canvas

from domain.calendar import BEIJING
from domain.materials import FileType
from domain.models import Actor

__all__ = ["MAX_IMAGE_PIXELS", "inspect_file", "stamp", "watermark_text"]

#: Largest image the service opens (50 megapixels: a 600 dpi A3 scan); larger ones are refused at
#: upload, so a decompression bomb never reaches a reader.
MAX_IMAGE_PIXELS = 50_000_000
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS


def watermark_text(actor: Actor, at: datetime, declaration_id: str) -> str:
    org = f", {actor.org}" if actor.org else ""
    instant = at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S +08:00")
    return f"REVIEW COPY {declaration_id} | {actor.id} ({actor.role}{org}) | {instant}"


def _overlay(width: float, height: float, text: str) -> PdfReader:
    buffer = io.BytesIO()
    sheet = canvas.Canvas(buffer, pagesize=(width, height))
    size = max(7.0, min(width, height) / 45)
    sheet.setFont("Helvetica", size)
    sheet.setFillColor(Color(0.75, 0.1, 0.1, alpha=0.35))
    step_y = size * 9
    sheet.translate(width / 2, height / 2)
    sheet.rotate(32)
    span = (width**2 + height**2) ** 0.5
    y = -span / 2
    row = 0
    while y < span / 2:
        offset = (row % 2) * size * 10
        x = -span / 2 - offset
        while x < span / 2:
            sheet.drawString(x, y, text)
            x += sheet.stringWidth(text, "Helvetica", size) + size * 6
        y += step_y
        row += 1
    sheet.showPage()
    sheet.save()
    buffer.seek(0)
    return PdfReader(buffer)


def stamp_pdf(source: Path, target: BinaryIO, text: str) -> None:
    # An open file, not a path: given a path, pypdf reads the whole file into memory first.
    with source.open("rb") as handle:
        _stamp_pdf(PdfReader(handle), target, text)


def _stamp_pdf(reader: PdfReader, target: BinaryIO, text: str) -> None:
    writer = PdfWriter(clone_from=reader)
    overlays: dict[tuple[float, float], PdfReader] = {}
    for page in writer.pages:
        if page.get("/Rotate"):
            page.transfer_rotation_to_content()
        box = page.mediabox
        key = (round(float(box.width), 2), round(float(box.height), 2))
        if key not in overlays:
            overlays[key] = _overlay(key[0], key[1], text)
        overlay = overlays[key].pages[0]
        if box.left or box.bottom:
            page.merge_transformed_page(
                overlay, Transformation().translate(float(box.left), float(box.bottom))
            )
        else:
            page.merge_page(overlay)
    writer.add_metadata({"/Subject": text})
    writer.write(target)


def stamp_image(source: Path, target: BinaryIO, text: str, file_type: FileType) -> None:
    with Image.open(source) as opened:
        image = opened.convert("RGBA")
    width, height = image.size
    size = max(12, min(width, height) // 40)
    font = ImageFont.load_default(size=size)
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    left, top, right, bottom = probe.textbbox((0, 0), text, font=font)
    text_width, text_height = int(right - left), int(bottom - top)
    tile = Image.new("RGBA", (text_width + size * 4, text_height * 3), (0, 0, 0, 0))
    ImageDraw.Draw(tile).text((size * 2, text_height), text, font=font, fill=(190, 25, 25, 110))
    tile = tile.rotate(32, expand=True, resample=Image.Resampling.BICUBIC)
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    step_x, step_y = max(1, tile.width * 3 // 4), max(1, tile.height // 2)
    for row, y in enumerate(range(-tile.height // 2, height, step_y)):
        for x in range(-tile.width + (row % 2) * step_x // 2, width, step_x):
            layer.alpha_composite(tile, (max(x, 0), max(y, 0)), (max(-x, 0), max(-y, 0)))
    stamped = Image.alpha_composite(image, layer)
    if file_type == "jpeg":
        stamped.convert("RGB").save(target, "JPEG", quality=90)
    else:
        stamped.save(target, "PNG", optimize=False)


def stamp(source: Path, target: BinaryIO, file_type: FileType, text: str) -> None:
    """Write ``source`` with the visible watermark ``text`` to ``target``."""
    if file_type == "pdf":
        stamp_pdf(source, target, text)
    else:
        stamp_image(source, target, text, file_type)


def _inspect_pdf(reader: PdfReader) -> tuple[int | None, str | None]:
    if reader.is_encrypted:
        return None, (
            "PDF 已加密，评审人员无法阅读，请上传未加密的文件 / the PDF is encrypted: "
            "upload it without a password"
        )
    pages = len(reader.pages)
    if pages == 0:
        return None, "PDF 没有页面 / the PDF has no page"
    return pages, None


def inspect_file(path: Path, file_type: FileType) -> tuple[int | None, str | None]:
    """``(pages, problem)``: the pages of a PDF (None for an image) and why the file cannot be
    accepted (None when it can)."""
    if file_type == "pdf":
        try:
            with path.open("rb") as handle:  # a path would be read whole into memory
                return _inspect_pdf(PdfReader(handle))
        except Exception as err:  # pypdf raises many kinds on a damaged file
            return None, f"PDF 文件无法打开 / the PDF cannot be opened ({type(err).__name__})"
    try:
        with Image.open(path) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                return None, (
                    f"图片过大（{width}×{height} 像素，上限 5000 万像素）/ the image has "
                    f"{width}×{height} pixels, more than 50 megapixels"
                )
            image.verify()
    except Image.DecompressionBombError:
        return None, "图片过大（超过 5000 万像素）/ the image has more than 50 megapixels"
    except Exception as err:  # Pillow raises many kinds on a damaged file
        return None, f"图片无法打开 / the image cannot be opened ({type(err).__name__})"
    return None, None
