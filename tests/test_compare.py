"""``python -m linnet compare`` on JSON from a real pytest-benchmark run, on copies of it from
another machine, and on corrupt and foreign files."""

from __future__ import annotations

import csv
import io as _io
import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from linnet import cli
from linnet.runs import machine

#: the CPU of the fixtures' "other machine": a name no real machine has, so that ``--reference``
#: by that name can match no run made on the machine the tests run on
FIXTURE_CPU = "Fixture CPU A 9000"
#: the words of FIXTURE_CPU that ``--reference`` names it by
FIXTURE_REFERENCE = "Fixture CPU"

#: CPU model strings as machine_info reads them on each vendor's machines (an ARM server reports a
#: core name; a CPU that /proc/cpuinfo does not name falls back to platform.machine())
REAL_CPUS = {
    "intel": "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz",
    "amd": "AMD EPYC 7763 64-Core Processor",
    "arm": "Neoverse-N1",
    "unknown": "riscv64",
}

BENCHMARKS = textwrap.dedent('''
    import pytest

    import linnet
    from linnet.testing.benchmarking import store
    from linnet.testing.tolerance import exact, figure, relative


    @pytest.mark.parametrize("spec", ["gd[lr=1e-05]", "adam[lr=0.01]"])
    @pytest.mark.benchmark(group="first-order")
    def test_first_order(benchmark, spec):
        problem = linnet.post_problem(0)
        result = benchmark.pedantic(linnet.run, args=(problem, spec, 30), rounds=3, iterations=1)
        store(benchmark, result, loss=relative(1e-6), kappa=figure(problem.kappa, relative(1e-10)))


    @pytest.mark.benchmark(group="gauss-newton")
    def test_gauss_newton(benchmark):
        problem = linnet.post_problem(0)
        result = benchmark.pedantic(linnet.run, args=(problem, "gauss-newton[step=0.2]", 5),
                                    rounds=2, iterations=1)
        store(benchmark, result, loss=relative(1e-6), steps_to_1e_3=figure(result.steps_to(1e-3), exact()))
''')

@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    """A real ``pytest --benchmark-json --benchmark-autosave`` run of a tiny benchmark file."""
    root = tmp_path_factory.mktemp("bench")
    (root / "test_tiny_benchmarks.py").write_text(BENCHMARKS)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_tiny_benchmarks.py",
         "--benchmark-json=run.json", "--benchmark-autosave",
         f"--benchmark-storage=file://{root / '.benchmarks'}"],
        cwd=root, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root


def _variant(src, dst, *, node=None, cpu=None, cores=None, threads=None, when, speed=1.0, figure=None,
             calibration=None, reverse_blas=False, verdict=None):
    data = json.loads(src.read_text())
    mi = data["machine_info"]
    if calibration:
        mi["linnet"]["calibration"].update(calibration)
    if reverse_blas:
        mi["linnet"]["blas"] = mi["linnet"]["blas"][::-1] + [dict(mi["linnet"]["blas"][0], version="0.3.0")]
    if verdict:
        data["linnet_verdicts"] = [dict(v, verdict=verdict) for v in data.get("linnet_verdicts", [])]
    if node:
        mi["node"] = node
    if cpu:
        mi["linnet"]["cpu_model"] = cpu
    if cores:
        mi["linnet"]["cpu_count"] = cores
    if threads:
        for lib in mi["linnet"]["blas"]:
            lib["num_threads"] = threads
    data["datetime"] = when
    data["commit_info"]["id"] = "c0ffee" + when[:4]
    for b in data["benchmarks"]:
        for stat in ("median", "min", "max"):
            b["stats"][stat] *= speed
    if figure:
        name, key, factor = figure
        b = next(b for b in data["benchmarks"] if b["name"] == name)
        b["extra_info"]["figures"][key] *= factor
    dst.write_text(json.dumps(data))
    return dst


