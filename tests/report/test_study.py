"""The HTML report of a study: self-contained, and (where a Chromium is installed) every
figure and table renders in a headless browser."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from ravine.study import Store


def test_html_report_is_self_contained(tiny_store, tmp_path):
    from ravine.report import write_report

    path = write_report(tiny_store, tmp_path / "r.html")
    text = path.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text)
    # per problem: curves, sensitivity and heat map; and the performance profile (2 problems)
    assert text.count('<img alt="') == 2 * 3 + 1
    assert text.count("data:image/png;base64,") == 7
    for cls in ("summary", "sensitivity", "ensembles", "profile", "trials"):
        assert f'class="ravine-table {cls}"' in text


def find_browser() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


CHECK = """
<script>
window.addEventListener("load", () => {
  const imgs = [...document.querySelectorAll("img")];
  const tables = [...document.querySelectorAll("table")];
  const out = {
    images: imgs.length,
    images_ok: imgs.filter(i => i.complete && i.naturalWidth > 100 && i.naturalHeight > 100
                              && i.getBoundingClientRect().width > 100).length,
    tables: tables.length,
    tables_ok: tables.filter(t => t.tBodies.length && t.tBodies[0].rows.length > 0
                                  && t.getBoundingClientRect().height > 0).length,
  };
  const pre = document.createElement("pre");
  pre.id = "ravine-check";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""


def test_report_renders_in_headless_chromium(tiny_store, tmp_path):
    browser = find_browser()
    if browser is None:
        pytest.skip("no Chromium or Chrome installed (Debian: apt-get install -y chromium)")
    from ravine.report import study_html

    with Store(tiny_store) as s:
        page = study_html(s)
    path = tmp_path / "checked.html"
    path.write_text(page.replace("</body>", CHECK + "</body>"))
    profile = tmp_path / "profile"
    cmd = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=10000",
        "--dump-dom",
        path.as_uri(),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    m = re.search(r'<pre id="ravine-check">(.*?)</pre>', out.stdout)
    assert m, f"no check output from the browser: {out.stderr[-2000:]}"
    result = json.loads(m.group(1).replace("&quot;", '"'))
    assert result["images"] == 7 and result["images_ok"] == 7
    assert result["tables"] >= 5 and result["tables_ok"] == result["tables"]
