"""The report card (``linnet check``) and the tuning protocol it follows.

The cards here are small (two development seeds, a few rates, five held-out seeds), so their
verdicts are mostly inconclusive by design; what is checked is that each number is the one a
direct run gives, that each question can come out either way (GD against LM as each other's
negative control), and that the page renders in a real browser.
"""

import json
import os
import shutil
import subprocess

import numpy as np
import pytest

import linnet
from linnet.claims.statistics import DOES_NOT_HOLD, HOLDS
from linnet.cli import main
from linnet.reports.card.card import REFERENCES, report_card, text, untuned_spec
from linnet.reports.card.command import optimizer_for_card
from linnet.reports.card.questions import KAPPAS, MODES, POST, learning_times
from linnet.sweeps.tuning import LR_GRID, Setting, choose, tune_many

DEV, HELD = range(0, 2), range(1000, 1005)
GRID = (1e-5, 3.16228e-05, 1e-4, 0.1)  # 3.2e-5 is chosen on the post's problem, 0.1 for the modes


@pytest.fixture(scope="module")
def gd_card():
    return report_card("gd[lr=1e-05]", held_out=HELD, development=DEV, grid=GRID, references=("lm",))


@pytest.fixture(scope="module")
def lm_card():
    return report_card("lm", held_out=HELD, development=DEV, grid=GRID, references=("gd[lr=1e-05]",))


def _verdict(card, qid):
    return next(v for v in card.verdicts if v.id == qid)


# -- the tuning protocol ------------------------------------------------------------------------------

def test_the_grid_is_half_decades_from_1e_8_to_1():
    assert len(LR_GRID) == 17 and LR_GRID[0] == 1e-8 and LR_GRID[-1] == 1.0
    assert np.allclose(np.diff(np.log10(LR_GRID)), 0.5, atol=1e-5)


@pytest.mark.parametrize("losses, chosen", [
    ([[0.5, 0.5], [0.1, 0.2], [None, 1e-9]], 1),  # the best median diverged once: out
    ([[1e-30, 1e-29], [1e-27, 1e-31]], 0),  # both at round-off (below the floor): a tie, the smaller rate
    ([[0.2], [0.1], [0.3]], 1),
    ([[None], [None]], None),  # every rate diverged
])
def test_choose(losses, chosen):
    assert choose(GRID[: len(losses)], losses) == chosen


def test_tuning_is_the_rate_a_direct_run_chooses():
    """The batched tuning's scores are the median of one-at-a-time runs' relative losses, and a rate
    where one development seed diverges is out."""
    setting = Setting("post", {"family": "post"}, 300)
    tuned, = tune_many([("gd[lr=1e-05]", setting)], grid=GRID, seeds=range(3))
    for lr, score, diverged in zip(GRID, tuned.scores, tuned.diverged):
        runs = [linnet.run(linnet.post_problem(s), f"gd[lr={lr!r}]", 300) for s in range(3)]
        assert diverged == sum(r.diverged for r in runs)
        if diverged:
            assert score is None
        else:
            assert score == pytest.approx(np.median([r.relative_loss for r in runs]), rel=1e-9)
    assert tuned.diverged[-1] == 3 and tuned.lr == 3.16228e-05 and tuned.spec == "gd[lr=3.16228e-05]"


def test_an_optimizer_without_lr_is_not_tuned():
    tuned, = tune_many([("lm", POST)], grid=GRID, seeds=range(2))
    assert (tuned.spec, tuned.lr, tuned.grid, tuned.note) == ("lm", None, (), "no lr to tune")


# -- the card's numbers ---------------------------------------------------------------------------

def test_the_post_setting_is_the_runs_of_linnet_run(gd_card):
    post = next(s for s in gd_card.settings if s.setting == POST.name)
    tuned = next(t for t in gd_card.tuned if t.setting == POST.name)
    assert post.spec == tuned.spec and post.seeds == len(HELD)
    direct = [linnet.run(linnet.post_problem(s), post.spec, POST.steps) for s in HELD]
    assert post.diverged == sum(r.diverged for r in direct)
    assert post.relative_loss.value == pytest.approx(np.median([r.relative_loss for r in direct]), rel=1e-9)


def test_every_tuned_setting_has_its_own_rate(gd_card):
    names = [t.setting for t in gd_card.tuned]
    assert names[0] == POST.name and MODES.name in names and all(k.name in names for k in KAPPAS)
    assert [t.spec for t in gd_card.references] == ["lm"]
    assert gd_card.spec == "gd"
    assert untuned_spec(linnet.parse("momentum[lr=1.0,momentum=0.8]")) == "momentum[momentum=0.8]"


