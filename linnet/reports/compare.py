"""``python -m linnet compare``: benchmark runs side by side, across commits and machines.

Reads pytest-benchmark JSON files (``pytest benchmarks --benchmark-autosave`` stores them under
``.benchmarks/<machine>/NNNN_<commit>_<date>.json``; ``--benchmark-json=FILE`` writes one
anywhere) and prints, for each benchmark group, one row per benchmark and run: the median time,
its ratio to the reference run, and the machine-independent figures that
:func:`linnet.benchmarking.record` stored in ``extra_info["figures"]`` (relative losses, steps,
divergence, kappa), flagging each figure that differs from the reference run's.

Times depend on the machine; figures should not. So the report first lists the runs and the
machines they come from (pytest-benchmark's ``machine_info``, with the CPU model, cores, BLAS
library and threads and library versions that linnet adds under ``machine_info["linnet"]``) and
warns when it compares runs from different machines or software.

A file that is not a pytest-benchmark JSON file is an error naming the file and why.
"""

from __future__ import annotations

import argparse
import csv
import io as _io
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

from linnet import files
from linnet.arguments import number
from linnet.errors import LinnetError

DEFAULT_DIR = Path(".benchmarks")
OUTPUTS = ("text", "markdown", "csv")
#: figures whose relative difference exceeds this are flagged (exact comparison for non-floats)
DEFAULT_RTOL = 1e-6
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


@dataclass
class Run:
    """One pytest-benchmark JSON file."""

    path: Path
    datetime: str
    commit: dict
    machine_info: dict
    benchmarks: dict  #: {fullname: Benchmark}, in file order
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


def load_run(path) -> Run:
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
                                         median=float(median), figures=figures, extra_info=extra)
    return Run(path=path, datetime=str(data.get("datetime") or ""), commit=data.get("commit_info") or {},
               machine_info=data["machine_info"], benchmarks=benchmarks)


def load_runs(paths) -> list[Run]:
    """Every run named by ``paths``, oldest first, numbered R1, R2, ... and their machines M1, ..."""
    runs = [load_run(p) for p in find_files(paths)]
    runs.sort(key=lambda r: (r.datetime, str(r.path)))
    machines: dict = {}
    for i, run in enumerate(runs, 1):
        run.id = f"R{i}"
        key = machine_key(run.machine_info)
        run.machine_id = machines.setdefault(key, f"M{len(machines) + 1}")
    return runs


# -- machines -------------------------------------------------------------------------------------

def _linnet(mi: dict) -> dict:
    return mi.get("linnet") if isinstance(mi.get("linnet"), dict) else {}


def cpu_model(mi: dict) -> str:
    cpu = mi.get("cpu") if isinstance(mi.get("cpu"), dict) else {}
    return str(_linnet(mi).get("cpu_model") or cpu.get("brand_raw") or mi.get("processor") or "unknown CPU")


def cpu_count(mi: dict):
    cpu = mi.get("cpu") if isinstance(mi.get("cpu"), dict) else {}
    return _linnet(mi).get("cpu_count") or cpu.get("count")


def blas(mi: dict) -> str:
    libs = _linnet(mi).get("blas") or []
    parts = []
    for lib in libs if isinstance(libs, list) else []:
        if isinstance(lib, dict):
            arch = f", {lib['architecture']}" if lib.get("architecture") else ""
            parts.append(f"{lib.get('internal_api', '?')} {lib.get('version', '?')} "
                         f"({lib.get('num_threads', '?')} threads{arch})")
    return "; ".join(parts) or "BLAS unknown"


def software(mi: dict) -> str:
    ln = _linnet(mi)
    python = ln.get("python") or mi.get("python_version") or "?"
    parts = [f"python {python}"]
    for lib in ("numpy", "scipy", "tensorflow"):
        if ln.get(lib):
            parts.append(f"{lib} {ln[lib]}")
    return ", ".join(parts)


def machine_key(mi: dict) -> tuple:
    """What makes two runs' times comparable: host, CPU, cores, BLAS and its threads, versions."""
    return (mi.get("node"), mi.get("machine"), mi.get("system"), cpu_model(mi), cpu_count(mi),
            blas(mi), software(mi))


