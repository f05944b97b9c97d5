"""CSV exports are safe to open in a spreadsheet (SEC-14)."""

import csv
import io
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from crm.exports import FORMULA_TRIGGERS, csv_response, export_cell, render_csv


@given(st.text())
def test_text_never_starts_with_a_formula_trigger_unless_escaped(text):
    cell = export_cell(text)
    assert isinstance(cell, str)
    assert not cell.startswith(FORMULA_TRIGGERS)
    if text.startswith(FORMULA_TRIGGERS):
        assert cell == "'" + text
    else:
        assert cell == text


@given(st.lists(st.text(), min_size=1, max_size=5))
def test_round_trip_through_csv_reader_gives_back_the_escaped_text(cells):
    rendered = render_csv(["h"] * len(cells), [cells])
    rows = list(csv.reader(io.StringIO(rendered, newline="")))
    assert rows[1] == [export_cell(cell) for cell in cells]


def test_numbers_stay_numbers_and_phones_are_text():
    rendered = render_csv(
        ["qty", "amount", "phone", "name"],
        [[-3, Decimal("-12.50"), "+393331234567", '=HYPERLINK("http://evil","x")']],
    )
    line = rendered.splitlines()[1]
    assert line.startswith("-3,-12.50,'+393331234567,")
    assert "'=HYPERLINK(" in line


def test_response_is_an_attachment_with_a_server_chosen_name():
    response = csv_response(filename='../../etc/"x".csv', header=["a"], rows=[["=1"]])
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="')
    name = disposition.split('filename="')[1].rstrip('"')
    assert "/" not in name and '"' not in name and name.endswith(".csv")
    assert response.content.decode().splitlines()[1] == "'=1"
