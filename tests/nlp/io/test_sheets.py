import io

import pytest

from nlp.core.errors import InputError
from nlp.io.sheets import measure_sheet

HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def sheet(rows: str, dimension: str = "A1:B2", extra: str = "") -> bytes:
    return (
        f'{HEAD}<worksheet xmlns="{NS}"><dimension ref="{dimension}"/>{extra}'
        f"<sheetData>{rows}</sheetData></worksheet>"
    ).encode()


def measure(xml: bytes):
    return measure_sheet(lambda: io.BytesIO(xml))


def test_measure_sheet_finds_where_cells_reach_whatever_the_dimension_says():
    rows = '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1"/></row><row r="7"><c r="C7"/></row>'
    extent, within = measure(sheet(rows, dimension="A1:XFD1048576"))
    assert within and (extent.rows, extent.columns, extent.cells) == (7, 3, 3)
    assert extent.declared == "A1:XFD1048576"


@pytest.mark.parametrize(
    "rows",
    [
        '<row r="1"><c r="A1"/></row><row r="2"><c r="XFD1048576"/></row>',  # as Excel writes
        '<row r="1"><c r="A1"/></row><row r="2"><c r=\'XFD1048576\'/></row>',  # quoted otherwise
        '<row r="1"><c t="s" r="A1"/></row><row r="9"><c s="1" r="XFD9"/></row>',  # r not first
        '<row r="1"><c r="XFC1"/><c/><c/></row>',  # no reference: after the one before
        '<row r="1"><c r="A1"/></row><!-- --><row r="2"><c r="XFD2"/></row>',
    ],
)
def test_measure_sheet_stops_at_a_cell_past_the_column_limit_in_any_form(rows):
    extent, within = measure(sheet(rows))
    assert not within and extent.columns > 200


def test_measure_sheet_reads_prefixed_elements():
    xml = (
        f'{HEAD}<x:worksheet xmlns:x="{NS}"><x:sheetData><x:row r="1"><x:c r="A1"/></x:row>'
        '<x:row r="2"><x:c r="XFD2"/></x:row></x:sheetData></x:worksheet>'
    ).encode()
    extent, within = measure(xml)
    assert not within and extent.columns == 16384


def test_measure_sheet_is_not_fooled_by_comments_or_empty_rows():
    rows = '<row r="1"><c r="A1"/></row><!-- <c r="XFD9"/> --><row r="99999999"/>'
    extent, within = measure(sheet(rows))
    assert within and (extent.rows, extent.columns) == (1, 1)


def test_measure_sheet_refuses_a_document_type_and_damaged_xml():
    doctype = f'{HEAD}<!DOCTYPE x [<!ENTITY e "<c r=\'XFD1\'/>">]><worksheet xmlns="{NS}"/>'
    with pytest.raises(InputError, match="document type"):
        measure(doctype.encode())
    with pytest.raises(InputError, match="damaged"):
        # (damage the quick scan passes over is calamine's to find: it stops at it)
        measure(sheet('<!-- --><row r="1"><c r="A1">').replace(b"</sheetData>", b""))


def test_measure_sheet_reads_a_sheet_larger_than_its_chunks(monkeypatch):
    from nlp.io import sheets

    monkeypatch.setattr(sheets, "_CHUNK", 7)  # every tag cut somewhere
    rows = "".join(
        f'<row r="{i}"><c r="A{i}"><v>{i}</v></c><c r="C{i}"/></row>' for i in range(1, 50)
    )
    extent, within = measure(sheet(rows))
    assert within and (extent.rows, extent.columns, extent.cells) == (49, 3, 98)
