"""``linnet compare`` as text (80-100 columns), Markdown and CSV.

Each renderer takes a :class:`Report`: the runs, the reference, the groups of
:func:`linnet.reports.comparison.compare`, the claims verdicts per run and the machine warnings.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from linnet.core.text import g
from linnet.reports import machines

SAVE_ANOTHER = ("only one run: ratios need two. Save another with `pytest benchmarks "
                "--benchmark-autosave` (or --benchmark-json=FILE) and run `linnet compare` again.")
CLASS_NOTE = ("norm = raw ratio / the machines' calibration ratio for the benchmark's class: blas "
              "(matmul rate), call (per-call cost), ? (the runs' calibrations cannot tell; per-call); "
              "'-' where the calibrations agree within their run-to-run noise (the raw ratio is the comparison). "
              "slower/faster: beyond 1.1x and the rounds' [min, max] ranges apart.")


@dataclass
class Report:
    runs: list
    reference: list
    groups: list
    verdicts: list
    warnings: list
    ref_arg: str | None = None


def unit(seconds) -> tuple[str, float]:
    smallest = min((s for s in seconds if s > 0), default=1.0)
    for name, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if smallest >= scale:
            return name, scale
    return "ns", 1e-9


def ratio_text(row, value) -> str:
    if row.run is row.reference:
        return "ref"
    return "-" if value is None else f"{value:.2f}x"


def run_lines(rep: Report) -> list[str]:
    return [f"{r.id}  {r.commit_label:<12} {r.datetime[:16].replace('T', ' ')}  {r.machine_id}  {r.path}"
            for r in rep.runs]


def machine_lines(rep: Report) -> list[str]:
    seen: dict = {}
    for r in rep.runs:
        seen.setdefault(r.machine_id, machines.describe_machine(r.machine_info))
    return [f"{m}  {d}" for m, d in seen.items()]


def reference_line(rep: Report) -> str:
    if rep.ref_arg is None:
        return f"reference: {rep.reference[0].id} (the oldest run; choose with --reference)"
    extra = (f"; for benchmarks it lacks, the next of {', '.join(r.id for r in rep.reference[1:])}"
             if len(rep.reference) > 1 else "")
    return f"reference: {rep.reference[0].id} (matches {rep.ref_arg!r}{extra})"


def _wrap(text: str, width: int = 98, indent: str = "  ") -> list[str]:
    import textwrap

    return textwrap.wrap(text, width, subsequent_indent=indent, break_on_hyphens=False,
                         break_long_words=False)


def render_text(rep: Report) -> str:
    out = ["runs:"] + ["  " + s for s in run_lines(rep)] + ["machines:"]
    for line in machine_lines(rep):
        out += _wrap("  " + line, indent="      ")
    for w in rep.warnings:
        out += _wrap(w)
    out.append(reference_line(rep))
    if len(rep.runs) == 1:
        out += _wrap(SAVE_ANOTHER)
    out.append("")
    if rep.verdicts:
        ids = [r.id for r in rep.runs if r.verdicts]
        out.append(("claims verdicts:" + "".join(f"  {i:<13}" for i in ids)).rstrip())
        for v in rep.verdicts:
            cells = "".join(f"  {v['verdicts'].get(i, '-'):<13}" for i in ids)
            out.append(f"{v['label']:>3} {v['key']:<14}{cells}{'  changed' if v['changed'] else ''}"
                       .rstrip())
        out.append("")
    if not rep.groups:
        out.append("no benchmarks match")
    for grp in rep.groups:
        name, scale = unit([r.benchmark.median for r in grp.rows])
        n = len({r.benchmark.fullname for r in grp.rows})
        out.append(f"group {grp.name}: {n} benchmark{'s' * (n != 1)}; median and [min, max] of the "
                   f"rounds in {name}")
        out.append(f"      {'run':<4}{'median':>10}  {'[min, max]':<21}{'raw':>8}{'norm':>8}  class")
        last = None
        for r in grp.rows:
            b = r.benchmark
            if b.fullname != last:
                out.append("  " + b.name)
                last = b.fullname
            spread = f"[{b.low / scale:.4g}, {b.high / scale:.4g}]"
            out.append(f"      {r.run.id:<4}{b.median / scale:>10.4g}  {spread:<21}{ratio_text(r, r.ratio):>8}"
                       f"{ratio_text(r, r.normalised):>8}  {r.kind:<5} {r.flag}".rstrip())
            for fig, old, new, _ in r.differs:
                out += _wrap(f"        * {fig}: {g(old, 6)} in {r.reference.id}, {g(new, 6)} here", indent=" " * 10)
        out.append("")
    if rep.groups:
        out += _wrap(CLASS_NOTE, indent="")
        if any(r.differs for grp in rep.groups for r in grp.rows):
            out.append("* a figure that differs from the reference run's (the regression gate's tolerance)")
    return "\n".join(out).rstrip() + "\n"


def _md(text: str) -> str:
    return str(text).replace("|", "\\|")


def render_markdown(rep: Report) -> str:
    out = ["## Benchmark runs", "", "| run | file | commit | date | machine |", "|---|---|---|---|---|"]
    for r in rep.runs:
        out.append(f"| {r.id} | `{r.path}` | {r.commit_label} | {r.datetime[:19].replace('T', ' ')} "
                   f"| {r.machine_id} |")
    out += ["", "| machine | description |", "|---|---|"]
    out += [f"| {_md(line.split('  ', 1)[0])} | {_md(line.split('  ', 1)[1])} |" for line in machine_lines(rep)]
    out += [""] + [f"> **{w}**" for w in rep.warnings]
    out += ["", reference_line(rep) + ".", ""]
    if len(rep.runs) == 1:
        out += [SAVE_ANOTHER, ""]
    if rep.verdicts:
        ids = [r.id for r in rep.runs if r.verdicts]
        out += ["### Claims verdicts", "", "| claim | " + " | ".join(ids) + " |", "|---|" + "---|" * len(ids)]
        for v in rep.verdicts:
            cells = [v["verdicts"].get(i, "-") for i in ids]
            out.append(f"| {v['label']} {_md(v['name'])} | " + " | ".join(
                f"**{c}**" if v["changed"] else c for c in cells) + " |")
        out.append("")
    if not rep.groups:
        out.append("No benchmarks match.")
    for grp in rep.groups:
        name, scale = unit([r.benchmark.median for r in grp.rows])
        out += [f"### {_md(grp.name)}", "", f"| benchmark | run | median ({name}) | [min, max] | raw | norm "
                "| class | figures that differ |", "|---|---|---:|---:|---:|---:|---|---|"]
        last = None
        for r in grp.rows:
            b = r.benchmark
            label = f"`{_md(b.name)}`" if b.fullname != last else ""
            last = b.fullname
            differs = "; ".join(f"**{_md(f)}** {g(o, 6)} → {g(n, 6)}" for f, o, n, _ in r.differs)
            out.append(f"| {label} | {r.run.id} | {b.median / scale:.4g} | [{b.low / scale:.4g}, "
                       f"{b.high / scale:.4g}] | {ratio_text(r, r.ratio)} | {ratio_text(r, r.normalised)} "
                       f"{'⚠ ' + r.flag if r.flag else ''}| {r.kind} | {differs} |")
        out.append("")
    if rep.groups:
        out += [CLASS_NOTE, ""]
    return "\n".join(out).rstrip() + "\n"


def render_csv(rep: Report) -> str:
    names = list(dict.fromkeys(n for grp in rep.groups for r in grp.rows for n in r.benchmark.figures))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["group", "benchmark", "fullname", "run", "file", "commit", "machine", "machine_description",
                "median_s", "min_s", "max_s", "reference", "ratio", "normalised_ratio", "not_normalised_because",
                "class", "flag", "differs", *names])
    for grp in rep.groups:
        for r in grp.rows:
            b = r.benchmark
            w.writerow([grp.name, b.name, b.fullname, r.run.id, str(r.run.path), r.run.commit.get("id", ""),
                        r.run.machine_id, machines.describe_machine(r.run.machine_info), repr(b.median),
                        repr(b.low), repr(b.high), r.reference.id if r.reference else "",
                        "" if r.ratio is None else repr(r.ratio),
                        "" if r.normalised is None else repr(r.normalised), r.why_raw, r.kind, r.flag,
                        ";".join(d[0] for d in r.differs),
                        *["" if b.figures.get(n) is None else b.figures.get(n) for n in names]])
    return buf.getvalue()