def describe_machine(mi: dict) -> str:
    cores = cpu_count(mi)
    return (f"{mi.get('node') or '?'}: {cpu_model(mi)}, {cores if cores else '?'} cores, "
            f"{mi.get('machine') or '?'} {mi.get('system') or ''}".rstrip()
            + f"; {blas(mi)}; {software(mi)}")


def machine_warnings(runs: list[Run]) -> list[str]:
    """Warnings for a comparison across machines (or BLAS set-ups or library versions)."""
    by_id = {}
    for r in runs:
        by_id.setdefault(r.machine_id, r.machine_info)
    if len(by_id) < 2:
        return []
    infos = list(by_id.values())
    what = []
    for name, get in (("host", lambda m: m.get("node")), ("CPU", cpu_model), ("cores", cpu_count),
                      ("BLAS", blas), ("software", software)):
        values = {str(get(m)) for m in infos}
        if len(values) > 1:
            what.append(f"{name} ({' / '.join(sorted(values))})")
    return [f"warning: comparing runs from {len(by_id)} different machines ({', '.join(by_id)}); "
            f"they differ in {'; '.join(what)}. Time ratios across machines measure the machines as "
            "much as the code; the figures should agree everywhere."]


# -- the comparison -------------------------------------------------------------------------------

@dataclass
class Row:
    group: str
    benchmark: Benchmark
    run: Run
    ratio: float | None  #: median / reference median (None where the reference lacks it)
    reference: Run | None
    differs: list = field(default_factory=list)  #: figure names that differ from the reference's


@dataclass
class Group:
    name: str
    figure_names: list
    rows: list


def figures_differ(a, b, rtol: float = DEFAULT_RTOL) -> bool:
    """True if two figure values differ: exactly for bools, None, strings; relatively for numbers."""
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a != b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if a == b:
            return False
        if not (math.isfinite(a) and math.isfinite(b)):
            return True
        return abs(a - b) > rtol * max(abs(a), abs(b))
    return a != b


def choose_reference(runs: list[Run], ref: str | None) -> list[Run]:
    """The reference runs, in order of preference: ``ref`` is R<n>, <n> (1-based), or a substring
    of a run's file path, commit id or machine description; None means the oldest run.
    A benchmark's reference is the first of these runs that has it."""
    if ref is None or ref == "":
        return runs[:1]
    key = ref[1:] if ref[:1] in "Rr" and ref[1:].isdigit() else ref
    if key.isdigit():
        n = int(key)
        if not 1 <= n <= len(runs):
            raise LinnetError(f"--reference {ref}: there are runs R1 to R{len(runs)}")
        return [runs[n - 1]]
    matched = [r for r in runs if ref in str(r.path) or ref in str(r.commit.get("id") or "")
               or ref in describe_machine(r.machine_info) or ref == r.machine_id]
    if not matched:
        raise LinnetError(f"--reference {ref!r} matches no run's file, commit or machine")
    return matched


def compare(runs: list[Run], reference: list[Run], keywords=(), rtol: float = DEFAULT_RTOL) -> list[Group]:
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
        group = groups.setdefault(first.group, Group(first.group, [], []))
        for run in runs:
            b = run.benchmarks.get(full)
            if b is None:
                continue
            for name in b.figures:
                if name not in group.figure_names:
                    group.figure_names.append(name)
            ratio = b.median / ref_b.median if ref_b is not None and ref_b.median > 0 else None
            differs = []
            if ref_b is not None and run is not ref_run:
                names = list(dict.fromkeys([*ref_b.figures, *b.figures]))
                differs = [n for n in names if figures_differ(b.figures.get(n), ref_b.figures.get(n), rtol)]
            group.rows.append(Row(first.group, b, run, ratio, ref_run, differs))
    return list(groups.values())


# -- rendering ------------------------------------------------------------------------------------

def _unit(seconds: list[float]):
    smallest = min((s for s in seconds if s > 0), default=1.0)
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if smallest >= scale:
            return unit, scale
    return "ns", 1e-9