@pytest.fixture(scope="module")
def files(bench):
    run = bench / "run.json"
    later = _variant(run, bench / "later.json", when="2100-01-01T00:00:00", speed=2.0)
    other = _variant(run, bench / "other.json", node="fixture-node-b", cpu=FIXTURE_CPU, cores=64,
                     threads=32, when="2200-01-01T00:00:00", speed=0.25,
                     figure=("test_first_order[gd[lr=1e-05]]", "relative_loss", 1.01))
    return {"run": run, "later": later, "other": other}


#: a calibration without within-run spread: what a machine at rest measures (the real run's spreads
#: grow with the load of whatever else runs beside the tests, and with them the noise compare allows)
QUIET = {"matmul_spread": 1.0, "call_spread": 1.0}


def _calibrated(files, bench, name, *, threads, gflops_factor, call_factor, speed, verdict=None):
    """Another run on the same machine with other BLAS threads and calibration (all times x speed),
    measured at rest (QUIET)."""
    cal = json.loads(files["run"].read_text())["machine_info"]["linnet"]["calibration"]
    return _variant(files["run"], bench / name, threads=threads, when="2150-01-01T00:00:00", speed=speed,
                    calibration={"matmul_gflops": cal["matmul_gflops"] * gflops_factor,
                                 "call_seconds": cal["call_seconds"] * call_factor, **QUIET}, verdict=verdict)


def _main(argv, capsys):
    try:
        code = cli.main(argv)
    except SystemExit as e:
        code = e.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_pytest_benchmark_json_is_real(files):
    data = json.loads(files["run"].read_text())
    assert data["machine_info"]["linnet"]["cpu_count"] >= 1
    assert {b["group"] for b in data["benchmarks"]} == {"first-order", "gauss-newton"}
    assert all("figures" in b["extra_info"] for b in data["benchmarks"])


def test_same_machine_text(files, capsys):
    code, out, err = _main(["compare", str(files["run"]), str(files["later"])], capsys)
    assert code == 0, err
    assert "warning" not in out + err
    assert "M1" in out and "M2" not in out
    assert "group first-order: 2 benchmarks" in out and "group gauss-newton: 1 benchmark" in out
    assert "2.00x" in out and "ref" in out
    assert " * " not in out  # the same figures: nothing flagged
    assert "slower" in out  # twice slower, rounds' ranges apart
    # the runs' lines name the files, whose length depends on TMPDIR; the rest fits 100 columns
    assert max(len(ln) for ln in out.splitlines() if str(files["run"].parent) not in ln) <= 100


def test_different_machines_warn_and_flag_figures(files, capsys):
    code, out, err = _main(["compare", str(files["run"]), str(files["other"])], capsys)
    assert code == 0, err
    flat = " ".join(out.split())
    assert "warning: comparing runs from 2 different machines (M1, M2)" in flat
    assert f"{FIXTURE_CPU}, 64 cores" in flat and "32 threads" in flat
    assert "0.25x" in out
    assert "* relative_loss: " in out and " in R1, " in out


def test_reference_choice(files, capsys):
    paths = [str(p) for p in files.values()]
    code, out, _ = _main(["compare", *paths, "--reference", FIXTURE_REFERENCE], capsys)
    assert code == 0 and f"reference: R3 (matches '{FIXTURE_REFERENCE}')" in out
    assert "4.00x" in out  # R1 against R3, four times slower
    code, out, _ = _main(["compare", *paths, "-r", "R2"], capsys)
    assert code == 0 and "reference: R2" in out and "0.50x" in out
    code, _, err = _main(["compare", *paths, "-r", "R9"], capsys)
    assert code == 2 and "R1 to R3" in err
    code, _, err = _main(["compare", *paths, "-r", "no-such-machine"], capsys)
    assert code == 2 and err.startswith("linnet: error: --reference")


def _recorded_on(src, dst, cpu, monkeypatch):
    """``src`` as if run on a machine whose CPU reads ``cpu``: the machine description that
    :func:`linnet.runs.machine.machine_info` gives with its ``_cpu_model`` patched, with the run's
    calibration kept."""
    monkeypatch.setattr(machine, "_cpu_model", lambda: cpu)
    data = json.loads(src.read_text())
    calibration = data["machine_info"]["linnet"]["calibration"]
    data["machine_info"]["linnet"] = dict(machine.machine_info(), calibration=calibration)
    dst.write_text(json.dumps(data))
    return dst


