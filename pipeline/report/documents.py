"""Official documents (.docx) in the form of Nghị định 30/2020/NĐ-CP, the decree on administrative documents.

A document here is what an office files and signs: the period report (:mod:`pipeline.report.reports`)
and the case report for the handling units (:mod:`pipeline.report.case_reports`). The layout follows
the decree's Phụ lục I:

- A4, margins top/bottom 20 mm, left 30 mm, right 15 mm; Times New Roman throughout;
- top left: the governing body (cơ quan chủ quản, upper case), the issuing body (upper case, bold,
  a short line under it), then "Số: …/BC-<ký hiệu>" (the number is left blank for the registry);
- top right: the Quốc hiệu (upper case, bold), the Tiêu ngữ (bold, underlined the length of the text),
  then place and date in italics ("Đắk Lắk, ngày 07 tháng 12 năm 2026");
- centred: the kind of document (BÁO CÁO, bold) and the trích yếu (summary of content, bold, a short
  line under it); then the body (14 pt, justified, first line indented);
- bottom left "Nơi nhận:" (bold italic 12 pt, recipients 11 pt, ending with "Lưu: VT"); bottom right
  the signer block: authority (KT./TM./…, if any) and title in bold upper case, space to sign, name bold;
- page numbers centred at the top from page 2.

Agency, symbol, place, signer and recipients come from :class:`pipeline.config.Settings`
(``agency_*``, ``signer_*``, ``report_recipients``: docs/settings.md). Every word is from
:data:`pipeline.i18n.MESSAGES`.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Sequence

from pipeline.config import Settings
from pipeline.errors import HotlineError
from pipeline.i18n import translator

FONT = "Times New Roman"
BODY_PT = 14  # body text; the decree allows 13–14
HEAD_PT = 12  # Quốc hiệu and the bodies' names (the decree: 12–13; 13 pt bold does not fit one line)
TABLE_PT = 12  # table cells (the decree leaves tables free; 12 keeps a 6-column table on an A4 page)
MARGINS_MM = {"top": 20, "bottom": 20, "left": 30, "right": 15}  # decree: 20–25, 20–25, 30–35, 15–20
PAGE_MM = (210, 297)  # A4 portrait
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass(frozen=True)
class Issuer:
    """Who issues and signs (from settings)."""

    parent: str  # cơ quan chủ quản, e.g. "UBND TỈNH ĐẮK LẮK"; empty: none
    name: str  # cơ quan ban hành, e.g. "Tổng đài 1022 tỉnh Đắk Lắk"
    symbol: str  # chữ viết tắt of the issuing body, e.g. "TĐ1022"
    place: str  # địa danh, e.g. "Đắk Lắk"
    signer_authority: str = ""  # quyền hạn: "KT. GIÁM ĐỐC", "TM. ỦY BAN NHÂN DÂN"; empty: signs in own name
    signer_title: str = "GIÁM ĐỐC"  # chức vụ
    signer_name: str = ""  # họ tên; empty: left for the signer to write
    recipients: tuple[str, ...] = ()  # nơi nhận, besides "Lưu: VT"

    @classmethod
    def defaults(cls) -> "Issuer":
        """The issuer the settings' defaults describe (for callers without settings: tests, notebooks)."""
        return cls.from_settings(type("D", (), {k: f.default for k, f in Settings.model_fields.items()})())

    @classmethod
    def from_settings(cls, settings, *, extra_recipients: Sequence[str] = ()) -> "Issuer":
        return cls(parent=settings.agency_parent, name=settings.agency_name, symbol=settings.agency_symbol,
                   place=settings.agency_place, signer_authority=settings.signer_authority,
                   signer_title=settings.signer_title, signer_name=settings.signer_name,
                   recipients=(*extra_recipients, *settings.report_recipients))


@dataclass
class Table:
    """A body table: header row and rows of cells (already formatted text or numbers)."""

    header: list[str]
    rows: list[list]
    num_from: int = 1  # columns from here on are right-aligned figures


@dataclass
class Document:
    """The content of an official document; :func:`to_docx` lays it out."""

    kind: str  # tên loại, "BÁO CÁO"
    kind_code: str  # its abbreviation in the symbol, "BC"
    summary: str  # trích yếu
    day: date  # the date it is signed (ngày ban hành)
    blocks: list = field(default_factory=list)  # ("h", text) heading, ("p", text) paragraph, Table