def _fig(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _ratio(r: Row) -> str:
    if r.ratio is None:
        return "-"
    return "ref" if r.run is r.reference else f"{r.ratio:.2f}x"


def _header_lines(runs: list[Run], reference: list[Run], ref_arg) -> tuple[list, list]:
    run_lines = [f"{r.id}  {r.path}  commit {r.commit_label}  {r.datetime[:19].replace('T', ' ')}  "
                 f"on {r.machine_id}" for r in runs]
    machines = {}
    for r in runs:
        machines.setdefault(r.machine_id, describe_machine(r.machine_info))
    machine_lines = [f"{m}  {d}" for m, d in machines.items()]
    return run_lines, machine_lines


def _reference_line(reference: list[Run], ref_arg) -> str:
    if ref_arg is None:
        return f"reference: {reference[0].id} (the oldest run; choose with --reference)"
    extra = f"; for benchmarks it lacks, the next of {', '.join(r.id for r in reference[1:])}" \
        if len(reference) > 1 else ""
    return f"reference: {reference[0].id} (matches {ref_arg!r}{extra})"


def _table_rows(group: Group, scale: float, mark) -> list[list[str]]:
    rows, last = [], None
    for r in group.rows:
        cells = [r.benchmark.name if r.benchmark.fullname != last else "", r.run.id,
                 f"{r.benchmark.median / scale:.4g}", _ratio(r)]
        for n in group.figure_names:
            text = _fig(r.benchmark.figures.get(n))
            cells.append(mark(text) if n in r.differs else text)
        rows.append(cells)
        last = r.benchmark.fullname
    return rows


def render_text(groups, runs, reference, warnings, ref_arg=None, rtol=DEFAULT_RTOL) -> str:
    run_lines, machine_lines = _header_lines(runs, reference, ref_arg)
    out = ["runs:"] + ["  " + s for s in run_lines] + ["machines:"] + ["  " + s for s in machine_lines]
    out += warnings + [_reference_line(reference, ref_arg), ""]
    if not groups:
        out.append("no benchmarks match")
    for g in groups:
        unit, scale = _unit([r.benchmark.median for r in g.rows])
        head = ["benchmark", "run", f"median ({unit})", "ratio", *g.figure_names]
        body = _table_rows(g, scale, lambda t: t + " *")
        widths = [max(len(str(c)) for c in col) for col in zip(head, *body)]
        nbench = len({r.benchmark.fullname for r in g.rows})
        out.append(f"group {g.name}: {nbench} benchmark{'s' * (nbench != 1)}")
        numeric = {2, 3}
        for row in [head, *body]:
            out.append("  ".join(c.rjust(w) if i in numeric or i >= 4 else c.ljust(w)
                                 for i, (c, w) in enumerate(zip(row, widths))).rstrip())
        flagged = sorted({(r.run.id, n) for r in g.rows for n in r.differs})
        if flagged:
            out.append(f"  * differs from the reference run (relative tolerance {rtol:g}): "
                       + ", ".join(f"{n} in {rid}" for rid, n in flagged))
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(groups, runs, reference, warnings, ref_arg=None, rtol=DEFAULT_RTOL) -> str:
    run_lines, machine_lines = _header_lines(runs, reference, ref_arg)
    out = ["## Benchmark runs", "", "| run | file | commit | date | machine |", "|---|---|---|---|---|"]
    for r in runs:
        out.append(f"| {r.id} | `{r.path}` | {r.commit_label} | {r.datetime[:19].replace('T', ' ')} "
                   f"| {r.machine_id} |")
    out += ["", "| machine | description |", "|---|---|"]
    out += [f"| {_md_escape(line.split('  ', 1)[0])} | {_md_escape(line.split('  ', 1)[1])} |"
            for line in machine_lines]
    out.append("")
    out += [f"> **{w}**" for w in warnings]
    out += ["", _reference_line(reference, ref_arg) + ".", ""]
    if not groups:
        out.append("No benchmarks match.")
    for g in groups:
        unit, scale = _unit([r.benchmark.median for r in g.rows])
        head = ["benchmark", "run", f"median ({unit})", "ratio", *g.figure_names]
        out += [f"### {_md_escape(g.name)}", "", "| " + " | ".join(map(_md_escape, head)) + " |",
                "|" + "---|" * 2 + "---:|" * (len(head) - 2)]
        for row in _table_rows(g, scale, lambda t: f"**{t}** ⚠"):
            row[0] = f"`{row[0]}`" if row[0] else ""
            out.append("| " + " | ".join(_md_escape(c) if i else c for i, c in enumerate(row)) + " |")
        if any(r.differs for r in g.rows):
            out += ["", f"⚠ **bold**: differs from the reference run (relative tolerance {rtol:g})."]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def render_csv(groups, runs, reference, warnings, ref_arg=None, rtol=DEFAULT_RTOL) -> str:
    names = list(dict.fromkeys(n for g in groups for n in g.figure_names))
    buf = _io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["group", "benchmark", "fullname", "run", "file", "commit", "machine", "machine_description",
                "median_s", "reference", "ratio", "differs", *names])
    for g in groups:
        for r in g.rows:
            w.writerow([g.name, r.benchmark.name, r.benchmark.fullname, r.run.id, str(r.run.path),
                        r.run.commit.get("id", ""), r.run.machine_id, describe_machine(r.run.machine_info),
                        repr(r.benchmark.median), r.reference.id if r.reference else "",
                        "" if r.ratio is None else repr(r.ratio), ";".join(r.differs),
                        *["" if r.benchmark.figures.get(n) is None else r.benchmark.figures.get(n)
                          for n in names]])
    return buf.getvalue()


