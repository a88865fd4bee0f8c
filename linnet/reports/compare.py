"""``linnet compare``: benchmark runs side by side, across commits and machines.

Reading: :mod:`linnet.reports.saved`; machines: :mod:`linnet.reports.machines`; the comparison
(raw and normalised ratios, noise, figures): :mod:`linnet.reports.comparison`; output:
:mod:`linnet.reports.compare_text` (text, Markdown, CSV) and :mod:`linnet.reports.compare_html`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from linnet.core import files
from linnet.core.arguments import add_command
from linnet.core.errors import LinnetError
from linnet.reports import compare_html, compare_text, comparison, saved
from linnet.reports.saved import DEFAULT_DIR

RENDER = {"text": compare_text.render_text, "markdown": compare_text.render_markdown,
          "csv": compare_text.render_csv, "html": compare_html.render_html}
OUTPUTS = tuple(RENDER)


def build(paths=(), reference=None, keywords=()) -> compare_text.Report:
    """Read the runs and compare them (LinnetError on bad input)."""
    loaded = saved.read_files(paths)
    ref_runs = comparison.choose_reference(loaded, reference)
    return compare_text.Report(runs=loaded, reference=ref_runs,
                               groups=comparison.compare(loaded, ref_runs, keywords),
                               verdicts=comparison.verdict_table(loaded),
                               warnings=comparison.machine_warnings(loaded), ref_arg=reference)


def report(paths=(), reference=None, keywords=(), output="text") -> tuple[str, list]:
    """The comparison as text in format ``output``, and the warnings. LinnetError on bad input."""
    if output not in RENDER:
        raise LinnetError(f"unknown output {output!r}; choose one of {', '.join(OUTPUTS)}")
    rep = build(paths, reference, keywords)
    return RENDER[output](rep), rep.warnings


# -- CLI ------------------------------------------------------------------------------------------

EXAMPLES = """\
examples:
  pytest benchmarks --benchmark-autosave             # saves .benchmarks/<machine>/NNNN_<commit>_<date>.json
  python -m linnet compare                           # every run under .benchmarks/
  python -m linnet compare -k gauss-newton --reference R2
  python -m linnet compare a.json b.json --reference 'Xeon' --output markdown
  python -m linnet compare --output csv --out runs.csv
  python -m linnet compare --output html --out runs.html   # one self-contained page

Ratios: raw = median / the reference's median; norm = raw / the machines' calibration ratio
(matmul rate for BLAS-bound benchmarks, per-call cost for overhead-bound ones, the class measured
from how the benchmark's times follow the two across runs). See docs/user-guide.md.
"""


DESCRIPTION = ("Compare pytest-benchmark JSON files: per group, median time and the rounds' range, ratio to a "
               "reference run raw and normalised by the machines' calibration, the figures that differ from the "
               "reference (the regression gate's tolerance), and the claims verdicts of each run. Lists the "
               "machines and names how they differ.")


def cmd_compare(args) -> int:
    if args.out is not None:
        files.check_file(args.out, args.force)  # before reading and comparing the runs
    text, warnings = report(args.paths, reference=args.reference, keywords=args.keyword or (),
                            output=args.output)
    if args.output in ("csv", "html"):
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
    p = add_command(subparsers, "compare", cmd_compare, help="compare pytest-benchmark runs across commits and "
                    "machines", description=DESCRIPTION, epilog=EXAMPLES)
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help=f"JSON files or folders to search (default: {DEFAULT_DIR}/)")
    p.add_argument("--reference", "-r", metavar="REF", default=None,
                   help="reference run: R<n> as listed, or a substring of a file path, commit id or "
                        "machine description (the first matching run with each benchmark); "
                        "default: the oldest run")
    p.add_argument("-k", dest="keyword", action="append", metavar="SUBSTRING",
                   help="only benchmarks whose name contains SUBSTRING (repeat for any of several)")
    p.add_argument("--output", "-o", choices=OUTPUTS, default="text", help="(default: text)")
    p.add_argument("--out", type=Path, default=None, metavar="FILE",
                   help="write the table to FILE (atomically) instead of standard output")
    p.add_argument("--force", action="store_true", help="with --out: overwrite an existing FILE")