@pytest.mark.parametrize("vendor", sorted(REAL_CPUS))
def test_reference_choice_whatever_the_real_cpu(files, bench, capsys, monkeypatch, vendor):
    """The real machine's CPU, whatever it is, does not steal the fixture machine's reference: a
    run made on a Xeon must not match what a fixture describes (nor an AMD, ARM or unknown CPU)."""
    cpu = REAL_CPUS[vendor]
    real = _recorded_on(files["run"], bench / f"on-{vendor}.json", cpu, monkeypatch)
    paths = [str(real), str(files["later"]), str(files["other"])]
    code, out, _ = _main(["compare", *paths, "--reference", FIXTURE_REFERENCE], capsys)
    assert code == 0 and f"reference: R3 (matches '{FIXTURE_REFERENCE}')" in out
    assert "4.00x" in out  # R1 against R3, four times slower
    code, out, _ = _main(["compare", *paths, "--reference", cpu], capsys)
    assert code == 0 and f"reference: R1 (matches '{cpu}')" in out


def _report(paths, output, capsys, cpu):
    """compare's report of ``paths`` with the CPU name ``cpu`` replaced by ``<cpu>``, whitespace
    collapsed (a longer name wraps the machine lines elsewhere)."""
    code, out, err = _main(["compare", *map(str, paths), "-o", output], capsys)
    assert code == 0, err
    return " ".join(out.split()).replace(cpu, "<cpu>")


@pytest.mark.parametrize("output", ["text", "markdown", "csv"])
def test_reports_are_the_same_on_every_cpu_vendor(files, bench, capsys, monkeypatch, output):
    """The same runs recorded on an Intel, AMD, ARM or unknown CPU give the same report, but for
    the CPU's name: machine identity, warnings, reference, ratios and flags do not depend on it."""
    reports = {}
    for vendor, cpu in REAL_CPUS.items():
        folder = bench / f"on-{vendor}"
        folder.mkdir(exist_ok=True)
        first = _recorded_on(files["run"], folder / "run.json", cpu, monkeypatch)
        second = _recorded_on(files["later"], folder / "later.json", cpu, monkeypatch)
        report = _report([first, second, files["other"]], output, capsys, cpu)
        reports[vendor] = report.replace(str(folder), "<folder>")
    assert len(set(reports.values())) == 1, reports
    if output == "text":
        assert "(M1, M2)" in reports["intel"] and "M3" not in reports["intel"]  # two machines, not three


def test_name_filter(files, capsys):
    code, out, _ = _main(["compare", str(files["run"]), str(files["other"]), "-k", "gauss"], capsys)
    assert code == 0 and "gauss-newton" in out and "first-order" not in out
    code, out, _ = _main(["compare", str(files["run"]), "-k", "nothing-matches"], capsys)
    assert code == 0 and "no benchmarks match" in out


def test_markdown(files, capsys):
    code, out, _ = _main(["compare", str(files["run"]), str(files["other"]), "--output", "markdown"], capsys)
    assert code == 0
    assert "### first-order" in out and "| run | file | commit | date | machine |" in out
    assert "**relative_loss**" in out and "> **warning" in out
    table = [ln for ln in out.splitlines() if ln.startswith("| `test_first_order")]
    assert table and all(ln.count("|") == table[0].count("|") for ln in table)


def test_csv(files, capsys):
    code, out, err = _main(["compare", *map(str, files.values()), "-o", "csv"], capsys)
    assert code == 0
    assert "warning" in err and "warning" not in out  # csv stays a table
    rows = list(csv.DictReader(_io.StringIO(out)))
    assert len(rows) == 3 * 3  # 3 benchmarks x 3 runs
    ref = [r for r in rows if r["run"] == "R1"]
    assert all(float(r["ratio"]) == 1.0 for r in ref)
    assert {r["class"] for r in rows} == {"?"}  # equal calibrations: nothing tells the classes apart
    flagged = [r for r in rows if r["differs"]]
    assert [(r["run"], r["benchmark"], r["differs"]) for r in flagged] == [
        ("R3", "test_first_order[gd[lr=1e-05]]", "relative_loss")]
    medians = {(r["benchmark"], r["run"]): float(r["median_s"]) for r in rows}
    assert medians[("test_gauss_newton", "R2")] == pytest.approx(2 * medians[("test_gauss_newton", "R1")])


