"""benches/explorer.py's table (no browser started here): the medians, the share over the floor of the same
round and the targets, from rounds whose answers can be worked out by hand."""

from __future__ import annotations

from benches.explorer import FLOOR_OF, table


def _result(rounds: list[dict[str, float]]) -> dict:
    keys = rounds[0]
    medians = {k: sorted(r[k] for r in rounds)[len(rounds) // 2] for k in keys}
    machine = {"nproc": 2, "load_average": [1.0, 1.0, 1.0]}
    return {
        "repeat": len(rounds),
        "median_s": medians,
        "rounds": rounds,
        "machine_before": machine,
        "machine_after": machine,
    }


def test_the_share_over_the_floor_is_the_median_of_each_rounds_difference():
    # Differences per round: 0.5, 1.0, 3.0 -> median 1.0 (the difference of the medians, 3.0 - 1.5, would be 1.5).
    rounds = [
        {"first_table_warm": 1.5, "floor_first_table_warm": 1.0},
        {"first_table_warm": 3.0, "floor_first_table_warm": 2.0},
        {"first_table_warm": 4.0, "floor_first_table_warm": 1.0},
    ]
    lines = table(_result(rounds)).splitlines()
    row = next(line for line in lines if line.startswith("| first_table_warm |"))
    assert row == "| first_table_warm | 3.00 (1.50-4.00) | +1.00 | 2 |"
    floor = next(line for line in lines if line.startswith("| floor_first_table_warm |"))
    assert floor == "| floor_first_table_warm | 1.00 (1.00-2.00) | - | - |"  # a floor has no floor and no target
    assert "median of 3 rounds" in lines[-1]


def test_without_the_floor_no_share_is_given():
    rounds = [{"filter_change_warm": 0.25, "forest_plot_warm": 0.9}]
    lines = table(_result(rounds)).splitlines()
    assert "| filter_change_warm | 0.25 (0.25-0.25) | - | 0.3 |" in lines
    assert "| forest_plot_warm | 0.90 (0.90-0.90) | - | 1 |" in lines


def test_every_wait_with_a_floor_is_compared_with_a_floor_of_a_new_session():
    assert all(floor.startswith("floor_") for floor in FLOOR_OF.values())
    assert set(FLOOR_OF) >= {"first_table_cold", "first_table_warm", "filter_change_warm", "forest_plot_warm"}


def test_the_floor_runs_its_own_script_in_its_own_directory(tmp_path, monkeypatch):
    # Until this test, the floor's server ran the explorer's app.py (the directory was not passed on), so the
    # "floor" was the explorer itself.
    import benches.explorer as bench

    seen: dict = {}

    class Started(Exception):
        pass

    def popen(argv, **kwargs):
        seen.update(argv=argv, cwd=kwargs.get("cwd"))
        raise Started

    monkeypatch.setattr(bench.subprocess, "Popen", popen)
    try:
        with bench.streamlit_app(None, None, cwd=tmp_path, script="plot.py"):
            pass
    except Started:
        pass
    assert seen["cwd"] == tmp_path
    assert seen["argv"][seen["argv"].index("run") + 1] == "plot.py"


def test_the_comparison_gives_each_sides_median_and_the_median_of_each_rounds_difference():
    from benches.explorer import comparison_table

    # Differences per round: +0.5, -1.0, -0.2 -> median -0.2 (the difference of the medians, 1.0 - 1.5, is -0.5).
    rounds = [
        {"before_first_table": 1.0, "after_first_table": 1.5},
        {"before_first_table": 2.0, "after_first_table": 1.0},
        {"before_first_table": 1.5, "after_first_table": 1.3},
    ]
    machine = {"nproc": 2, "load_average": [1.0, 1.0, 1.0]}
    result = {
        "repeat": 3,
        "rounds": rounds,
        "median_s": {"before_first_table": 1.5, "after_first_table": 1.3},
        "machine_before": machine,
        "machine_after": machine,
    }
    lines = comparison_table(result).splitlines()
    assert "| first_table | 1.50 | 1.30 | -0.20 | 2 |" in lines


def test_the_explorer_is_timed_as_the_readme_starts_it(monkeypatch):
    import benches.explorer as bench

    seen: list = []

    class Started(Exception):
        pass

    def popen(argv, **kwargs):
        seen.append((argv, kwargs.get("cwd")))
        raise Started

    monkeypatch.setattr(bench.subprocess, "Popen", popen)
    for launcher in (True, False):
        try:
            with bench.streamlit_app(None, None, launcher=launcher):
                pass
        except Started:
            pass
    (launched, cwd), (plain, _) = seen
    assert launched[1:3] == ["-m", "explorer.launch"] and cwd == bench.ROOT  # `oligokb-explorer`
    assert "--headless" in launched and launched[launched.index("--address") + 1] == "127.0.0.1"
    assert plain[1:5] == ["-m", "streamlit", "run", "app.py"]
