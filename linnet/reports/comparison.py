"""The comparison behind ``linnet compare``: per benchmark and run, the time against a reference
run, raw and normalised by the machines' calibrations, and the figures that moved.

Ratios. ``raw = median / reference median``. Each run carries a calibration
(:mod:`linnet.testing.calibration`): a dense matmul rate and the cost of one tiny numpy call. Between two
runs they predict how much of a time ratio is the machine: ``blas = ref GFLOP/s / run GFLOP/s``
and ``call = run call cost / ref call cost``. ``normalised = raw / prediction``, with the
prediction of the benchmark's class:

* **class from measurement**: over every run that has it, a benchmark is BLAS-bound when its raw
  ratios follow the matmul prediction more closely than the per-call one (smaller sum of
  ``|log(raw / prediction)|``), overhead-bound otherwise. Where no pair of runs tells the two
  predictions apart (they agree within :data:`UNDECIDED_FACTOR`, e.g. two runs on one machine),
  the class is ``?`` and the normalised ratio uses the per-call prediction (linnet's problems are
  small, so most of its benchmarks are overhead-bound).

Only beyond the calibration's own noise: two calibrations of one idle machine differ by up to
:data:`linnet.testing.calibration.RUN_TO_RUN_SPREAD` (and by their runs' within-run spreads), so
where the prediction is within that factor of 1 the machines cannot be told apart by it and
dividing by it would only add its noise (on one machine it reversed a 1.18x raw ratio into 0.79x).
Such a row has no normalised ratio (``normalised`` None, ``why_raw`` says why) and is judged on
its raw ratio.

Noise (as asv does): a time is flagged ``slower``/``faster`` only when its normalised ratio is
beyond :data:`TIME_FACTOR` and the rounds' ranges [min, max], normalised, do not overlap.

Figures are compared with the regression gate's one rule (:mod:`linnet.testing.tolerance`), under the tolerance
each benchmark declared for the figure (exact where none was declared).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from linnet.core.errors import LinnetError
from linnet.reports import machines
from linnet.testing import tolerance
from linnet.testing.calibration import RUN_TO_RUN_SPREAD

#: a time ratio within this factor of 1 is never flagged (asv's default factor)
TIME_FACTOR = 1.1
#: calibration predictions closer than this factor cannot tell the classes apart
UNDECIDED_FACTOR = 1.2
BLAS, CALL, UNDECIDED = "blas", "call", "?"


@dataclass
class Row:
    group: str
    benchmark: object  #: saved.Benchmark
    run: object  #: saved.SavedRun
    reference: object | None  #: the saved.SavedRun this row is compared with (None: no reference has it)
    ratio: float | None = None  #: raw: median / reference median
    normalised: float | None = None  #: raw / the machine prediction of the benchmark's class
    kind: str = UNDECIDED  #: blas, call or ? (see the module docstring)
    flag: str = ""  #: "slower", "faster" or "" (within noise)
    why_raw: str = ""  #: why no normalised ratio is shown (the calibrations agree within their noise)
    differs: list = field(default_factory=list)  #: [(figure, reference value, value, gate's reason)]


@dataclass
class Group:
    name: str
    rows: list


def predictions(ref_mi: dict, mi: dict) -> dict:
    """{"blas": ratio, "call": ratio}: how much slower ``mi`` should be than ``ref_mi``; {} without
    calibrations."""
    a, b = machines.calibration(ref_mi), machines.calibration(mi)
    if not (a and b):
        return {}
    return {BLAS: a["matmul_gflops"] / b["matmul_gflops"], CALL: b["call_seconds"] / a["call_seconds"]}


def calibration_noise(ref_mi: dict, mi: dict, kind: str) -> float:
    """The factor within which two runs' calibrations of ``kind`` (blas: the matmul rate, call: the
    per-call cost) cannot tell their machines apart: the measured run-to-run spread, or the product
    of the two runs' within-run spreads where that is larger."""
    key = "matmul" if kind == BLAS else "call"
    within = 1.0
    for cal in (machines.calibration(ref_mi), machines.calibration(mi)):
        within *= float(cal.get(f"{key}_spread") or 1.0)
    return max(RUN_TO_RUN_SPREAD["matmul_gflops" if kind == BLAS else "call_seconds"], within)


def classify(pairs: list[tuple[float, dict]]) -> str:
    """The class of a benchmark from its (raw ratio, predictions) over runs (module docstring)."""
    telling = [(r, p) for r, p in pairs if p and r and r > 0
               and abs(math.log(p[BLAS] / p[CALL])) > math.log(UNDECIDED_FACTOR)]
    if not telling:
        return UNDECIDED
    miss = {k: sum(abs(math.log(r / p[k])) for r, p in telling) for k in (BLAS, CALL)}
    return BLAS if miss[BLAS] < miss[CALL] else CALL


