"""Every figure family renders on small inputs and keeps the style of
:mod:`linnet.reports.figures.style`: no two series of one axes share colour, line style and marker;
every legend entry draws points or a 'not reached' mark; no text or drawing falls off the canvas.
Negative controls show the checker catching each fault. ``linnet figures`` and ``linnet plot``
refuse bad input with one error line."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from linnet import cli  # noqa: E402
from linnet.reports.figures import corrected, deep, post, sweep  # noqa: E402
from linnet.reports.figures.style import NOT_REACHED, Styles, new_figure, problems  # noqa: E402


def _faults(fig, kind: str) -> list[str]:
    return [p for p in problems(fig) if kind in p]


# -- the checker and its negative controls ---------------------------------------------------------

def test_styles_differ_for_every_series():
    styles = Styles()
    keys = [(s["color"], s["ls"], s.get("marker")) for s in (styles.next(ls="-") for _ in range(12))]
    assert len(set(keys)) == 12  # past the palette, a marker tells the solid lines apart
    assert len({styles.next()["color"] for _ in range(3)}) == 3


def test_checker_passes_a_clean_figure():
    fig = new_figure((5, 4))
    ax = fig.subplots()
    styles = Styles()
    for k in range(3):
        ax.plot([0, 1], [k, k + 1], label=f"series {k}", **styles.next())
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend()
    assert problems(fig) == []


def test_checker_catches_two_series_of_one_style():
    fig = new_figure((5, 4))
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], color="C0", ls="-", label="gd")
    ax.plot([0, 1], [1, 2], color="C0", ls="-", label="adam")
    ax.legend()
    assert _faults(fig, "share colour, line style and marker")


def test_checker_catches_an_empty_series_in_the_legend():
    fig = new_figure((5, 4))
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], label="reached")
    ax.plot([], [], color="C1", label="never reached")
    ax.plot([1, 2], [np.nan, np.nan], color="C2", label="all NaN")
    ax.legend()
    assert len(_faults(fig, "draws no point")) == 2


def test_checker_catches_a_label_outside_the_canvas():
    fig = new_figure((5, 4))
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1])
    ax.text(1.4, 0.5, "pushed off the right edge", transform=ax.transAxes)
    assert _faults(fig, "outside the figure") and _faults(fig, "past the canvas")


# -- the families ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def rep():
    """A short reproduction: 100 first-order steps, 2000 long-GD steps, the fast LM."""
    from linnet.reports.reproduction import compute

    return compute(0, steps=100, long_max_steps=2000, faithful_lm=False, progress=False)


def test_post_family(rep):
    drawn = post.draw(rep)
    assert set(drawn) == set(post.FIGURES)
    for name, fig in drawn.items():
        assert problems(fig) == [], name
    gd = [ln.get_color() for ln in drawn["post-figure"].axes[0].get_lines() if ln.get_label().endswith("GD step=1e-06")]
    adam = [ln.get_color() for ln in drawn["post-figure"].axes[0].get_lines() if "ADAM" in ln.get_label()]
    assert gd and not set(gd) & set(adam)  # GD and Adam runs no longer share colours


def test_corrected_family(rep):
    drawn = corrected.draw(rep)
    assert set(drawn) == set(corrected.FIGURES)
    for name, fig in drawn.items():
        assert problems(fig) == [], name
    cutoff = [ln for ln in drawn["corrected-figure"].axes[0].get_lines() if "post's cutoff" in ln.get_label()]
    assert len(cutoff) == 2 and cutoff[0].get_color() != cutoff[1].get_color()


@pytest.mark.parametrize("draw", [deep.preconditioner_figure, lambda: deep.margin_figure(range(2)),
                                  lambda: deep.depth_growth_figure(range(1)), lambda: deep.width_figure(range(1))],
                         ids=["preconditioner", "deficiency_margin", "depth_growth", "width"])
def test_deep_family(draw):
    assert problems(draw()) == []


@pytest.fixture(scope="module")
def sweep_table(tmp_path_factory):
    """A tiny sweep: GD, which never reaches 1e-12 in 100 steps, and LM, which does."""
    from linnet.sweeps.store import load

    out = tmp_path_factory.mktemp("sweep") / "s"
    assert cli.main(["sweep", "--family", "conditioned", "--kappa", "1,1e2,1e4", "--seeds", "0-1", "--nsamples",
                     "0", "--optimizer", "gd[lr=0.05]", "--optimizer", "lm", "--steps", "100", "--out", str(out),
                     "--quiet"]) == 0
    return out, load(out)


def test_sweep_family_marks_what_is_not_reached(sweep_table):
    _, df = sweep_table
    drawn = sweep.draw(df, [("kappa", "steps_to_1e-12", "optimizer")], target=1e-12)
    assert set(drawn) == {"steps_to_1e-12-vs-kappa", "profile-steps", "profile-seconds"}
    for name, fig in drawn.items():
        assert problems(fig) == [], name
    ax = drawn["steps_to_1e-12-vs-kappa"].axes[0]
    labels = ax.get_legend_handles_labels()[1]
    assert "gd[lr=0.05]: " + NOT_REACHED in labels and any(lab.startswith("lm") for lab in labels)
    profile = drawn["profile-steps"].axes[0]
    assert all(not ln.get_clip_on() for ln in profile.get_lines())  # lines at 0 and 1 stay visible
    assert profile.get_ylim()[0] < 0 and profile.get_ylim()[1] > 1


def test_figures_and_plot_commands(sweep_table, tmp_path, capsys):
    out, _ = sweep_table
    figs = tmp_path / "figs"
    assert cli.main(["figures", "sweep", "--sweep", str(out), "--x", "kappa", "--y", "steps_to_1e-12",
                     "--out", str(figs)]) == 0
    assert {p.name for p in (figs / "sweep").iterdir()} == {"steps_to_1e-12-vs-kappa.png", "profile-steps.png",
                                                            "profile-seconds.png"}
    assert cli.main(["plot", str(out), "--profile"]) == 0
    capsys.readouterr()
    (tmp_path / "file").write_text("")
    for argv in (["figures", "nope", "--out", str(figs)],
                 ["figures", "sweep", "--out", str(figs)],
                 ["figures", "sweep", "--sweep", str(out), "--out", str(figs)],  # exists, no --force
                 ["figures", "deep", "--out", str(tmp_path / "file")]):
        assert cli.main(argv) == 2, argv
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 4 and all(line.startswith("linnet: error: ") for line in err)
    assert "unknown figure family 'nope'" in err[0] and "--sweep" in err[1] and "exists" in err[2]
    assert "file" in err[3] and ("not a folder" in err[3] or "cannot create" in err[3])
