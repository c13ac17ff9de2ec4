"""The electronic certificate (电子证书, docs/rules.md §2.10, §10.6) as a one-page PDF.

It carries the certificate number, the holder's name, series, specialty, level, the scope of a
定向评价 certificate (001: 定向评价、定向使用, valid in its region only), date of issue, the
verification code and the path of the public check (``GET /certificates/{number}``), so anyone
holding the paper can confirm it. Chinese text uses reportlab's built-in CID font
``STSong-Light`` (no font file is shipped or read); numbers and codes are also set in Helvetica so
they stay legible, and searchable, in any viewer. The output is deterministic for the same input
(``invariant``), and not compressed, so a test can read it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from domain.eligibility import LEVEL_NAMES

__all__ = ["CJK_FONT", "LEVEL_NAMES", "CertificateDocument", "render_certificate"]

CJK_FONT = "STSong-Light"
LATIN_FONT = "Helvetica"


_registered = False


def _fonts() -> None:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
        _registered = True


@dataclass(frozen=True)
class CertificateDocument:
    certificate_no: str
    holder_name: str
    series: str
    level: str
    issued_on: date
    verification_code: str
    campaign_name: str = ""
    specialty: str = ""
    #: A 定向评价 certificate's region (docs/rules.md §2.10); empty for one without a scope.
    scope_region: str = ""

    @property
    def check_path(self) -> str:
        return f"/certificates/{self.certificate_no}"


def _scope(region: str) -> str:
    """定向评价、定向使用 (001 二(一)): the region the certificate is valid in."""
    return f"定向评价 · 限{region}范围内有效 (directed)" if region else ""


def render_certificate(doc: CertificateDocument) -> bytes:
    """One A4 page; see the module docstring."""
    _fonts()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=True, pageCompression=0)
    pdf.setTitle(f"专业技术资格证书 {doc.certificate_no}")
    pdf.setSubject(f"verification code {doc.verification_code}; check {doc.check_path}")
    pdf.setAuthor("Review Chain")
    width, height = A4
    left = 72.0
    y = height - 110

    pdf.setFont(CJK_FONT, 26)
    pdf.drawCentredString(width / 2, y, "专业技术资格证书")
    y -= 26
    pdf.setFont(LATIN_FONT, 12)
    pdf.drawCentredString(width / 2, y, "Professional Title Certificate")
    y -= 60

    level = LEVEL_NAMES.get(doc.level, doc.level)
    rows = [
        ("证书编号 / Certificate No.", doc.certificate_no, False),
        ("姓名 / Name", doc.holder_name, True),
        ("系列 / Series", doc.series, True),
        ("专业 / Specialty", doc.specialty, True),
        ("级别 / Level", f"{level} ({doc.level})", True),
        ("适用范围 / Scope", _scope(doc.scope_region), True),
        ("发证日期 / Issued on", doc.issued_on.isoformat(), False),
        ("评审工作 / Campaign", doc.campaign_name, True),
    ]
    for label, value, cjk in rows:
        if not value:
            continue
        pdf.setFont(CJK_FONT, 12)
        pdf.drawString(left, y, label)
        pdf.setFont(CJK_FONT if cjk else LATIN_FONT, 14)
        pdf.drawString(left + 190, y, value)
        y -= 30

    y -= 30
    pdf.setFont(CJK_FONT, 12)
    pdf.drawString(left, y, "验证码 / Verification code")
    pdf.setFont(LATIN_FONT, 16)
    pdf.drawString(left + 190, y, doc.verification_code)
    y -= 30
    pdf.setFont(CJK_FONT, 12)
    pdf.drawString(left, y, "查验 / Check at")
    pdf.setFont(LATIN_FONT, 12)
    pdf.drawString(left + 190, y, f"GET {doc.check_path}")
    y -= 40
    pdf.setFont(CJK_FONT, 10)
    pdf.drawString(
        left, y, "凭证书编号与验证码可公开查验证书是否有效（已撤销的证书查验结果为 revoked）。"
    )
    pdf.setFont(LATIN_FONT, 9)
    pdf.drawString(
        left,
        y - 14,
        "Anyone may check the number and code; a revoked certificate checks as revoked.",
    )
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
