import re
from datetime import timedelta
from pathlib import Path

import pytest

from ketaguard.rems.form import build_form
from ketaguard.rems.pdf import FOOTER, TITLE, PdfTextError, render_html, render_pdf
from tests.rems.test_form import FIRST_DEVICE, complete_input

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-z])", pdf))


def pdf_text(text: str) -> bytes:
    """How the built-in font writes text in an uncompressed page: cp1252, PDF string escapes."""
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return escaped.encode("cp1252")


def test_pdf_holds_title_labels_values_total_and_footer() -> None:
    form = build_form(complete_input())
    pdf = render_pdf(form, compress=False)

    assert pdf.startswith(b"%PDF")
    assert page_count(pdf) in (1, 2)
    assert pdf_text(TITLE) in pdf
    assert b"Total treatment time: 125 minutes" in pdf
    assert b"Submit by: 2025-03-17" in pdf
    for field in form.fields:
        # Long labels wrap across lines: check the first words of each.
        assert pdf_text(field.label.split(" (")[0][:30]) in pdf, field.label
        assert field.value is not None
        assert pdf_text(field.value) in pdf, field.value
    assert b"within 7 days" in pdf
    assert b"never replaces" in pdf
    assert "within 7 days" in FOOTER
    assert "(online or by fax)" in FOOTER


def test_pdf_marks_missing_fields_and_a_short_session() -> None:
    form = build_form(
        complete_input(lot_number=None, monitoring_end_at=FIRST_DEVICE + timedelta(minutes=119))
    )
    pdf = render_pdf(form, compress=False)

    assert b"MISSING \\(required\\)" in pdf
    assert b"BELOW THE 120-MINUTE MINIMUM" in pdf
    assert b"Missing required fields \\(1\\)" in pdf


def test_pdf_with_every_field_missing_stays_within_two_pages() -> None:
    empty = {name: None for name in complete_input().__dataclass_fields__}
    pdf = render_pdf(build_form(complete_input(**empty)), compress=False)

    assert page_count(pdf) in (1, 2)
    assert b"Missing required fields \\(27\\)" in pdf


def test_compressed_pdf_is_a_pdf_too() -> None:
    pdf = render_pdf(build_form(complete_input()))

    assert pdf.startswith(b"%PDF")
    assert pdf_text(TITLE) not in pdf
    assert page_count(pdf) in (1, 2)


def test_text_outside_the_built_in_font_is_refused_with_its_field() -> None:
    form = build_form(complete_input(patient_name="Łukasz Nowak"))

    with pytest.raises(PdfTextError, match=r"Patient name: .*U\+0141"):
        render_pdf(form)


@pytest.mark.skipif(not DEJAVU.exists(), reason="DejaVuSans.ttf is not installed")
def test_a_unicode_font_prints_any_name() -> None:
    form = build_form(complete_input(patient_name="Łukasz Nowak 王"))
    pdf = render_pdf(form, unicode_font=DEJAVU, compress=False)

    assert pdf.startswith(b"%PDF")
    assert page_count(pdf) in (1, 2)
    assert b"FontFile2" in pdf


def test_html_escapes_the_patient_name() -> None:
    form = build_form(complete_input(patient_name="<script>alert(1)</script>"))
    html = render_html(form)

    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_html_holds_every_field_title_and_footer_without_external_urls() -> None:
    form = build_form(complete_input(sex=None))
    html = render_html(form)

    assert html.startswith("<!DOCTYPE html>")
    assert "<h1>SPRAVATO REMS Patient Monitoring Form \u2014 data for submission</h1>" in html
    for field in form.fields:
        assert f'data-key="{field.key}"' in html
    assert "Total treatment time: 125 minutes" in html
    assert '<td class="missing">MISSING (required)</td>' in html
    assert "<li>Sex</li>" in html
    assert "never replaces, clinical judgement" in html
    assert not re.search(r"(https?:)?//[\w.-]+\.\w", html)


def test_html_warns_of_a_short_session() -> None:
    short = FIRST_DEVICE + timedelta(minutes=119)
    html = render_html(build_form(complete_input(monitoring_end_at=short)))

    assert '<p class="warning">BELOW THE 120-MINUTE MINIMUM' in html
    assert "BELOW THE" not in render_html(build_form(complete_input()))
