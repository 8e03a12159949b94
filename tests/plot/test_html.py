"""The race's HTML page embeds the animation, the figures and the outcome table."""

from __future__ import annotations

from ravine import plot


def test_html_page_embeds_everything(result, tmp_path):
    path = plot.write_html(result, tmp_path / "race.html", frames=4)
    text = path.read_text()
    assert text.count("data:image/gif;base64") == 1
    assert text.count("data:image/png;base64") == 3  # contour, loss, sensitivity
    assert "illustrates" in text and "<table>" in text