def test_default_folder_is_dot_benchmarks(bench, capsys, monkeypatch):
    monkeypatch.chdir(bench)
    code, out, err = _main(["compare"], capsys)
    assert code == 0, err
    assert ".benchmarks" in out and "R1" in out and "R2" not in out  # the one autosaved run
    assert "only one run" in out and "--benchmark-autosave" in out


def test_no_default_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = _main(["compare"], capsys)
    assert code == 2 and ".benchmarks/ does not exist" in err


def test_out_file_atomic_and_force(files, tmp_path, capsys):
    target = tmp_path / "cmp.md"
    argv = ["compare", str(files["run"]), "-o", "markdown", "--out", str(target)]
    assert _main(argv, capsys)[0] == 0
    first = target.read_text()
    assert first.startswith("## Benchmark runs")
    code, _, err = _main(argv, capsys)
    assert code == 2 and "exists" in err and target.read_text() == first
    assert _main([*argv, "--force"], capsys)[0] == 0


@pytest.mark.parametrize("name, content, why", [
    ("corrupt.json", None, "invalid JSON"),
    ("empty.json", "", "empty file"),
    ("list.json", "[1, 2, 3]", "top level is a JSON list"),
    ("foreign.json", '{"name": "not benchmarks", "version": 1}', "no 'benchmarks' list"),
    ("nomachine.json", '{"benchmarks": []}', "no 'machine_info' object"),
    ("nomedian.json", '{"machine_info": {}, "benchmarks": [{"name": "t", "stats": {"mean": 1}}]}',
     "has no numeric stats.median"),
    ("binary.json", b"\xff\xfe\x00\x01PNG", "not UTF-8 text"),
])
def test_bad_files_give_one_line_naming_the_file(files, tmp_path, capsys, name, content, why):
    path = tmp_path / name
    if content is None:
        path.write_text(files["run"].read_text()[:300])  # a truncated real file
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    code, out, err = _main(["compare", str(files["run"]), str(path)], capsys)
    assert code == 2 and out == ""
    assert err.startswith(f"linnet: error: {path}: ") and why in err
    assert err.count("\n") == 1


def test_missing_path(capsys, tmp_path):
    code, _, err = _main(["compare", str(tmp_path / "nope.json")], capsys)
    assert code == 2 and "nope.json: no such file" in err


def test_folder_of_runs(files, tmp_path, capsys):
    folder = tmp_path / "runs" / "Linux-CPython-3.11-64bit"
    folder.mkdir(parents=True)
    for p in files.values():
        shutil.copy(p, folder / p.name)
    code, out, _ = _main(["compare", str(tmp_path / "runs")], capsys)
    assert code == 0 and "R3" in out


def test_same_machine_blas_listed_in_another_order_is_one_machine(files, bench, capsys):
    data = json.loads(files["run"].read_text())
    data["machine_info"]["linnet"]["blas"] = data["machine_info"]["linnet"]["blas"][::-1]
    data["machine_info"]["linnet"]["calibration"]["matmul_gflops"] *= 1.03  # measurement noise
    (bench / "reordered.json").write_text(json.dumps(data))
    code, out, _ = _main(["compare", str(files["run"]), str(bench / "reordered.json")], capsys)
    assert code == 0 and "warning" not in out and "M2" not in out


