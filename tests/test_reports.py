"""``python -m linnet reproduce``: every figure renders to a valid image, summary.json agrees with
direct runs, files are written atomically and never over an earlier run without --force."""

from __future__ import annotations

import json
import os

import matplotlib

matplotlib.use("Agg")

import matplotlib.image as mpimg  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import linnet  # noqa: E402
from linnet import cli  # noqa: E402
from linnet.claims.post.constants import POST_FIRST_ORDER, POST_GAUSS_NEWTON  # noqa: E402
from linnet.claims.post.producers import per_sample_lr  # noqa: E402
from linnet.core import files
from linnet.core.errors import LinnetError  # noqa: E402
from linnet.reports import reproduce  # noqa: E402
from linnet.reports.figures import corrected, post  # noqa: E402
from linnet.reports.reproduction import LONG_MAX_STEPS, compute, post_lm_spec  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def rep():
    """The full default reproduction on seed 0 (numpy): a few seconds."""
    # the structured Jacobian with the post's cutoff stands in for its Kronecker one (--fast-lm): the
    # same report at 1/200 of the cost; the Kronecker step itself is checked against the structured
    # one in tests/test_second_order.py, and the post's LM floor by the benchmarks (post.lm-floor)
    return compute(seed=0, faithful_lm=False, progress=False)


