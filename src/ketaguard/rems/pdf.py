"""The REMS Patient Monitoring Form data as a printable PDF or HTML page, for the clinic to submit.

``render_pdf(form)`` returns a US Letter PDF of one or two pages: the title, every field's label and
value in form order (a missing required value is printed as ``MISSING (required)``), the total
treatment time against the minimum, the submission deadline, the labels of missing fields, and a
footer on every page saying who does what: ketaguard prepares the data, the clinic submits it
through the REMS (online or by fax) within ``SUBMISSION_DAYS`` days [S5][S8], and the software
supports, never replaces, clinical judgement.

``render_html(form)`` renders the same content from ``templates/rems_form.html`` (Jinja2,
autoescaped, CSS inline, no external URLs, so it prints offline).

Fonts: by default the PDF uses the built-in Helvetica, which covers Windows-1252 (Western European
letters). Text outside it (for example "Ł" or Chinese in a patient's name) raises
``PdfTextError`` naming the field, rather than printing a wrong name on a regulatory form; pass
``unicode_font`` (a TrueType file such as DejaVuSans.ttf) to print any script, or use the HTML page.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from ketaguard.rems.form import (
    SUBMISSION_DAYS,
    RemsForm,
    display_value,
    missing_fields,
)

TITLE = "SPRAVATO REMS Patient Monitoring Form \u2014 data for submission"
FOOTER = (
    "ketaguard prepares this data; the clinic submits the Patient Monitoring Form through the "
    f"SPRAVATO REMS (online or by fax) within {SUBMISSION_DAYS} days of the session. "
    "This software supports, and never replaces, clinical judgement."
)

# The encoding of PDF's built-in fonts as fpdf2 writes them (/WinAnsiEncoding).
_CORE_ENCODING = "cp1252"
_CORE_FAMILY = "helvetica"
_UNICODE_FAMILY = "ketaguard-unicode"


class PdfTextError(ValueError):
    """Text the built-in PDF font cannot print; pass ``unicode_font`` to ``render_pdf``."""


def total_time_summary(form: RemsForm) -> str:
    if form.total_minutes is None:
        return "Total treatment time: not recorded (first device and end of monitoring are needed)."
    summary = (
        f"Total treatment time: {form.total_minutes} minutes from the first device to the end "
        f"of monitoring (minimum {form.min_total_minutes} minutes)."
    )
    return summary


def under_minimum_warning(form: RemsForm) -> str | None:
    if not form.under_two_hours:
        return None
    return f"BELOW THE {form.min_total_minutes}-MINUTE MINIMUM of total treatment time."


def deadline_summary(form: RemsForm) -> str:
    if form.submit_by is None:
        return "Submit by: not known (no treatment date)."
    return f"Submit by: {form.submit_by.isoformat()} ({SUBMISSION_DAYS} days after treatment)."


class _FormPdf(FPDF):
    def __init__(self, family: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="letter")
        self.family = family

    def footer(self) -> None:
        self.set_y(-22)
        self.set_font(self.family, size=7.5)
        self.set_text_color(60, 60, 60)
        self.multi_cell(0, 3.6, FOOTER, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.cell(0, 3.6, f"Page {self.page_no()} of {{nb}}", align="R")


def _check_core_text(label: str, text: str) -> None:
    try:
        text.encode(_CORE_ENCODING)
    except UnicodeEncodeError as error:
        character = text[error.start]
        raise PdfTextError(
            f"{label}: the character {character!r} (U+{ord(character):04X}) cannot be printed "
            "with the built-in PDF font; render with a Unicode font or use the HTML page"
        ) from None


def render_pdf(form: RemsForm, *, unicode_font: Path | None = None, compress: bool = True) -> bytes:
    """The form's data as PDF bytes. ``compress=False`` leaves page text readable (for tests)."""
    if unicode_font is None:
        for form_field in form.fields:
            _check_core_text(form_field.label, display_value(form_field))
        family = _CORE_FAMILY
    else:
        family = _UNICODE_FAMILY

    pdf = _FormPdf(family)
    if unicode_font is None:
        pdf.core_fonts_encoding = _CORE_ENCODING
    else:
        pdf.add_font(_UNICODE_FAMILY, "", str(unicode_font))
    bold = "" if unicode_font is not None else "B"
    pdf.set_compression(compress)
    pdf.set_title(TITLE)
    pdf.set_creator("ketaguard")
    pdf.set_auto_page_break(auto=True, margin=26)
    pdf.set_margins(left=15, top=14, right=15)
    pdf.add_page()

    pdf.set_font(family, style=bold, size=13)
    pdf.multi_cell(0, 6.5, TITLE, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)
    pdf.set_font(family, size=9)
    pdf.multi_cell(0, 4.5, total_time_summary(form), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    warning = under_minimum_warning(form)
    if warning is not None:
        pdf.set_font(family, style=bold, size=9)
        pdf.multi_cell(0, 4.5, warning, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(family, size=9)
    pdf.multi_cell(0, 4.5, deadline_summary(form), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    missing = missing_fields(form)
    if missing:
        pdf.multi_cell(
            0,
            4.5,
            f"Missing required fields ({len(missing)}): the session cannot be signed off yet.",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )

    for section, section_fields in form.sections():
        pdf.ln(2)
        pdf.set_font(family, style=bold, size=10)
        pdf.cell(0, 5.5, section, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(family, size=9)
        with pdf.table(
            col_widths=(62, 38),
            first_row_as_headings=False,
            line_height=4.0,
            padding=0.8,
            text_align=("LEFT", "LEFT"),
        ) as table:
            for form_field in section_fields:
                row = table.row()
                row.cell(form_field.label)
                row.cell(display_value(form_field))

    return bytes(pdf.output())


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("ketaguard.rems", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(form: RemsForm) -> str:
    """The form's data as a self-contained printable HTML page (autoescaped)."""
    template = _environment().get_template("rems_form.html")
    return template.render(
        title=TITLE,
        footer=FOOTER,
        form=form,
        sections=[
            (section, [(f, display_value(f)) for f in section_fields])
            for section, section_fields in form.sections()
        ],
        total_time=total_time_summary(form),
        warning=under_minimum_warning(form),
        deadline=deadline_summary(form),
        missing=missing_fields(form),
    )