def test_thread_count_difference_is_named(files, bench, capsys):
    more = _calibrated(files, bench, "threads.json", threads=7, gflops_factor=1.0, call_factor=1.0, speed=1.0)
    code, out, _ = _main(["compare", str(files["run"]), str(more)], capsys)
    flat = " ".join(out.split())
    assert code == 0 and "differ in BLAS threads (M1: " in flat and "M2: 7)" in flat
    assert "CPU (" not in flat and "cores (" not in flat  # only what differs is named


def test_normalised_ratios_and_classes_from_measurement(files, bench, capsys):
    """Calibration: matmul 8x slower, tiny calls 3x slower (both beyond the calibration's own
    run-to-run noise); every benchmark 3x slower. The times follow the per-call prediction, so every
    benchmark is overhead-bound and normalises to 1.00x; none is flagged. Negative control: 8x
    slower times follow the matmul prediction (blas)."""
    quiet = _variant(files["run"], bench / "quiet.json", when="2100-01-01T00:00:00", calibration=QUIET)
    slow_calls = _calibrated(files, bench, "calls.json", threads=1, gflops_factor=0.125, call_factor=3.0,
                             speed=3.0, verdict="does not hold")
    code, out, _ = _main(["compare", str(quiet), str(slow_calls), "-o", "csv"], capsys)
    rows = [r for r in csv.DictReader(_io.StringIO(out)) if r["run"] == "R2"]
    assert {r["class"] for r in rows} == {"call"}
    assert all(float(r["ratio"]) == pytest.approx(3.0) for r in rows)
    assert all(float(r["normalised_ratio"]) == pytest.approx(1.0) for r in rows)
    assert all(r["flag"] == "" for r in rows)
    blas_bound = _calibrated(files, bench, "blas.json", threads=1, gflops_factor=0.125, call_factor=3.0,
                             speed=8.0)
    code, out, _ = _main(["compare", str(quiet), str(blas_bound), "-o", "csv"], capsys)
    rows = [r for r in csv.DictReader(_io.StringIO(out)) if r["run"] == "R2"]
    assert {r["class"] for r in rows} == {"blas"}
    assert all(float(r["normalised_ratio"]) == pytest.approx(1.0) for r in rows)
    holds = _variant(files["run"], bench / "holds.json", when="2120-01-01T00:00:00", verdict="holds")
    code, out, _ = _main(["compare", str(holds), str(slow_calls)], capsys)
    assert "claims verdicts:" in out
    assert any("holds" in line and "does not hold" in line and "changed" in line for line in out.splitlines())
    code, out, _ = _main(["compare", str(holds), str(holds)], capsys)
    assert "claims verdicts:" in out and "changed" not in out  # negative control


def test_html_is_one_self_contained_page(files, capsys, tmp_path):
    target = tmp_path / "cmp.html"
    code, _, err = _main(["compare", *map(str, files.values()), "-o", "html", "--out", str(target)], capsys)
    assert code == 0, err
    page = target.read_text()
    assert page.count("<svg") == 2 and "<script" not in page and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    assert all(f">{r}<" in page or f"{r} " in page for r in ("R1", "R2", "R3"))
    assert "group first-order" in page and "group gauss-newton" in page and "relative_loss" in page


def _chromium():
    return next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome"))
                 if p), None)


@pytest.mark.skipif(_chromium() is None and not os.environ.get("LINNET_REQUIRE_CHROMIUM"),
                    reason="headless Chromium is not installed (CI installs it and sets LINNET_REQUIRE_CHROMIUM=1)")
def test_html_in_headless_chromium(files, capsys, tmp_path):
    """The page as a real browser renders it: every run and every group is in the DOM."""
    target = tmp_path / "cmp.html"
    assert _main(["compare", *map(str, files.values()), "-o", "html", "--out", str(target)], capsys)[0] == 0
    proc = subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                           "--disable-background-networking", "--no-first-run",
                           f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", target.as_uri()],
                          capture_output=True, text=True, timeout=120)
    dom = proc.stdout
    assert "linnet benchmark comparison" in dom, proc.stderr[-2000:]
    for run in ("R1", "R2", "R3"):
        assert run in dom
    for group in ("group first-order", "group gauss-newton"):
        assert group in dom
    # raw panel: 3 benchmarks x 3 runs; normalised panel: the reference rows only, since the three
    # runs' calibrations are equal (within their noise: no normalised ratio, a note instead)
    assert dom.count("<svg") == 2 and dom.count("<rect") == 3 * 3 + 3
    assert dom.count("calibrations within their noise") == 3 * 2