RENDER = {"text": render_text, "markdown": render_markdown, "csv": render_csv}


def report(paths=(), reference=None, keywords=(), output="text", rtol=DEFAULT_RTOL) -> tuple[str, list]:
    """The comparison as text in format ``output``, and the warnings. LinnetError on bad input."""
    if output not in RENDER:
        raise LinnetError(f"unknown output {output!r}; choose one of {', '.join(OUTPUTS)}")
    if not (isinstance(rtol, (int, float)) and math.isfinite(rtol) and rtol >= 0):
        raise LinnetError(f"--rtol must be a non-negative number, got {rtol!r}")
    runs = load_runs(paths)
    ref_runs = choose_reference(runs, reference)
    groups = compare(runs, ref_runs, keywords, rtol)
    warnings = machine_warnings(runs)
    return RENDER[output](groups, runs, ref_runs, warnings, reference, rtol), warnings


# -- CLI ------------------------------------------------------------------------------------------

EXAMPLES = """\
examples:
  pytest benchmarks --benchmark-autosave             # saves .benchmarks/<machine>/NNNN_<commit>_<date>.json
  python -m linnet compare                           # every run under .benchmarks/
  python -m linnet compare -k gauss-newton --reference R2
  python -m linnet compare a.json b.json --reference 'Xeon' --output markdown
  python -m linnet compare --output csv --out runs.csv
"""


def cmd_compare(args) -> int:
    text, warnings = report(args.paths, reference=args.reference, keywords=args.keyword or (),
                            output=args.output, rtol=args.rtol)
    if args.output == "csv":
        for w in warnings:
            print(w, file=sys.stderr)
    if args.out is not None:
        files.write_text(args.out, text, force=args.force)
        print(args.out)
    else:
        sys.stdout.write(text)
    return 0


def register(subparsers) -> None:
    """Add the ``compare`` command (called from linnet.cli.EXTRA_COMMANDS)."""
    p = subparsers.add_parser(
        "compare", help="compare pytest-benchmark runs across commits and machines",
        description="Compare pytest-benchmark JSON files: per group, median time, ratio to a "
                    "reference run, and the machine-independent figures side by side (flagged "
                    "where they differ from the reference). Lists the machines the runs come from "
                    "and warns when they differ.",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EXAMPLES,
    )
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help=f"JSON files or folders to search (default: {DEFAULT_DIR}/)")
    p.add_argument("--reference", "-r", metavar="REF", default=None,
                   help="reference run: R<n> as listed, or a substring of a file path, commit id or "
                        "machine description (the first matching run with each benchmark); "
                        "default: the oldest run")
    p.add_argument("-k", dest="keyword", action="append", metavar="SUBSTRING",
                   help="only benchmarks whose name contains SUBSTRING (repeat for any of several)")
    p.add_argument("--output", "-o", choices=OUTPUTS, default="text", help="(default: text)")
    p.add_argument("--rtol", type=number, default=DEFAULT_RTOL,
                   help=f"relative tolerance for flagging figures (default: {DEFAULT_RTOL:g})")
    p.add_argument("--out", type=Path, default=None, metavar="FILE",
                   help="write the table to FILE (atomically) instead of standard output")
    p.add_argument("--force", action="store_true", help="with --out: overwrite an existing FILE")
    p.set_defaults(handler=cmd_compare)
