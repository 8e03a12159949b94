"""``ravine explore``: its options reach the server, and the address is printed."""

from __future__ import annotations

from click.testing import CliRunner

from ravine.cli import main


def test_explore_passes_host_port_and_browser_choice(monkeypatch):
    import ravine.explore.serve as serving

    seen = {}

    def fake_serve(host, port, open_browser, echo, stores=(), study_page=False):
        seen.update(host=host, port=port, open_browser=open_browser)
        echo(serving.url(host, port))

    monkeypatch.setattr(serving, "serve", fake_serve)
    out = CliRunner().invoke(main, ["explore", "--no-browser", "--port", "9123"])
    assert out.exit_code == 0, out.output
    assert seen == {"host": "127.0.0.1", "port": 9123, "open_browser": False}
    assert "http://127.0.0.1:9123/" in out.output
    out = CliRunner().invoke(main, ["explore", "--host", "::1", "--port", "0"])
    assert seen["open_browser"] and seen["host"] == "::1"
    assert "http://[::1]:0/" in out.output


def test_explore_refuses_a_bad_port():
    out = CliRunner().invoke(main, ["explore", "--port", "70000"])
    assert out.exit_code == 2 and "--port" in out.output


def test_explore_store_opens_the_study_page_and_refuses_a_non_store(monkeypatch, tmp_path):
    import ravine.explore.serve as serving
    from ravine.study import Store

    tiny_store = tmp_path / "s.db"
    Store(tiny_store).close()
    seen = {}
    monkeypatch.setattr(serving, "serve", lambda **kw: seen.update(kw))
    out = CliRunner().invoke(main, ["explore", "--no-browser", str(tiny_store)])
    assert out.exit_code == 0, out.output
    assert seen["study_page"] and [str(p) for p in seen["stores"]] == [str(tiny_store)]
    spec = tiny_store.parent / "spec.toml"
    spec.write_text('name = "x"\n')
    out = CliRunner().invoke(main, ["explore", "--no-browser", str(spec)])
    assert out.exit_code == 1 and "is not a ravine study store" in out.output
    assert spec.read_text() == 'name = "x"\n'


def test_explore_on_a_port_in_use_is_one_line_naming_the_port():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = CliRunner().invoke(main, ["explore", "--no-browser", "--port", str(port)])
    assert out.exit_code == 1 and "Traceback" not in out.output
    assert out.output.strip().count("\n") == 0
    assert f"port {port}" in out.output and "--port" in out.output