def date_line(place: str, day: date, lang: str = "vi") -> str:
    """"Đắk Lắk, ngày 07 tháng 12 năm 2026" (the decree: days below 10 and months 1–2 take a leading 0)."""
    t = translator(lang)
    return t("doc_date_line", place=place, d=f"{day.day:02d}", m=f"{day.month:02d}" if day.month < 3 else str(day.month),
             y=day.year)


def _set_font(run, size: float, *, bold: bool = False, italic: bool = False, underline: bool = False) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    run.font.name = FONT
    run.font.size = Pt(size)
    run.font.bold, run.font.italic, run.font.underline = bold, italic, underline
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FONT)


def _para(container, text: str = "", size: float = BODY_PT, *, align: str = "center", bold=False, italic=False,
          underline=False, before: float = 0, after: float = 0, indent_first_mm: float = 0):
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    p = container.add_paragraph()
    p.alignment = {"center": WD_ALIGN_PARAGRAPH.CENTER, "left": WD_ALIGN_PARAGRAPH.LEFT,
                   "right": WD_ALIGN_PARAGRAPH.RIGHT, "justify": WD_ALIGN_PARAGRAPH.JUSTIFY}[align]
    fmt = p.paragraph_format
    fmt.space_before, fmt.space_after = Pt(before), Pt(after)
    fmt.line_spacing = 1.0 if align != "justify" else 1.15
    if indent_first_mm:
        fmt.first_line_indent = Mm(indent_first_mm)
    if text:
        _set_font(p.add_run(text), size, bold=bold, italic=italic, underline=underline)
    return p