@pytest.fixture(scope="module")
def report_dir(rep, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    reproduce.write_report(rep, out, "png")
    return out


@pytest.fixture(scope="module")
def summary(report_dir):
    def no_nan(name):
        raise AssertionError(f"summary.json holds {name}")

    return json.loads((report_dir / "summary.json").read_text(), parse_constant=no_nan)


# -- files ---------------------------------------------------------------------------------------

def test_every_file_written(report_dir):
    expected = {f"{name}.png" for name in reproduce.FIGURES} | set(reproduce.SUMMARY_FILES)
    assert {p.name for p in report_dir.iterdir()} == expected  # and no temporary files left


@pytest.mark.parametrize("name", list(reproduce.FIGURES))
def test_figure_is_a_valid_png_of_sensible_size(report_dir, name):
    path = report_dir / f"{name}.png"
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    # measured at 150 dpi: 58-284 kB; the bounds leave about 2-3x either way
    assert 20_000 < len(data) < 800_000, f"{path.name}: {len(data)} bytes"
    image = mpimg.imread(path)
    height, width = image.shape[:2]
    # measured: 1532-2385 wide, 707-1416 high; at least 1200 wide, as a reader needs
    assert 500 <= height <= 1800 and 1200 <= width <= 2800, image.shape
    assert image[..., :3].std() > 0.05  # not blank


def test_summary_markdown_covers_every_figure(report_dir, summary):
    md = (report_dir / "summary.md").read_text()
    for section in ("post-figure", "balanced-init", "long-gd", "nsamples", "kappa", "Claims"):
        assert section in md
    assert summary["files"]["corrected-figure"] == "corrected-figure.png"


# -- summary.json agrees with direct runs --------------------------------------------------------

@pytest.fixture(scope="module")
def problem():
    return linnet.post_problem(0)


@pytest.mark.parametrize("spec", POST_FIRST_ORDER)
def test_summary_first_order_runs_match_direct_runs(summary, problem, spec):
    direct = linnet.run(problem, spec, 3000)
    got = summary["post_figure"]["runs"][spec]
    assert got["diverged"] == direct.diverged
    assert got["steps"] == direct.steps
    if direct.diverged:
        assert got["divergence_step"] == direct.divergence_step
        assert got["final_loss"] is None and got["relative_loss"] is None
    else:
        assert got["final_loss"] == pytest.approx(direct.final_loss, rel=1e-12)
        assert got["relative_loss"] == pytest.approx(direct.relative_loss, rel=1e-12)
        assert got["grad_norm"] == pytest.approx(direct.grad_norm, rel=1e-12)


def test_summary_runs_are_run_records(summary, problem):
    """summary.json keeps each run as the one run record: the same keys as --json and extra_info."""
    from linnet.runs.record import record

    keys = set(record(linnet.run(problem, "gd[lr=1e-05]", 3)))
    runs = summary["post_figure"]["runs"]
    assert runs and all(keys <= set(r) for r in runs.values())
    assert all(r["optimizer"] == spec for spec, r in runs.items())


@pytest.mark.parametrize("spec", [*POST_GAUSS_NEWTON, "lm", "kfac[step=0.5]", "als"])
def test_summary_second_order_runs_match_direct_runs(summary, problem, spec):
    direct = linnet.run(problem, spec, 200)
    got = summary["corrected_figure"]["runs"][spec]
    assert got["steps"] == direct.steps
    assert got["relative_loss"] == pytest.approx(direct.relative_loss, rel=1e-9, abs=1e-33)


def test_summary_post_metric_is_the_posts_sum_squared(summary, problem):
    spec = post_lm_spec(0.2, faithful=False)  # as the module's report ran it
    direct = linnet.run(problem, spec, 200)
    R = direct.weights[0] @ direct.weights[1] - problem.A
    post_metric = float(np.sum(R @ problem.X)) ** 2  # the post's np.sum(Yhat - Y)**2
    assert summary["post_figure"]["lm"][spec]["post_metric_final"] == pytest.approx(post_metric, rel=1e-6, abs=1e-30)


def test_summary_closed_form_and_floor(summary, problem):
    direct = linnet.run(problem, "closed-form", 1)
    assert summary["corrected_figure"]["closed_form_relative_loss"] == pytest.approx(direct.relative_loss, rel=1e-9)
    assert summary["corrected_figure"]["float64_floor"] == np.finfo(np.float64).eps ** 2


def test_summary_balanced_matches_direct_runs(summary, problem):
    got = summary["balanced_init"]["gd[lr=1e-05]"]
    post = linnet.run(problem, "gd[lr=1e-05]", 3000)
    balanced = linnet.run(problem.balanced(), "gd[lr=1e-05]", 3000)
    assert got["post_init"]["relative_loss"] == pytest.approx(post.relative_loss, rel=1e-12)
    assert got["balanced"]["relative_loss"] == pytest.approx(balanced.relative_loss, rel=1e-9)
    assert got["factor"] > 100


def test_summary_long_gd_matches_a_direct_run(summary, problem):
    got = summary["long_gd"]
    direct = linnet.run(problem, "gd[lr=1e-05]", LONG_MAX_STEPS, target=1e-12)
    assert got["reached"] and got["steps"] == direct.steps
    assert 1e5 <= got["steps"] <= 1e6  # "order 1e5"
    # the prediction from the curvature at the minimum is within 10 % of the count
    assert got["predicted_steps"] == pytest.approx(direct.steps, rel=0.1)
    assert got["stall_curvature_cond"] > 1e4


@pytest.mark.parametrize("n", [100, 10_000, 0])
def test_summary_nsamples_matches_direct_runs(summary, n):
    lr = per_sample_lr(1e-5, n)
    direct = linnet.run(linnet.post_problem(0, nsamples=n), f"gd[lr={lr!r}]", 3000)
    got = summary["nsamples"]["runs"][str(n)]
    assert got["lr"] == lr
    assert got["relative_loss"] == pytest.approx(direct.relative_loss, rel=1e-9)


def test_summary_kappa_matches_the_construction(summary):
    got = summary["kappa"]
    assert got["seeds"] == list(range(20))
    for seed, kappa in zip(got["seeds"], got["kappa"]):
        assert kappa == pytest.approx(linnet.post_problem(seed).kappa, rel=1e-12)
    assert got["max"] < 100 and got["claimed"] == 1e5


# -- the post's figure is drawn as the post draws it ---------------------------------------------

def _legend(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_post_figure_keeps_the_posts_look_and_marks_diverged_runs(rep):
    fig = post.post_figure(rep)
    ax1, ax2 = fig.axes
    names = ["GD step=1e-06", "GD step=1e-05", "(diverged at step 7) GD step=0.0001",
             "(diverged at step 5) GD step=0.001", "ADAM step=1e-05", "ADAM step=0.0001",
             "ADAM step=0.001", "ADAM step=0.01"]
    assert _legend(ax1) == names and _legend(ax2) == names
    for ax in (ax1, ax2):
        # a diverged run: its curve up to the divergence and an x where it stops
        lines = [ln for ln in ax.get_lines() if ln.get_label().startswith("(diverged")]
        assert [len(ln.get_xdata()) for ln in lines] and all(len(ln.get_xdata()) >= 2 for ln in lines)
        marks = [ln for ln in ax.get_lines() if ln.get_marker() == "x"]
        assert len(marks) == 2
        assert ax.get_xlabel() == "iteration" and ax.get_ylabel()
        assert ax.get_yscale() == "log"
    # one colour and line style per run in both panels
    style1 = {ln.get_label(): (ln.get_color(), ln.get_linestyle()) for ln in ax1.get_lines()
              if not ln.get_label().startswith("_")}
    style2 = {ln.get_label(): (ln.get_color(), ln.get_linestyle()) for ln in ax2.get_lines()
              if not ln.get_label().startswith("_")}
    assert style1 == style2 and len(set(style1.values())) == len(names)
    # the post plots losses[:-1]: the loss before each of its first 2999 updates
    gd = next(ln for ln in ax1.get_lines() if ln.get_label() == "GD step=1e-05")
    np.testing.assert_array_equal(gd.get_ydata(), rep.post.one(optimizer="gd[lr=1e-05]").losses[:2999])


def test_figures_are_at_least_1200_pixels_wide_with_labelled_axes(rep):
    for name, fig in {**post.draw(rep), **corrected.draw(rep)}.items():
        assert fig.get_figwidth() * fig.dpi >= 1200 and fig.dpi >= 150, name
        for ax in fig.axes:
            assert ax.get_ylabel(), name
            assert ax.get_xlabel() or any(ax.get_shared_x_axes().get_siblings(ax)), name


def test_post_figure_with_lm_plots_sum_r_squared(rep):
    fig = post.post_figure_with_lm(rep)
    ax1, ax2 = fig.axes
    lm = {ln.get_label(): ln for ln in ax1.get_lines() if ln.get_label().startswith("LM")}
    assert list(lm) == ["LM step=0.05", "LM step=0.2"]
    metric = rep.post_lm[post_lm_spec(0.2, faithful=False)].traces["post_metric"]
    np.testing.assert_array_equal(lm["LM step=0.2"].get_ydata(), metric[:191])
    assert lm["LM step=0.05"].get_linewidth() == 5
    # the post's LM never recorded gradient magnitudes: named in the lower legend's title, no entry
    assert not [ln for ln in ax2.get_lines() if ln.get_label().startswith("LM")]
    title = ax2.get_legend().get_title().get_text()
    assert "no gradient recorded" in title and "LM step=0.05" in title and "LM step=0.2" in title


# -- CLI, formats, atomic writes -----------------------------------------------------------------

QUICK = ["--steps", "300", "--long-steps", "20000", "--fast-lm"]


def test_cli_svg_and_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "svg"
    assert cli.main(["reproduce", "--out", str(out), "--format", "svg", *QUICK]) == 0
    for name in reproduce.FIGURES:
        head = (out / f"{name}.svg").read_text()[:200]
        assert head.startswith("<?xml") and "<svg" in (out / f"{name}.svg").read_text()[:2000]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == 300 and summary["long_gd"]["max_steps"] == 20000
    assert summary["long_gd"]["reached"] is False
    before = (out / "summary.json").stat().st_mtime_ns
    capsys.readouterr()
    assert cli.main(["reproduce", "--out", str(out), "--format", "svg", *QUICK]) == 2
    err = capsys.readouterr().err
    assert err.startswith("linnet: error: ") and "exists" in err and "--force" in err
    assert err.count("\n") == 1
    assert (out / "summary.json").stat().st_mtime_ns == before
    assert cli.main(["reproduce", "--out", str(out), "--format", "svg", "--force", *QUICK]) == 0


def test_pdf_format(rep, tmp_path):
    paths = reproduce.write_report(rep, tmp_path, "pdf")
    assert paths["kappa"].read_bytes()[:5] == b"%PDF-"


def exit_code(argv) -> int:
    """cli.main's status: argument errors exit through argparse (SystemExit), LinnetError returns."""
    try:
        return cli.main(argv)
    except SystemExit as e:
        return e.code


@pytest.mark.parametrize("argv", [
    ["reproduce", "--out", "x", "--format", "bmp"],
    ["reproduce", "--out", "x", "--steps", "-5"],
    ["reproduce", "--out", "x", "--steps", "many"],
    ["reproduce", "--out", "x", "--backend", "jax"],
    ["reproduce"],
])
def test_cli_bad_input_exits_2(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert exit_code(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("linnet: error:") and err.count("\n") == 1
    assert not (tmp_path / "x").exists()


def test_out_is_a_file(tmp_path):
    (tmp_path / "f").write_text("")
    with pytest.raises(LinnetError, match="not a folder"):
        files.make_folder(tmp_path / "f")


def test_write_atomic_leaves_nothing_on_failure(tmp_path):
    def broken(f):
        f.write(b"half a fi")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        files.write_atomic(tmp_path / "a.png", broken)
    assert os.listdir(tmp_path) == []


def test_write_atomic_never_overwrites_without_force(tmp_path):
    path = tmp_path / "summary.json"
    files.write_text(path, "first")
    with pytest.raises(LinnetError, match="exists"):
        files.write_text(path, "second")
    assert path.read_text() == "first"
    files.write_text(path, "third", force=True)
    assert path.read_text() == "third"
    assert os.listdir(tmp_path) == ["summary.json"]


def test_check_writable_refuses_before_any_work(tmp_path):
    (tmp_path / "kappa.png").write_bytes(b"old")
    with pytest.raises(LinnetError, match="kappa.png exists"):
        reproduce.reproduce(tmp_path, steps=10)
    assert (tmp_path / "kappa.png").read_bytes() == b"old"