def choose_reference(runs: list, ref: str | None) -> list:
    """The reference runs, in order of preference: ``ref`` is R<n>, <n> (1-based), or a substring
    of a run's file path, commit id or machine description, or a machine id M<n>; None means the
    oldest run. A benchmark's reference is the first of these runs that has it."""
    if ref is None or ref == "":
        return runs[:1]
    key = ref[1:] if ref[:1] in "Rr" and ref[1:].isdigit() else ref
    if key.isdigit():
        n = int(key)
        if not 1 <= n <= len(runs):
            raise LinnetError(f"--reference {ref}: there are runs R1 to R{len(runs)}")
        return [runs[n - 1]]
    matched = [r for r in runs if ref in str(r.path) or ref in str(r.commit.get("id") or "")
               or ref in machines.describe_machine(r.machine_info) or ref == r.machine_id]
    if not matched:
        raise LinnetError(f"--reference {ref!r} matches no run's file, commit or machine")
    return matched


def _flag(b, ref_b, normalised: float, prediction: float) -> str:
    if abs(math.log(normalised)) <= math.log(TIME_FACTOR):
        return ""
    lo, hi = b.low / prediction, b.high / prediction
    if lo > ref_b.high:
        return "slower"
    if hi < ref_b.low:
        return "faster"
    return ""


def _tolerance(name: str, *benchmarks) -> tolerance.Tolerance:
    """The tolerance the benchmark declared for figure ``name`` (exact where none was declared)."""
    for b in benchmarks:
        declared = (b.extra_info.get("tolerances") or {}).get(name)
        if isinstance(declared, dict):
            return tolerance.Tolerance.from_dict(declared)
    return tolerance.exact()


def _differs(ref_b, b) -> list:
    out = []
    for name in dict.fromkeys([*ref_b.figures, *b.figures]):
        old, new = ref_b.figures.get(name), b.figures.get(name)
        reason = tolerance.compare(name, old, new, _tolerance(name, b, ref_b))
        if reason:
            out.append((name, old, new, reason))
    return out


def compare(runs: list, reference: list, keywords=()) -> list[Group]:
    """Rows per group: each benchmark (matching any of ``keywords``) in each run that has it."""
    order: dict = {}  # fullname -> first Benchmark seen
    for run in runs:
        for full, b in run.benchmarks.items():
            if keywords and not any(k in b.name or k in full for k in keywords):
                continue
            order.setdefault(full, b)
    groups: dict = {}
    for full, first in order.items():
        ref_run = next((r for r in reference if full in r.benchmarks), None)
        ref_b = ref_run.benchmarks[full] if ref_run else None
        rows = []
        for run in runs:
            b = run.benchmarks.get(full)
            if b is None:
                continue
            row = Row(first.group, b, run, ref_run)
            if ref_b is not None and ref_b.median > 0:
                row.ratio = b.median / ref_b.median
                if run is not ref_run:
                    row.differs = _differs(ref_b, b)
            rows.append(row)
        pairs = [(r.ratio, predictions(ref_run.machine_info, r.run.machine_info)) for r in rows if ref_run]
        kind = classify(pairs)
        for row, (_, pred) in zip(rows, pairs or [(None, {})] * len(rows)):
            row.kind = kind
            if row.ratio is None:
                continue
            used = CALL if kind == UNDECIDED else kind
            p = pred.get(used, 1.0) if pred else 1.0
            noise = calibration_noise(ref_run.machine_info, row.run.machine_info, used) if pred else 1.0
            if pred and abs(math.log(p)) <= math.log(noise) and row.run is not ref_run:
                row.why_raw = f"calibrations within their noise ({noise:.2g}x)"
                p = 1.0
            else:
                row.normalised = row.ratio / p
            if row.run is not ref_run:
                row.flag = _flag(row.benchmark, ref_b, row.ratio / p, p)
        groups.setdefault(first.group, Group(first.group, [])).rows.extend(rows)
    return list(groups.values())


def verdict_table(runs: list) -> list[dict]:
    """[{"number", "label", "key", "name", "verdicts": {run id: verdict}, "numbers": {run id: text},
    "changed": bool}] over the runs that saved claims verdicts (linnet.testing.verdicts), for each claim
    that ran in at least one of them."""
    table: dict = {}
    for run in runs:
        for v in run.verdicts:
            row = table.setdefault(v["key"], {"number": v.get("number") or 0, "key": v["key"],
                                              "label": v.get("label") or str(v.get("number") or "-"),
                                              "name": v.get("name", v["key"]), "verdicts": {}, "numbers": {}})
            row["verdicts"][run.id] = str(v.get("verdict", "?"))
            row["numbers"][run.id] = str(v.get("numbers", ""))
    for row in table.values():
        ran = {v for v in row["verdicts"].values() if v != "not run"}
        row["changed"] = len(ran) > 1  # two runs that ran the claim disagree
        row["ran"] = bool(ran)
    return sorted((r for r in table.values() if r["ran"]), key=lambda r: (r["number"] or 99, r["key"]))


def machine_warnings(runs: list) -> list[str]:
    """One warning naming how the machines differ, when the runs come from more than one."""
    by_id: dict = {}
    for r in runs:
        by_id.setdefault(r.machine_id, r.machine_info)
    if len(by_id) < 2:
        return []
    what = machines.differences(by_id)
    return [f"warning: comparing runs from {len(by_id)} different machines ({', '.join(by_id)}); "
            f"they differ in {'; '.join(what)}. Raw time ratios measure the machines as much as "
            "the code: read the normalised ratios; the figures should agree everywhere."]
