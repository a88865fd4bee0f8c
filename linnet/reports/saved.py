"""Reading saved pytest-benchmark JSON files into :class:`SavedRun` values (``linnet compare``'s input).

``pytest benchmarks --benchmark-autosave`` stores them under
``.benchmarks/<machine>/NNNN_<commit>_<date>.json``; ``--benchmark-json=FILE`` writes one anywhere.
A file that is not a pytest-benchmark JSON file is an error naming the file and why.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from linnet.core.errors import LinnetError
from linnet.reports import machines
from linnet.testing.benchmarking import VERDICTS_KEY

DEFAULT_DIR = Path(".benchmarks")
NO_GROUP = "(no group)"


# -- reading --------------------------------------------------------------------------------------

@dataclass
class Benchmark:
    """One benchmark of one run."""

    name: str
    fullname: str
    group: str
    median: float  #: seconds
    figures: dict
    extra_info: dict
    low: float = math.nan  #: fastest round, seconds (stats.min)
    high: float = math.nan  #: slowest round, seconds (stats.max)
    rounds: int = 1


@dataclass
class SavedRun:
    """One pytest-benchmark JSON file."""

    path: Path
    datetime: str
    commit: dict
    machine_info: dict
    benchmarks: dict  #: {fullname: Benchmark}, in file order
    verdicts: list = field(default_factory=list)  #: the claims verdicts saved by linnet.testing.verdicts
    id: str = ""  #: R1, R2, ... in the order shown
    machine_id: str = ""  #: M1, M2, ...

    @property
    def commit_label(self) -> str:
        c = self.commit or {}
        cid = str(c.get("id") or "?")
        cid = cid[:10] if cid != "unversioned" else cid
        return cid + (" (dirty)" if c.get("dirty") else "")


def find_files(paths) -> list[Path]:
    """JSON files named by ``paths`` (folders searched recursively); default .benchmarks/."""
    if not paths:
        if not DEFAULT_DIR.is_dir():
            raise LinnetError(f"no benchmark runs: {DEFAULT_DIR}/ does not exist "
                              "(save runs with: pytest benchmarks --benchmark-autosave)")
        paths = [DEFAULT_DIR]
    files = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(p.rglob("*.json"))
            if not found and len(paths) == 1:
                raise LinnetError(f"no .json files under {p}/")
            files += found
        elif p.exists():
            files.append(p)
        else:
            raise LinnetError(f"{p}: no such file or folder")
    if not files:
        raise LinnetError("no benchmark JSON files found")
    return files


def _foreign(path, why: str) -> LinnetError:
    return LinnetError(f"{path}: not a pytest-benchmark JSON file ({why})")


def read_file(path) -> SavedRun:
    """Read one pytest-benchmark JSON file; LinnetError naming the file and why if it is not one."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise _foreign(path, "not UTF-8 text") from None
    except OSError as err:
        raise LinnetError(f"{path}: cannot read ({err.strerror})") from None
    if not text.strip():
        raise _foreign(path, "empty file")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise _foreign(path, f"invalid JSON: {err.msg} at line {err.lineno} column {err.colno}") from None
    if not isinstance(data, dict):
        raise _foreign(path, f"top level is a JSON {type(data).__name__}, not an object")
    if not isinstance(data.get("benchmarks"), list):
        raise _foreign(path, "no 'benchmarks' list")
    if not isinstance(data.get("machine_info"), dict):
        raise _foreign(path, "no 'machine_info' object")
    benchmarks = {}
    for i, b in enumerate(data["benchmarks"], 1):
        if not isinstance(b, dict) or not isinstance(b.get("name"), str):
            raise _foreign(path, f"benchmark {i} has no name")
        stats = b.get("stats")
        median = stats.get("median") if isinstance(stats, dict) else None
        if isinstance(median, bool) or not isinstance(median, (int, float)) or not math.isfinite(median):
            raise _foreign(path, f"benchmark {b['name']!r} has no numeric stats.median")
        extra = b.get("extra_info") if isinstance(b.get("extra_info"), dict) else {}
        figures = extra.get("figures") if isinstance(extra.get("figures"), dict) else {}
        fullname = b.get("fullname") if isinstance(b.get("fullname"), str) else b["name"]
        benchmarks[fullname] = Benchmark(name=b["name"], fullname=fullname, group=b.get("group") or NO_GROUP,
                                         median=float(median), figures=figures, extra_info=extra,
                                         low=_stat(stats, "min", median), high=_stat(stats, "max", median),
                                         rounds=int(_stat(stats, "rounds", 1)))
    verdicts = data.get(VERDICTS_KEY) if isinstance(data.get(VERDICTS_KEY), list) else []
    return SavedRun(path=path, datetime=str(data.get("datetime") or ""), commit=data.get("commit_info") or {},
                    machine_info=data["machine_info"], benchmarks=benchmarks,
                    verdicts=[v for v in verdicts if isinstance(v, dict) and "key" in v])


def _stat(stats: dict, name: str, default):
    value = stats.get(name)
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else float(default)


def read_files(paths) -> list[SavedRun]:
    """Every run named by ``paths``, oldest first, numbered R1, R2, ... and their machines M1, ..."""
    runs = [read_file(p) for p in find_files(paths)]
    runs.sort(key=lambda r: (r.datetime, str(r.path)))
    seen: dict = {}
    for i, run in enumerate(runs, 1):
        run.id = f"R{i}"
        key = machines.machine_key(run.machine_info)
        run.machine_id = seen.setdefault(key, f"M{len(seen) + 1}")
    return runs
