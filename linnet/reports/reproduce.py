"""``linnet reproduce``: the post's figure, reproduced and corrected, with the numbers.

:func:`linnet.reports.reproduction.compute` makes the runs; :func:`write_report` draws the figures
(the post and corrected families, :mod:`linnet.reports.figures.post` and
:mod:`linnet.reports.figures.corrected`, the modules ``linnet figures`` draws with) and writes
them, ``summary.json`` and ``summary.md`` (:mod:`linnet.reports.summary`) into a folder, each file
atomically and none over an earlier file without ``force``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from linnet.claims.post.constants import POST_STEPS
from linnet.core import files
from linnet.core.arguments import add_command, add_progress_options, integer, shows_progress
from linnet.core.errors import LinnetError
from linnet.core.validation import BACKENDS
from linnet.reports.figures import corrected as corrected_figures
from linnet.reports.figures import post as post_figures
from linnet.reports.figures.style import save
from linnet.reports.reproduction import LONG_MAX_STEPS, Reproduction, compute
from linnet.reports.summary import summarize, summary_markdown

FORMATS = ("png", "svg", "pdf")

#: the figures a report writes (they take the chosen format's suffix): {name: what it shows}
FIGURES = {**post_figures.FIGURES, **corrected_figures.FIGURES}
SUMMARY_FILES = ("summary.json", "summary.md")


# -- writing --------------------------------------------------------------------------------------

def output_paths(out: Path, fmt: str) -> dict:
    """{name: path} of every file a report writes into ``out``."""
    paths = {name: out / f"{name}.{fmt}" for name in FIGURES}
    paths.update({name: out / name for name in SUMMARY_FILES})
    return paths


def write_report(rep: Reproduction, out, fmt: str = "png", force: bool = False) -> dict:
    """Draw every figure and write figures, summary.json and summary.md into ``out``.

    Returns {name: path}. Refuses (LinnetError) before writing anything if a file exists and
    ``force`` is false.
    """
    if fmt not in FORMATS:
        raise LinnetError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    out = Path(out)
    paths = output_paths(out, fmt)
    files.check_writable(paths.values(), force)
    files.make_folder(out)
    for family in (post_figures, corrected_figures):
        for name, fig in family.draw(rep).items():
            save(fig, paths[name], force=force)
    summary = summarize(rep, files={name: paths[name].name for name in paths})
    files.write_text(paths["summary.json"], json.dumps(summary, indent=2, allow_nan=False) + "\n", force=force)
    files.write_text(paths["summary.md"], summary_markdown(summary), force=force)
    return paths


def reproduce(out, seed: int = 0, backend: str = "numpy", fmt: str = "png", steps: int = POST_STEPS,
              force: bool = False, long_max_steps: int = LONG_MAX_STEPS, faithful_lm: bool = True,
              progress: bool | None = None) -> dict:
    """Run everything and write the report into ``out``; returns {name: path}."""
    if fmt not in FORMATS:
        raise LinnetError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    # refuse before the runs: a file where the folder goes, a folder that cannot be made, a file that exists
    files.check_folder(out)
    files.check_writable(output_paths(Path(out), fmt).values(), force)
    rep = compute(seed, backend, steps, long_max_steps=long_max_steps, faithful_lm=faithful_lm,
                  progress=progress)
    return write_report(rep, out, fmt, force)


# -- CLI ------------------------------------------------------------------------------------------

EXAMPLES = """\
examples:
  python -m linnet reproduce --out figures
  python -m linnet reproduce --out docs/figures --force          # the README's figures
  python -m linnet reproduce --out out --seed 3 --format svg
  python -m linnet reproduce --out out --backend tensorflow      # the post's runs in TensorFlow
"""


DESCRIPTION = ("Run the post's experiment and what it leaves out; write its figure as the post drew it, the "
               "corrected figure, four more figures, summary.json and summary.md into a folder. Files are "
               "written atomically and an existing file is never replaced without --force.")


def cmd_reproduce(args) -> int:
    t = time.perf_counter()
    paths = reproduce(args.out, seed=args.seed, backend=args.backend, fmt=args.format, steps=args.steps,
                      force=args.force, long_max_steps=args.long_steps, faithful_lm=args.faithful_lm,
                      progress=shows_progress(args))
    for path in paths.values():
        print(path)
    print(f"wrote {len(paths)} files in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    return 0


def register(subparsers) -> None:
    """Add the ``reproduce`` command (called from linnet.cli.EXTRA_COMMANDS)."""
    figures = "figures:\n" + "\n".join(f"  {k:<20} {v}" for k, v in FIGURES.items())
    p = add_command(subparsers, "reproduce", cmd_reproduce, description=DESCRIPTION, epilog=f"{figures}\n\n{EXAMPLES}",
                    help="the post's figure, reproduced and corrected, with summary.json")
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="folder to write into")
    p.add_argument("--seed", type=integer, default=0, help="RandomState seed of the post's problem (default: 0)")
    p.add_argument("--backend", choices=BACKENDS, default="numpy",
                   help="backend of the post's 8 first-order runs; the rest run on numpy (default: numpy)")
    p.add_argument("--format", choices=FORMATS, default="png", help="figure format (default: png)")
    p.add_argument("--steps", type=integer, default=POST_STEPS,
                   help=f"first-order steps, as the post's budget (default: {POST_STEPS})")
    p.add_argument("--long-steps", type=integer, default=LONG_MAX_STEPS,
                   help=f"most steps of the long GD run (default: {LONG_MAX_STEPS})")
    p.add_argument("--fast-lm", dest="faithful_lm", action="store_false",
                   help="solve the post's LM with the structured Jacobian (fast, but without the floor "
                        "that the post's Kronecker lstsq produces)")
    p.add_argument("--force", action="store_true", help="overwrite existing files")
    add_progress_options(p, "a progress bar on stderr (stages weighted by their measured cost)")
