"""``ravine list``: every kind is read from the registry it describes."""

from __future__ import annotations

from click.testing import CliRunner

import ravine.optim as ro
from ravine import landscapes, problems
from ravine.cli import list as listing
from ravine.cli import main
from ravine.optim import registry
from support.fresh import run_fresh


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def rows_of(output: str) -> dict[str, str]:
    """Table lines by their first cell, header and rule left out."""
    return {line.split()[0]: line for line in output.splitlines()[2:] if line.strip()}


def test_list_shows_every_optimizer_with_family_defaults_and_paper() -> None:
    result = CliRunner().invoke(main, ["list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for name, cls in ro.REGISTRY.items():
        row = next(line for line in lines if line.split()[0] == name)
        assert cls.family in row and cls.paper in row
    adam = next(line for line in lines if line.startswith("adam "))
    assert "lr=0.001" in adam and "betas=(0.9, 0.999)" in adam and "eps=1e-08" in adam


def test_list_unknown_kind_is_a_clear_error() -> None:
    result = CliRunner().invoke(main, ["list", "teapots"])
    assert result.exit_code == 2
    assert "'teapots' is not listable; choose one of: optimizers" in result.output


def test_list_landscapes():
    res = run("list", "landscapes")
    assert res.exit_code == 0
    for name in ("saddle", "rosenbrock", "beale", "plateau", "moons", "styblinski_tang"):
        assert name in res.output
    assert "3 at (0, -1)" in res.output
    rows = rows_of(res.output)
    assert "least squares" in rows["rosenbrock"] and "least squares" in rows["booth"]
    assert "logistic, linear layer" in rows["moons"]
    assert "least squares" not in rows["saddle"] and "logistic" not in rows["saddle"]


def test_landscape_descriptions_are_the_landscapes_own():
    rows = rows_of(run("list", "landscapes").output)
    assert set(rows) == set(landscapes.names())
    for name in landscapes.names():
        assert rows[name].endswith(landscapes.get(name).description)


def test_a_registered_optimizer_is_listed_from_its_class(monkeypatch):
    class Plain(ro.SGD):
        """Plain gradient descent under another name."""

        family = "test family"
        paper = "Nobody 2024"

    monkeypatch.setitem(registry.REGISTRY, "plain", Plain)
    row = rows_of(run("list", "optimizers").output)["plain"]
    # lr=0.001: torch.optim.SGD's default
    assert "test family" in row and "Nobody 2024" in row and "lr=0.001" in row


def test_problem_descriptions_come_from_the_problem_registry(monkeypatch):
    def spirals(n: int = 100):
        """Two interleaved spirals, an MLP. Longer notes that the table leaves out."""

    monkeypatch.setitem(problems.PROBLEMS, "spirals", spirals)
    res = run("list", "problems")
    assert res.exit_code == 0, res.output
    rows = rows_of(res.output)
    assert set(rows) == set(problems.PROBLEMS)
    assert rows["spirals"].split(None, 1)[1] == "Two interleaved spirals, an MLP"
    # Registered partials of one factory say which options they fix.
    assert rows["digits_mlp"].endswith("[model=mlp]")
    assert rows["digits_cnn"].endswith("[model=cnn]")
    for name in problems.PROBLEMS:
        description = problems.describe(name)
        assert description and len(description) <= 80 and "``" not in description
        assert rows[name].split(None, 1)[1] == description


def test_examples_and_schedules_are_listed():
    from ravine import schedules
    from ravine.study.examples import EXAMPLES

    assert set(rows_of(run("list", "examples").output)) == set(EXAMPLES)
    assert set(rows_of(run("list", "schedules").output)) == set(schedules.NAMES)


def test_one_way_to_add_a_kind(monkeypatch):
    monkeypatch.setattr(listing, "LISTERS", dict(listing.LISTERS))
    listing.lister("teapots")(lambda: [("name", "volume"), ("brown betty", "1.2 l")])
    res = run("list", "teapots")
    assert res.exit_code == 0
    assert res.output.splitlines() == ["name         volume", "-----------  ------",
                                       "brown betty  1.2 l"]  # fmt: skip


def test_stored_tables_are_current():
    # `ravine list` prints these without importing torch: they must equal the live tables.
    from ravine.cli.listed import TABLES

    for what, sources in listing.SOURCES.items():
        if not sources:
            continue
        hint = "rewrite them: from ravine.cli.list import write_tables; write_tables()"
        assert what in TABLES, hint
        assert TABLES[what]["digest"] == listing.digest(sources), hint
        assert [tuple(r) for r in TABLES[what]["rows"]] == listing.LISTERS[what](), hint


def test_a_stale_stored_table_is_read_live():
    # Sources changed since the table was stored: the registry is read (importing torch).
    out = run_fresh(
        "from ravine.cli import list as listing, listed",
        "live = listing.table('schedules')",
        "assert 'torch' not in sys.modules",
        "listed.TABLES['schedules']['digest'] = 'stale'",
        "assert listing.table('schedules') == live and 'torch' in sys.modules",
    )
    assert out.returncode == 0, out.stderr
