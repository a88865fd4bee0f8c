"""One shape for runs: Member descriptions and Runs (linnet.runs.experiment)."""

import pickle

import pytest

from linnet.claims.post.constants import POST_GN_STEPS
from linnet.claims.post.producers import float32_runs
from linnet.core.errors import LinnetError
from linnet.problems.families import PARAMETERS
from linnet.runs.experiment import MEMBER_KEYS, Member, Runs, member_id
from linnet.sweeps.grid import Grid


def test_member_id_is_the_sweeps_id():
    for member in Grid({"seed": [0, 1], "widths": [[4, 4]]}, ("lm", "gd[lr=1e-05]"), 10).members():
        assert Member(member).id == member["id"] == member_id(member)
    assert Member(seed=0, optimizer="lm", steps=10, target=None).id == "e661a6f6b1e00edd"


def test_member_is_immutable_hashable_and_pickles():
    m = Member(seed=0, widths=[4, 4], optimizer="lm")
    assert m.widths == (4, 4) and m["seed"] == 0 and dict(m) == {"seed": 0, "widths": (4, 4), "optimizer": "lm"}
    assert m == Member(optimizer="lm", widths=(4, 4), seed=0) and len({m, Member(dict(m))}) == 1
    assert m != m.replace(seed=1) and pickle.loads(pickle.dumps(m)) == m
    with pytest.raises(AttributeError):
        m.seed = 1
    with pytest.raises(AttributeError):
        _ = m.depth
    with pytest.raises(LinnetError, match="unknown member parameter 'colour'"):
        Member(colour="red")


def test_runs_select_one_and_by():
    runs = Runs.keyed(("optimizer", "seed"), {"lm": {0: "a", 1: "b"}, "als": {0: "c"}}, family="post")
    assert list(runs.values()) == ["a", "b", "c"]
    assert list(runs.select(seed=0).values()) == ["a", "c"] and not runs.select(depth=3)
    assert runs.one(optimizer="als") == "c" and runs.one(optimizer="lm", seed=1) == "b"
    with pytest.raises(LinnetError, match="2 runs have"):
        runs.one(optimizer="lm")
    with pytest.raises(LinnetError, match="0 runs have"):
        runs.one(seed=5)
    groups = runs.by("optimizer")
    assert list(groups) == ["lm", "als"] and list(groups["lm"].values()) == ["a", "b"]
    with pytest.raises(LinnetError, match="no parameter 'depth'"):
        runs.by("depth")
    with pytest.raises(LinnetError, match="keyed by Member"):
        Runs({"lm": "a"})
    assert list((runs | Runs.keyed("seed", {9: "d"})).values()) == ["a", "b", "c", "d"]


def test_producers_describe_their_runs():
    runs = float32_runs(specs=("lm",))
    assert [dict(m) for m in runs] == [
        {"family": "post", "seed": 0, "dtype": d, "optimizer": "lm", "steps": POST_GN_STEPS}
        for d in ("float64", "float32")]
    assert runs.one(dtype="float32").weights[0].dtype.name == "float32"


def test_a_member_describes_every_grid_parameter():
    assert set(PARAMETERS) | {"optimizer", "steps", "target"} <= set(MEMBER_KEYS)