@pytest.mark.parametrize("a, b, tol, differ", [
    (1.0, 1.0, None, False), (1.0, 1.0 + 1e-9, None, True), (1.0, 1.0 + 1e-9, {"kind": "relative", "rtol": 1e-6,
                                                                                "roundoff": 1e-18, "decades": 1},
                                                         False),
    (1.0, 1.01, {"kind": "relative", "rtol": 1e-6, "roundoff": 1e-18, "decades": 1}, True),
    (None, None, None, False), (None, 1.0, None, True), (True, False, None, True), (3, 40, None, True),
    (6.5e-31, 9e-19, {"kind": "relative", "rtol": 1e-4, "roundoff": 1e-18, "decades": 1}, True),  # 12 decades
    (1e-30, 2e-30, {"kind": "relative", "rtol": 1e-4, "roundoff": 1e-18, "decades": 1}, False),  # within a decade
])
def test_figures_differ_by_the_gates_rule(a, b, tol, differ):
    """compare uses the tolerance each benchmark declared (linnet.testing.tolerance), exact where none was."""
    from types import SimpleNamespace

    from linnet.reports.comparison import _differs

    tolerances = {} if tol is None else {"x": tol}
    old = SimpleNamespace(figures={"x": a}, extra_info={"tolerances": tolerances})
    new = SimpleNamespace(figures={"x": b}, extra_info={"tolerances": tolerances})
    assert bool(_differs(old, new)) is differ


def test_no_normalised_ratio_within_the_calibrations_noise(files, tmp_path, capsys):
    """On one machine the calibration moves between runs by up to RUN_TO_RUN_SPREAD; a prediction
    within that factor is noise, so compare shows the raw ratio only (and says why) rather than a
    normalised one that can reverse it. Negative control: beyond the noise, it normalises."""
    from linnet.testing.calibration import RUN_TO_RUN_SPREAD

    def quiet(path):  # the live calibration's within-run spreads set to none, so the test is exact
        data = json.loads(path.read_text())
        data["machine_info"]["linnet"]["calibration"].update(matmul_spread=1.0, call_spread=1.0)
        path.write_text(json.dumps(data))
        return path

    ref = quiet(_variant(files["run"], tmp_path / "ref.json", when="2100-01-01T00:00:00"))
    within = RUN_TO_RUN_SPREAD["call_seconds"] ** 0.9  # the same machine, measured again
    noisy = quiet(_calibrated(files, tmp_path, "noisy.json", threads=1, gflops_factor=1 / within,
                              call_factor=within, speed=1.18))
    code, out, _ = _main(["compare", str(ref), str(noisy), "-o", "csv"], capsys)
    rows = [r for r in csv.DictReader(_io.StringIO(out)) if r["run"] == "R2"]
    assert code == 0 and rows
    assert all(float(r["ratio"]) == pytest.approx(1.18) for r in rows)
    assert all(r["normalised_ratio"] == "" and "noise" in r["not_normalised_because"] for r in rows)
    code, out, _ = _main(["compare", str(ref), str(noisy)], capsys)
    assert "'-' where the calibrations agree within their run-to-run noise" in " ".join(out.split())
    beyond = RUN_TO_RUN_SPREAD["call_seconds"] * 1.5
    slower = quiet(_calibrated(files, tmp_path, "slower.json", threads=1, gflops_factor=1 / beyond,
                               call_factor=beyond, speed=beyond))
    code, out, _ = _main(["compare", str(ref), str(slower), "-o", "csv"], capsys)
    rows = [r for r in csv.DictReader(_io.StringIO(out)) if r["run"] == "R2"]
    assert all(float(r["normalised_ratio"]) == pytest.approx(1.0) and r["not_normalised_because"] == ""
               for r in rows)