def test_gd_and_lm_answer_opposite_ways(gd_card, lm_card):
    """Each question's negative control: LM answers the questions GD answers the other way (estimates
    are compared where five seeds cannot decide)."""
    for qid in ("post.plateau", "post.balanced"):
        assert _verdict(gd_card, qid).estimate.value == 0.0  # no counterexample in 5 seeds (inconclusive at n=5)
        assert _verdict(lm_card, qid).verdict == DOES_NOT_HOLD  # LM reaches round-off from any start
    assert _verdict(gd_card, "sensitivity.kappa").verdict == DOES_NOT_HOLD
    assert _verdict(gd_card, "sensitivity.kappa").estimate.value > 5  # GD loses decades to kappa
    assert _verdict(lm_card, "sensitivity.kappa").estimate.value == 0.0  # LM at round-off at both ends (median)
    assert _verdict(lm_card, "sensitivity.depth").verdict == HOLDS
    assert _verdict(gd_card, "deep.modes").estimate.value == 0.0  # GD: in order on every seed
    gd_t3 = np.median([r["t3_over_t1"] for r in gd_card.mode_rows])
    lm_t3 = np.median([r["t3_over_t1"] for r in lm_card.mode_rows])
    assert gd_t3 > 3 and lm_t3 < 2  # Saxe's s_1 / s_3 = 4 for GD; LM learns the modes nearly together


def test_mode_learning_times_follow_saxe_for_gd():
    """GD from the small start learns the modes in decreasing order of s_i, at times near s_1 / s_i
    (here 1, 2, 4)."""
    gd, = learning_times("gd[lr=0.1]", [1000])
    assert gd["in_order"] and 1.5 < gd["t2_over_t1"] < 2.5 and 3 < gd["t3_over_t1"] < 5.5


def test_the_profile_ranks_lm_first_on_steps(gd_card):
    steps = {s.spec: s for s in gd_card.standings if s.metric == "steps"}
    assert steps["lm"].best.value == 1.0 and steps["lm"].solved.value == 1.0
    gd = next(s for s in gd_card.settings if s.setting == "post, 30000 steps")
    assert steps[gd.spec].solved.value == gd.reached[1e-6]["reached"] / len(HELD)


def test_text_and_json(gd_card):
    out = text(gd_card)
    assert out.startswith("linnet check gd: first order, batchable")
    for qid in ("post.plateau", "post.samples", "sensitivity.kappa", "sensitivity.depth", "deep.modes"):
        assert f"\n{qid}" in out
    data = json.loads(json.dumps(gd_card.to_dict(), allow_nan=False))  # strict JSON: no inf or nan
    assert data["held_out_seeds"] == "1000-1004" and data["grid"] == list(GRID)
    assert {v["id"] for v in data["verdicts"]} >= {"post.plateau", "deep.modes"}


def test_a_depth_limit_leaves_the_depth_question_out():
    from dataclasses import dataclass

    @linnet.register("card-two-layers")
    @dataclass(frozen=True)
    class TwoLayers(linnet.FirstOrder):
        lr: float
        max_layers = 2

        def step(self, weights, grads, state, lr):
            return tuple(W - lr * g for W, g in zip(weights, grads)), state

    from linnet.optimizers.registry import unregister

    try:
        card = report_card(TwoLayers(lr=1e-5), held_out=range(1000, 1002), development=range(1), grid=(1e-5,),
                           references=())
    finally:
        unregister("card-two-layers")
    assert ("sensitivity.depth", "card-two-layers handles at most 2 layers") in card.not_asked
    assert all(not t.setting.startswith("depth") for t in card.tuned)


def test_the_references_are_builtins_with_a_tunable_lr_or_none():
    assert all(linnet.parse(r).name in ("gd", "momentum", "adam", "rmsprop", "lm") for r in REFERENCES)