def _short_rule(container, width_mm: float, cell_mm: float) -> None:
    """A centred solid line of ``width_mm`` (under the issuing body and the trích yếu): an empty paragraph
    indented from both sides with a top border, so it lies just under the line above."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    p = _para(container, size=4)
    side = max(0.0, (cell_mm - width_mm) / 2)
    p.paragraph_format.left_indent = p.paragraph_format.right_indent = Mm(side)
    _set_font(p.add_run(""), 4)
    p.paragraph_format.space_before = Pt(2)
    borders = OxmlElement("w:pBdr")
    top = OxmlElement("w:top")
    for k, v in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        top.set(qn(k), v)
    borders.append(top)
    p._p.get_or_add_pPr().append(borders)


def _no_borders(table) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    props = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        e = OxmlElement(f"w:{edge}")
        e.set(qn("w:val"), "nil")
        borders.append(e)
    props.append(borders)


def _widths(table, widths_mm: Sequence[float]) -> None:
    from docx.shared import Mm

    table.autofit = False
    for row in table.rows:
        for cell, w in zip(row.cells, widths_mm):
            cell.width = Mm(w)
    for col, w in zip(table.columns, widths_mm):
        col.width = Mm(w)


def _page_numbers(section) -> None:
    """Page number centred in the header, not on the first page (the decree's rule)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    section.different_first_page_header_footer = True
    p = section.header.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = p.add_run()
    _set_font(run, BODY_PT)
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._r.append(el)


def _body_table(doc, tbl: Table, text_mm: float) -> None:
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    table = doc.add_table(rows=1 + len(tbl.rows), cols=len(tbl.header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    n = len(tbl.header)
    if tbl.num_from < n:  # a label column and figures: the label takes what the figures leave
        figure_mm = min(25.0, (text_mm - 55.0) / max(1, n - 1))
        _widths(table, [text_mm - figure_mm * (n - 1)] + [figure_mm] * (n - 1))
    else:
        _widths(table, [text_mm / n] * n)
    for r, values in enumerate([tbl.header, *tbl.rows]):
        for c, value in enumerate(values):
            cell = table.cell(r, c)
            cell.paragraphs[0].text = ""
            p = cell.paragraphs[0]
            p.alignment = 1 if r == 0 else (2 if c >= tbl.num_from else 0)
            _set_font(p.add_run("" if value is None else str(value)), TABLE_PT, bold=(r == 0))
    header_row = table.rows[0]._tr.get_or_add_trPr()  # the header repeats on every page
    rep = OxmlElement("w:tblHeader")
    rep.set(qn("w:val"), "true")
    header_row.append(rep)
    _para(doc, size=6)


def to_docx(document: Document, issuer: Issuer, *, lang: str = "vi") -> bytes:
    """The .docx file of ``document`` signed by ``issuer``, laid out as the module docstring says."""
    from docx import Document as _Docx
    from docx.enum.section import WD_ORIENT
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    t = translator(lang)
    doc = _Docx()
    style = doc.styles["Normal"]
    style.font.name, style.font.size = FONT, Pt(BODY_PT)
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FONT)
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
    section.top_margin, section.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
    section.left_margin, section.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
    section.header_distance = section.footer_distance = Mm(10)
    text_mm = PAGE_MM[0] - MARGINS_MM["left"] - MARGINS_MM["right"]  # 165
    left_mm, right_mm = 62.0, text_mm - 62.0
    _page_numbers(section)

    # Header block: issuing body | national title.
    head = doc.add_table(rows=1, cols=2)
    _no_borders(head)
    _widths(head, (left_mm, right_mm))
    left, right = head.cell(0, 0), head.cell(0, 1)
    left.paragraphs[0]._p.getparent().remove(left.paragraphs[0]._p)
    right.paragraphs[0]._p.getparent().remove(right.paragraphs[0]._p)
    if issuer.parent:
        _para(left, issuer.parent.upper(), HEAD_PT)
    _para(left, issuer.name.upper(), HEAD_PT, bold=True)
    _short_rule(left, left_mm / 3, left_mm)
    _para(left, t("doc_number", kind=document.kind_code, symbol=issuer.symbol), 13, before=4)
    _para(right, t("doc_republic"), HEAD_PT, bold=True)
    _para(right, t("doc_motto"), BODY_PT, bold=True, underline=True)
    _para(right, date_line(issuer.place, document.day, lang), BODY_PT, italic=True, before=14)

    # Title: kind and trích yếu.
    _para(doc, document.kind.upper(), BODY_PT, bold=True, before=24)
    _para(doc, document.summary, BODY_PT, bold=True)
    _short_rule(doc, 45, text_mm)

    for block in document.blocks:
        if isinstance(block, Table):
            _body_table(doc, block, text_mm)
        elif block[0] == "h":
            _para(doc, block[1], BODY_PT, align="justify", bold=True, before=6, after=3, indent_first_mm=10)
        else:
            _para(doc, block[1], BODY_PT, align="justify", after=6, indent_first_mm=10)

    # Recipients (bottom left) and signer (bottom right).
    foot = doc.add_table(rows=1, cols=2)
    _no_borders(foot)
    _widths(foot, (80.0, text_mm - 80.0))
    left, right = foot.cell(0, 0), foot.cell(0, 1)
    left.paragraphs[0]._p.getparent().remove(left.paragraphs[0]._p)
    right.paragraphs[0]._p.getparent().remove(right.paragraphs[0]._p)
    _para(left, t("doc_recipients"), 12, align="left", bold=True, italic=True, before=12)
    names = [*issuer.recipients, t("doc_archive", symbol=issuer.symbol)]
    for i, name in enumerate(names):
        _para(left, f"- {name}{'.' if i == len(names) - 1 else ';'}", 11, align="left")
    if issuer.signer_authority:
        _para(right, issuer.signer_authority.upper(), BODY_PT, bold=True, before=12)
    _para(right, issuer.signer_title.upper(), BODY_PT, bold=True, before=0 if issuer.signer_authority else 12)
    for _ in range(4):  # room for the signature and seal
        _para(right, "", BODY_PT)
    _para(right, issuer.signer_name, BODY_PT, bold=True)

    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def soffice() -> str | None:
    """LibreOffice's ``soffice`` (Debian's libreoffice-writer-nogui), or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def docx_to_pdf(docx: bytes, *, timeout_s: float = 120) -> bytes:
    """The PDF of a .docx, converted by ``soffice --headless --convert-to pdf`` in a private profile (offline).
    Raises :class:`pipeline.errors.HotlineError` naming the package when LibreOffice is missing or fails."""
    exe = soffice()
    if not exe:
        raise HotlineError("PDF of an official document needs LibreOffice: apt-get install libreoffice-writer-nogui, "
                           "or write .docx instead")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "document.docx"
        src.write_bytes(docx)
        done = subprocess.run([exe, "--headless", f"-env:UserInstallation=file://{tmp}/profile", "--convert-to", "pdf",
                               "--outdir", tmp, str(src)], capture_output=True, timeout=timeout_s)
        out = Path(tmp) / "document.pdf"
        if done.returncode or not out.exists():
            raise HotlineError(f"LibreOffice could not convert the document (exit {done.returncode})")
        return out.read_bytes()
