"""What-if runs: sweeps, zip, Monte Carlo, scenarios, failing points, Ctrl-C, local and Dask workers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import clustersize
from clustersize import InputError
from clustersize.whatif import run_points
from clustersize.whatif.distributions import draw, parse_sample
from clustersize.whatif.points import Point
from clustersize.whatif.summary import comparable, comparison, percentiles, reachable_share
from conftest import ROOT, base_problem

GPT5 = ROOT / "problems" / "gpt5.yaml"
PRICE = "accelerators.alpha.price_usd"


def test_sweep_matches_individual_solves():
    frame = clustersize.sweep(base_problem(), vary={PRICE: [8000, 10000, 12000]}, workers=1)
    assert list(frame[PRICE]) == [8000, 10000, 12000]
    assert (frame.status == "optimal").all() and frame.verified.all()
    for row in frame.itertuples():
        single = clustersize.solve(clustersize.load_problem(base_problem(), {PRICE: frame.loc[row.Index, PRICE]}))
        assert row.objective_usd == pytest.approx(single.objective_usd, rel=2e-4)
    # 1,000 units at the price plus $120,000 of energy, worked out by hand:
    assert list(frame.objective_usd) == pytest.approx([8_120_000, 10_120_000, 12_120_000], rel=1e-4)


def test_range_grid_and_zip():
    doc = base_problem()
    grid = clustersize.sweep(doc, vary={PRICE: "9000:11000:3", "run.mfu": [0.4, 0.5]}, workers=1)
    assert len(grid) == 6 and set(grid["mode"]) == {"grid"}
    paired = clustersize.sweep(doc, vary={PRICE: [9000, 11000], "run.mfu": [0.4, 0.5]}, zip_values=True, workers=1)
    assert len(paired) == 2 and list(paired["run.mfu"]) == [0.4, 0.5]
    # MFU 0.4 needs 1,250 units: 1,250 x 9,000 + 1.25 MW x 2,400 h x $50 = 11,400,000
    assert paired.objective_usd.iloc[0] == pytest.approx(11_400_000, rel=1e-4)


def test_words_as_values():
    frame = clustersize.sweep(GPT5, vary={"export.ruleset": ["none", "us-2023-10"]}, workers=1)
    assert list(frame["export.ruleset"]) == ["none", "us-2023-10"]
    assert (frame.status == "optimal").all()


@pytest.mark.parametrize("vary, fragment", [
    ({"accelerators.alpha.price_usdd": [1, 2]}, "did you mean 'price_usd'"),
    ({"accelerators.alfa.price_usd": [1, 2]}, "did you mean 'alpha'"),
    ({"run.mfu.value": [1]}, "is a value"),
])
def test_unknown_path_is_an_input_error(vary, fragment):
    with pytest.raises(InputError, match=fragment):
        clustersize.sweep(base_problem(), vary=vary, workers=1)


def test_billion_point_grid_is_refused_before_running():
    started = time.perf_counter()
    with pytest.raises(InputError, match="1,000,000,000 points"):
        clustersize.sweep(base_problem(), vary={PRICE: "1:2:1000", "run.mfu": "0.1:0.9:1000",
                                                "run.length_days": "50:100:1000"}, workers=1)
    assert time.perf_counter() - started < 1.0


def test_failing_points_are_rows_not_aborts():
    doc = base_problem()
    doc["accelerators"]["alpha"]["supply_per_quarter"] = 400.0   # 1,200 units can be had
    frame = clustersize.sweep(doc, vary={"target.flop": [4.32e24, 8.64e24, -1.0]}, workers=1)
    assert list(frame.status) == ["optimal", "infeasible", "input_error"]
    assert "short" in frame.message.iloc[1] and "greater than 0" in frame.message.iloc[2]


def test_monte_carlo_is_seeded_and_summarised():
    samples = {PRICE: "triangular(8000,10000,14000)"}
    first = clustersize.sweep(base_problem(), samples=samples, n_samples=12, seed=4, workers=1)
    again = clustersize.sweep(base_problem(), samples=samples, n_samples=12, seed=4, workers=1)
    assert list(first[PRICE]) == list(again[PRICE])
    assert first[PRICE].between(8000, 14000).all()
    table = percentiles(first).set_index("quantity")
    # cost = 1,000 x price + 120,000 for every sample, so its median follows the price's median
    assert table.loc["objective_usd", "p50"] == pytest.approx(1000 * first[PRICE].median() + 120_000, rel=1e-4)
    assert reachable_share(first) == 1.0


def test_correlated_draws():
    a, b = parse_sample("x~normal(0,1)"), parse_sample("y~uniform(0,10)")
    values = pd.DataFrame(draw([a, b], 2000, seed=1, correlations=[("x", "y", 0.8)]))
    rho = stats.spearmanr(values.x, values.y).statistic
    assert 0.7 < rho < 0.9
    assert values.y.between(0, 10).all()
    independent = pd.DataFrame(draw([a, b], 2000, seed=1))
    assert abs(stats.spearmanr(independent.x, independent.y).statistic) < 0.1


def test_bad_distributions():
    for spec, fragment in [("x~triangular(3,2,1)", "invalid parameters"), ("x~gamma(1,2)", "unknown distribution"),
                           ("x~uniform(1)", "takes 2"), ("no tilde", "PATH~name")]:
        with pytest.raises(InputError, match=fragment):
            parse_sample(spec)
    with pytest.raises(InputError, match="positive definite"):
        draw([parse_sample("a~normal(0,1)"), parse_sample("b~normal(0,1)"), parse_sample("c~normal(0,1)")], 5, 0,
             [("a", "b", 0.9), ("b", "c", 0.9), ("a", "c", -0.9)])


def test_scenarios_side_by_side():
    frame = clustersize.sweep(GPT5, scenarios={"no-controls": {"export.ruleset": "none"},
                                               "carbon-100": {"costs.carbon_price_usd_per_t": 100}}, workers=1)
    assert list(frame.scenario) == ["base", "no-controls", "carbon-100"]
    table = comparison(frame).set_index("scenario")
    assert table.loc["carbon-100", "objective_usd"] > table.loc["base", "objective_usd"]
    assert "gb200" in table.loc["base", "mix"]
    # each scenario as a difference from the base, with its overrides
    assert table.loc["base", "change_usd"] == 0.0 and table.loc["base", "overrides"] == ""
    assert table.loc["carbon-100", "change_usd"] == pytest.approx(
        table.loc["carbon-100", "objective_usd"] - table.loc["base", "objective_usd"], rel=1e-12)
    assert table.loc["carbon-100", "change"] == pytest.approx(
        table.loc["carbon-100", "change_usd"] / table.loc["base", "objective_usd"], rel=1e-12)
    assert table.loc["carbon-100", "overrides"] == "costs.carbon_price_usd_per_t=100"


def test_two_local_workers_give_the_same_rows():
    vary = {"accelerators.h100-sxm.price_usd": "10000:40000:12"}
    serial = clustersize.sweep(GPT5, vary=vary, workers=1)
    parallel = clustersize.sweep(GPT5, vary=vary, workers=2)
    pd.testing.assert_frame_equal(comparable(serial), comparable(parallel))


def test_warm_start_changes_speed_not_answers():
    vary = {"accelerators.h100-sxm.price_usd": "10000:40000:6"}
    warm = clustersize.sweep(GPT5, vary=vary, workers=1, warm_start=True)
    cold = clustersize.sweep(GPT5, vary=vary, workers=1, warm_start=False)
    np.testing.assert_allclose(warm.objective_usd, cold.objective_usd, rtol=2e-4)


def test_ctrl_c_keeps_finished_rows():
    points = [Point(i, "grid", {PRICE: 9000 + i}, labels={PRICE: 9000 + i}) for i in range(12)]
    calls = []

    def interrupt_after_first(rows):
        calls.append(rows)
        raise KeyboardInterrupt

    result = run_points(base_problem(), points, {}, workers=1, progress=False, on_chunk=interrupt_after_first)
    assert result.interrupted
    assert len(result.frame()) == len(calls[0]) == 5


def test_cli_whatif_writes_results_and_plots(tmp_path):
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "clustersize.cli", "whatif", str(GPT5), "--vary",
                             "accelerators.h100-sxm.price_usd=10000:30000:11", "--out", str(out), "--plot",
                             "--workers", "2"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    frame = pd.read_parquet(out / "results.parquet")
    assert len(frame) == 11 and (out / "results.csv").exists()   # 3 chunks on 2 forked workers, progress bar on
    assert (out / "objective.png").exists() and (out / "mix.png").exists()
    bad = subprocess.run([sys.executable, "-m", "clustersize.cli", "whatif", str(GPT5), "--vary",
                          "accelerators.h100-sxm.prize_usd=1,2"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "did you mean 'price_usd'" in bad.stderr and "Traceback" not in bad.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def dask_cluster():
    """A real scheduler and two workers on 127.0.0.1, shut down afterwards."""
    pytest.importorskip("distributed")
    port = _free_port()
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    bin_dir = os.path.dirname(sys.executable)
    dask = os.path.join(bin_dir, "dask")
    address = f"tcp://127.0.0.1:{port}"
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--dashboard-address", ":0", "--no-show"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    procs += [subprocess.Popen([dask, "worker", address, "--nworkers", "1", "--nthreads", "1",
                                "--host", "127.0.0.1", "--dashboard-address", ":0"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
    from distributed import Client

    try:
        deadline = time.time() + 60
        while True:
            try:
                with Client(address, timeout="5s") as client:
                    client.wait_for_workers(2, timeout=60)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.5)
        yield address
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.mark.slow
def test_dask_cluster_gives_the_same_rows_as_local(dask_cluster):
    """A 20-point H100-price sweep of gpt5.yaml, on two Dask workers and on local processes."""
    vary = {"accelerators.h100-sxm.price_usd": "10000:40000:20"}
    on_dask = clustersize.sweep(GPT5, vary=vary, scheduler=dask_cluster)
    local = clustersize.sweep(GPT5, vary=vary, workers=2)
    assert len(on_dask) == 20 and on_dask.verified.all()
    pd.testing.assert_frame_equal(comparable(on_dask), comparable(local))


def test_plot_axes_are_named_by_the_fields_description_and_unit():
    from clustersize.whatif.plots import axis_label

    assert axis_label("accelerators.h100-sxm.price_usd").startswith("Unit price [USD]")
    assert "[MW]" in axis_label("sites.us-tx.max_mw") and "(sites.us-tx.max_mw)" in axis_label("sites.us-tx.max_mw")
    assert axis_label("no.such.field") == "no.such.field"
