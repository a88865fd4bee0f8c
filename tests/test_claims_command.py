"""``linnet claims``: the registry listing, JSON verdicts, seed ranges, bad input as one error line
with exit 2, the process pool equal to in-process, --check against the recorded verdicts, and the
claims table generated from the recorded file."""

import json
import subprocess
import sys

import pytest

from linnet.claims.registry import REGISTRY
from linnet.claims.verified import recorded
from linnet.cli import main
from linnet.reports import claims as command

CHEAP = ("post.kappa", "deep.width")


def _json(capsys, *argv):
    assert main(["claims", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_verdicts_have_the_documented_fields(capsys):
    out = _json(capsys, "--claim", "post.kappa", "--claim", "deep.width", "--seeds", "0-19")
    assert [v["id"] for v in out] == list(CHEAP)
    for v in out:
        assert v["verdict"] in ("holds", "does not hold", "inconclusive")
        assert len(v["interval"]) == 2 and v["interval"][0] <= v["estimate"] <= v["interval"][1]
        assert v["seeds"] == 20 and v["seed_range"] == "0-19" and v["statement"] and v["threshold"]
    # 20 clean seeds cannot show a failure rate below 5% (bound 0.139): inconclusive, not "holds"
    assert out[0]["verdict"] == "inconclusive" and out[0]["interval"][1] == pytest.approx(0.1391, abs=1e-4)


def test_default_seeds_are_each_claims_held_out_block(capsys):
    out = _json(capsys, "--claim", "post.kappa")
    assert out[0]["seed_range"] == "1000-1099" and out[0]["verdict"] == "holds"


def test_process_pool_gives_the_in_process_verdict(capsys):
    single = _json(capsys, "--claim", "deep.width", "--seeds", "0-11")
    pooled = _json(capsys, "--claim", "deep.width", "--seeds", "0-11", "--processes", "--workers", "2")
    assert single == pooled


def test_list_names_every_claim(capsys):
    assert main(["claims", "--list"]) == 0
    out = capsys.readouterr().out
    assert all(e.id in out and e.source.split(":")[0][:20] in out for e in REGISTRY)


@pytest.mark.parametrize(("argv", "message"), [
    (["--claim", "no.such"], "unknown claim 'no.such'"),
    (["--seeds", "9-3"], "the range is empty"),
    (["--seeds", "a-b"], "--seeds must be A-B"),
    (["--seeds", "-5"], "--seeds must be A-B"),
])
def test_bad_input_is_one_error_line_and_exit_2(argv, message, capsys):
    assert main(["claims", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_bad_input_from_the_shell_has_no_traceback():
    proc = subprocess.run([sys.executable, "-m", "linnet", "claims", "--claim", "no.such"], capture_output=True,
                          text=True)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_out_writes_the_json_list_and_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "v.json"
    assert main(["claims", "--claim", "post.kappa", "--seeds", "0-4", "--out", str(out), "--rows"]) == 0
    saved = json.loads(out.read_text())
    assert saved[0]["id"] == "post.kappa" and len(saved[0]["rows"]) == 5
    capsys.readouterr()
    assert main(["claims", "--claim", "post.kappa", "--seeds", "0-4", "--out", str(out)]) == 2


def test_check_fails_on_a_verdict_opposite_to_the_recorded_one(monkeypatch, capsys):
    """The negative control of CI's held-out step: a recorded "does not hold" against today's "holds"."""
    fake = {"post.kappa": {"held_out": {**recorded()["post.kappa"]["held_out"], "verdict": "does not hold"}}}
    monkeypatch.setattr(command, "recorded", lambda: fake)
    assert main(["claims", "--claim", "post.kappa", "--check"]) == command.EXIT_CONTRADICTED
    assert "does not hold recorded" in capsys.readouterr().err
    assert main(["claims", "--claim", "post.kappa", "--seeds", "0-19", "--check"]) == 0  # inconclusive: a warning


def test_every_claim_has_recorded_development_and_held_out_verdicts():
    rec = recorded()
    for e in REGISTRY:
        assert set(rec[e.id]) == {"development", "held_out"}, e.id
        assert rec[e.id]["development"]["seed_range"] == "0-19"
        assert rec[e.id]["held_out"]["seeds"] == e.population.held_out
        assert rec[e.id]["held_out"]["statement"] == e.population.statement, f"{e.id}: record again"


def test_recorded_cheap_claims_reproduce():
    """What the recorded file says is what the code computes (the cheap claims, both blocks)."""
    for claim_id in CHEAP:
        for block, seeds in (("development", "0-19"), ("held_out", None)):
            v = command.verify_all([next(e for e in REGISTRY if e.id == claim_id)],
                                   command.parse_seeds(seeds) if seeds else None)[0].to_dict()
            rec = recorded()[claim_id][block]
            assert v["verdict"] == rec["verdict"] and v["estimate"] == pytest.approx(rec["estimate"], rel=1e-9)


def test_the_readme_and_docs_show_the_generated_table():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    table = command.table()
    for doc in ("README.md", "docs/claims.md"):
        assert table in (root / doc).read_text(), f"{doc}: paste linnet.reports.claims.table() again"


def test_the_readmes_claims_command_runs_and_prints_a_verdict_per_claim(capsys):
    import re
    import shlex
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    lines = re.findall(r"^    python -m linnet (claims .*)$", readme, flags=re.M)
    assert lines
    for line in lines:
        argv = shlex.split(line)
        assert main(argv) == 0
        out = capsys.readouterr().out.splitlines()
        assert len(out) == argv.count("--claim") and all(
            re.search(r"(holds|does not hold|inconclusive) .*\[.*\].* on \d+ seeds", o) for o in out), out
