"""Cells of exported sheets (reslib/core/xlsx.py): people's text stays text, whatever it holds."""

import io

from openpyxl import Workbook, load_workbook

from reslib.core.xlsx import append_row


def _round_trip(values) -> list:
    book = Workbook()
    append_row(book.active, values)
    out = io.BytesIO()
    book.save(out)  # openpyxl refuses to write a cell holding a character XML 1.0 cannot carry
    return [cell for cell in load_workbook(io.BytesIO(out.getvalue())).active[1]]


def test_formula_like_text_stays_text_and_other_values_keep_their_type():
    cells = _round_trip(["=HYPERLINK(\"http://x\",\"y\")", "＋86 电话", "普通文本", None, 3])
    assert [c.value for c in cells] == ["=HYPERLINK(\"http://x\",\"y\")", "＋86 电话", "普通文本", None, 3]
    assert [c.data_type for c in cells[:3]] == ["s", "s", "s"]
    assert cells[0].quotePrefix and cells[1].quotePrefix and not cells[2].quotePrefix


def test_control_characters_pasted_into_a_text_do_not_break_the_export():
    cells = _round_trip(["第一行\x0b第二行\x00", "换行\n保留"])
    assert [c.value for c in cells] == ["第一行第二行", "换行\n保留"]
