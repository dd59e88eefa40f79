"""Spreadsheet cells that hold people's text (titles, names, messages) without letting the text become a formula.

openpyxl stores a str that starts with "=" as a formula and "#N/A"-like strings as error values, so a resource titled
``=HYPERLINK("http://x","y")`` would be a live formula in an exported sheet. Spreadsheet programs also turn text that
starts with + - @, tab, CR/LF or the full-width ＝＋－＠ (which Chinese and Japanese input methods produce and Excel
reads as operators) into a formula once someone edits the cell. Every text is therefore written as a string, and
text with such a start also gets Excel's quote prefix (what a leading ' does when typed): the cell shows the original
text unchanged and stays text when edited. Numbers, dates and empty cells keep their type. Control characters that
XML 1.0 cannot hold (a vertical tab pasted from Word) are dropped: openpyxl would refuse the whole sheet.
"""

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell

FORMULA_STARTS = frozenset("=+-@\t\r\n＝＋－＠")


def set_value(cell: Cell, value) -> Cell:
    """Put a value into a cell (e.g. ``set_value(ws.cell(row=3, column=1), title)``); text always stays text."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
        if value[:1] in FORMULA_STARTS:
            cell.quotePrefix = True
    return cell


def append_row(ws, values) -> None:
    """ws.append(values) through set_value."""
    ws.append([set_value(Cell(ws), value) for value in values])