# -- the command ----------------------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["nosuch"], "unknown optimizer 'nosuch'"),
    (["gd", "--seeds", "5-30"], "must not overlap the development seeds 0-19"),
    (["gd", "--seeds", "1000-1001", "--development", "999-1000"], "must not overlap"),
    (["gd", "--grid", "1e-3,x"], "--grid must be numbers"),
    (["gd", "--grid", "0,1e-3"], "--grid rates must be positive"),
    (["gd[lr=-1]"], "lr"),
    (["gd", "--reference", "nosuch"], "unknown optimizer 'nosuch'"),
])
def test_bad_input_is_one_line_and_exit_2(args, message, capsys):
    assert main(["check", *args]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and len(captured.err.strip().splitlines()) == 1 and not captured.out


def test_an_existing_output_is_refused_before_any_run(tmp_path, capsys):
    (tmp_path / "card.html").write_text("mine")
    assert main(["check", "gd", "--out", str(tmp_path)]) == 2
    assert "exists" in capsys.readouterr().err and (tmp_path / "card.html").read_text() == "mine"


def test_the_command_prints_the_card_as_json(capsys):
    argv = ["check", "gd", "--seeds", "1000-1002", "--development", "0-1", "--grid", "1e-5,3.16228e-5", "--json",
            "--reference", "lm", "--reference", "momentum[lr=1e-06,momentum=0.9]"]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["optimizer"] == "gd" and data["development_seeds"] == "0-1" and data["grid"] == [1e-5, 3.16228e-5]
    assert [t["spec"] for t in data["references"]] == ["lm", "momentum[lr=3.16228e-05,momentum=0.9]"]
    post = data["settings"][0]
    direct = [linnet.run(linnet.post_problem(s), post["spec"], 3000).relative_loss for s in (1000, 1001, 1002)]
    assert post["relative_loss"]["estimate"] == pytest.approx(float(np.median(direct)), rel=1e-9)


def test_a_spec_may_leave_lr_out():
    assert optimizer_for_card("adam").spec == "adam[lr=1.0]"
    assert optimizer_for_card("momentum[momentum=0.8]").spec == "momentum[lr=1.0,momentum=0.8]"
    assert optimizer_for_card("lm").spec == "lm"


def _chromium():
    return next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p), None)


@pytest.mark.skipif(_chromium() is None and not os.environ.get("LINNET_REQUIRE_CHROMIUM"),
                    reason="headless Chromium is not installed (CI installs it and sets LINNET_REQUIRE_CHROMIUM=1)")
def test_the_page_renders_in_headless_chromium(gd_card, tmp_path):
    """The page, self-contained, as a real browser renders it: its tables in the DOM, and a screenshot
    that is a picture, not a blank page."""
    from linnet.reports.card import page

    written = page.write(gd_card, tmp_path / "card")
    assert sorted(p.name for p in written) == sorted(page.paths(tmp_path / "card"))
    html = (tmp_path / "card" / "card.html").read_text()
    assert "<script" not in html and "http://" not in html and html.count("data:image/png;base64,") == 4
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
             f"--user-data-dir={tmp_path / 'profile'}"]
    uri = (tmp_path / "card" / "card.html").as_uri()
    dom = subprocess.run([_chromium(), *flags, "--dump-dom", uri], capture_output=True, text=True, timeout=120)
    assert "Report card: <code>gd</code>" in dom.stdout, dom.stderr[-2000:]
    assert dom.stdout.count("<img") == 4 and "post.plateau" in dom.stdout
    shot = tmp_path / "shot.png"
    subprocess.run([_chromium(), *flags, f"--screenshot={shot}", "--window-size=1200,2400", uri],
                   capture_output=True, timeout=120)
    from matplotlib.image import imread

    pixels = imread(shot)
    assert pixels.shape[:2] == (2400, 1200)
    rows = pixels[..., :3].std(axis=(1, 2))
    assert (rows > 0.05).mean() > 0.3  # most of the page is drawn: tables and figures, not white


def test_the_figures_keep_the_style_rules(gd_card):
    from linnet.reports.figures import card as card_figures
    from linnet.reports.figures.style import problems

    figures = card_figures.draw(gd_card)
    assert sorted(figures) == ["profile-seconds", "profile-steps", "settings", "tuning"]
    for name, fig in figures.items():
        assert problems(fig) == [], name


def test_the_readme_shows_the_recorded_card_of_gd():
    """The README's card table is generated from docs/card/card.json, which `linnet check gd --out
    docs/card` wrote with the rest of the folder (benchmarks/test_bench_card.py recomputes it)."""
    from pathlib import Path

    from linnet.reports.card import page
    from linnet.reports.card.card import markdown

    root = Path(__file__).resolve().parent.parent
    folder = root / "docs" / "card"
    assert all(p.exists() for p in page.paths(folder).values())
    data = json.loads((folder / "card.json").read_text())
    assert data["optimizer"] == "gd" and data["held_out_seeds"] == "1000-1099"
    assert markdown(data) in (root / "README.md").read_text()
