"""The project's own SVG charts (no database)."""

from ladder.charts import Bar, bar_chart, funnel_chart


def test_a_funnel_is_an_accessible_svg_with_one_bar_per_step():
    svg = funnel_chart(
        [Bar("1. Entry", 100), Bar("2. Pro", 25)], title="Customers", chart_id="f"
    )
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert 'aria-labelledby="f-title"' in svg and '<title id="f-title">Customers' in svg
    assert svg.count("<rect") == 2


def test_labels_are_escaped():
    svg = bar_chart([Bar("<script>x</script>", 1)], title="<b>", chart_id="r")
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "<b>" not in svg


def test_an_empty_or_zero_chart_still_renders():
    assert "<svg" in funnel_chart([], title="Empty", chart_id="e")
    assert "<rect" in bar_chart([Bar("none", 0)], title="Zero", chart_id="z")
