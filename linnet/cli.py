"""Command line: ``linnet run ...`` or ``python -m linnet run ...`` (and the report commands).

Bad input never produces a traceback: every :class:`linnet.LinnetError` and every argument error
is printed as one line on stderr and the exit status is 2 (docs/user-guide.md, "Command line").
Ctrl-C is exit status 130 without a traceback; ``run`` on the numpy backend first prints the run so
far (status ``INTERRUPTED``).
Nothing in linnet imports this module; further commands register through :data:`EXTRA_COMMANDS`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import linnet
from linnet.core.arguments import add_progress_options, integer, number, shows_progress
from linnet.core.errors import LinnetError
from linnet.core.validation import BACKENDS
from linnet.optimizers import spec
from linnet.optimizers.help import describe_all
from linnet.optimizers.stopping import INTERRUPTED, MESSAGES
from linnet.problems.families import FAMILIES, POST_COND, POST_DIMS, POST_NSAMPLES, make_problem
from linnet.problems.inits import INITS
from linnet.reports import register as register_reports
from linnet.runs.loop import RunInterrupted, run
from linnet.sweeps.commands import register as register_sweeps

EXIT_USAGE = 2
#: the exit status after Ctrl-C (128 + SIGINT, as a shell reports it)
EXIT_INTERRUPTED = 130
#: a closed pipe on stdout: 128 + SIGPIPE, as a shell reports a writer killed by it
EXIT_BROKEN_PIPE = 141

RUN_EXAMPLES = """\
examples (``linnet`` is the installed command; ``python -m linnet`` is the same):
  linnet run --problem post --seed 5 --optimizer 'gd[lr=1e-5]' --steps 3000 --json
  linnet run --optimizer 'adam[lr=0.01]' --steps 1e6          # progress bar on a terminal
  linnet run --problem conditioned --kappa 1e5 --optimizer lm --steps 100
  linnet run --nsamples 0 --optimizer 'gd[lr=0.01]' --steps 3000   # expected loss
  linnet run --init balanced --optimizer 'gd[lr=1e-5]' --steps 3000
  linnet run --backend tensorflow --optimizer 'adam[lr=0.01]' --steps 3000
"""


def _json_help() -> str:
    codes = "\n".join(f"  {code:>2}  {text}" for code, text in sorted(MESSAGES.items()))
    return (
        "--json output: one flat run record (docs/design.md, \"The run record\"): optimizer, backend, the\n"
        "problem's family, seed, dims, nsamples, kappa, rank, ..., steps, status, message, diverged,\n"
        "divergence_step, initial_loss, final_loss (null when diverged), relative_loss, grad_norm, seconds;\n"
        "with --history also the loss and gradient histories.\n"
        "status (>= 0 is a normal stop) and its message:\n" + codes + "\n"
        "exit status: 0 for any finished run (a diverged run is a result), 2 for bad input (one line on\n"
        "stderr: an unknown optimizer, a negative step, kappa < 1, wdim < rank(A), a non-numeric value),\n"
        f"130 after Ctrl-C (a numpy run prints its record so far, with status {INTERRUPTED})."
    )


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: 'linnet: error: ...', exit status 2, no usage dump."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"linnet: error: {message}\n")


def _problems_help() -> str:
    return (
        "problems:\n"
        "  post          the post's construction: A = linspace(1, 1e-5, ydim)[:, None] * rand(ydim, xdim),\n"
        "                drawn with RandomState(seed) in the order W1, W2, A, X\n"
        "  conditioned   A = U diag(s) V^T, s log-spaced from 1 to 1/kappa, rank(A) <= wdim\n"
        f"initialisations: {', '.join(INITS)}\n"
        "optimizers (spec strings):\n" + describe_all()
    )



def add_problem_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that choose a problem, shared by every command that builds one."""
    g = parser.add_argument_group("problem")
    g.add_argument("--problem", choices=FAMILIES, default="post", help="problem family (default: post)")
    g.add_argument("--seed", type=integer, default=0, help="RandomState seed (default: 0)")
    g.add_argument("--kappa", type=number, default=None,
                   help="condition number of A, conditioned family only (default: 1e5)")
    g.add_argument("--cond", type=number, default=None,
                   help=f"the post's last-row scale, post family only (default: {POST_COND:g})")
    g.add_argument("--rank", type=integer, default=None,
                   help="rank of A, conditioned family only (default: min(xdim, ydim, wdim))")
    for name in ("xdim", "wdim", "ydim"):
        g.add_argument(f"--{name}", type=integer, default=POST_DIMS[name],
                       help=f"(default: {POST_DIMS[name]})")
    g.add_argument("--nsamples", type=integer, default=POST_NSAMPLES,
                   help=f"number of samples; 0 = the expected loss ||W1 W2 - A||_F^2 (default: {POST_NSAMPLES})")
    g.add_argument("--init", choices=INITS, default="gaussian", help="initialisation (default: gaussian)")
    g.add_argument("--init-scale", type=number, default=None,
                   help="scale of the small initialisation, --init small only (default: 1e-2)")
    g.add_argument("--depth", type=integer, default=None, help="number of layers N (default: 2)")
    g.add_argument("--width", type=integer, default=None, help="every hidden width (the same as --wdim)")
    g.add_argument("--widths", default=None, help="hidden widths h1,...,h_{N-1} (sets the depth to N)")


def problem_from_args(args):
    """Build the problem the parsed options describe (LinnetError on a bad combination)."""
    kwargs = dict(seed=args.seed, xdim=args.xdim, wdim=args.wdim if args.width is None else args.width,
                  ydim=args.ydim, nsamples=args.nsamples, init=args.init, depth=args.depth,
                  init_scale=args.init_scale)
    if args.widths is not None:
        if args.width is not None:
            raise LinnetError("give --width (every hidden width) or --widths h1,...,h_{N-1}, not both")
        try:
            kwargs["widths"] = tuple(int(w) for w in args.widths.split(",")) if args.widths.strip() else ()
        except ValueError:
            raise LinnetError(f"--widths must be integers separated by commas, got {args.widths!r}") from None
    if args.seed < 0:
        raise LinnetError(f"--seed must be a non-negative integer, got {args.seed}")
    if args.problem == "post":
        if args.kappa is not None or args.rank is not None:
            raise LinnetError("--kappa and --rank apply to --problem conditioned")
        if args.cond is not None:
            kwargs["cond"] = args.cond
    else:
        if args.cond is not None:
            raise LinnetError("--cond applies to --problem post; use --kappa")
        kwargs["kappa"] = 1e5 if args.kappa is None else args.kappa
        kwargs["rank"] = args.rank
    problem = make_problem(args.problem, **kwargs)
    if problem.wdim < problem.rank:
        raise LinnetError(f"the narrowest hidden width {problem.wdim} is below rank(A) = {problem.rank}: no product "
                          f"of the layers can equal A; use widths >= {problem.rank} (or --problem conditioned "
                          f"--rank <= the narrowest width)")
    return problem


def _summary(result) -> str:
    p = result.problem_info
    lines = [
        f"{result.optimizer} on {p['family']} problem (seed {p['seed']}, {p['ydim']}x{p['wdim']}x{p['xdim']}, "
        f"nsamples {p['nsamples']}, kappa(A) {p['kappa']:.4g}), {result.backend} backend",
        f"  {result.message}",
        f"  steps          {result.steps}",
        f"  initial loss   {result.initial_loss:.6g}",
    ]
    if result.diverged:
        lines.append(f"  diverged at    step {result.divergence_step}")
    else:
        lines += [
            f"  final loss     {result.final_loss:.6g}",
            f"  relative loss  {result.relative_loss:.6g}",
            f"  gradient norm  {result.grad_norm:.6g}",
        ]
    lines.append(f"  seconds        {result.seconds:.4f}")
    return "\n".join(lines)


class _progress:
    """Context manager giving the run loop a tqdm ``callback`` (updates, loss, ETA) on stderr, or None.

    Shown by the rule of every command's bar (:func:`linnet.core.arguments.shows_progress`). The bar
    is refreshed every ``every`` updates, so its cost per step is one integer test.
    """

    def __init__(self, args, total: int, every: int = 256):
        self.bar = None
        if shows_progress(args) and args.backend == "numpy":
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="step", file=sys.stderr, leave=False, dynamic_ncols=True,
                            mininterval=0.2, desc=args.optimizer)
        self.every = every

    def _callback(self, k, weights, loss):
        if k and k % self.every == 0:
            self.bar.update(k - self.bar.n)
            self.bar.set_postfix_str(f"loss {loss:.4g}", refresh=False)
        return False

    def __enter__(self):
        return None if self.bar is None else self._callback

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.refresh()  # the last state shown at least once, however short the run
            self.bar.close()
        return False


def cmd_run(args) -> int:
    problem = problem_from_args(args)
    if args.dtype != "float64":
        problem = problem.astype(args.dtype)
    optimizer = spec.parse(args.optimizer)
    options = {}
    if args.backend == "tensorflow" and args.mode is not None:
        options["mode"] = args.mode
    elif args.mode is not None:
        raise LinnetError("--mode applies to --backend tensorflow")
    if args.history and not args.json:
        raise LinnetError("--history applies to --json (the text summary has no histories)")
    try:
        with _progress(args, args.steps) as callback:
            result = run(problem, optimizer, args.steps, backend=args.backend, target=args.target,
                         callback=callback, **options)
    except RunInterrupted as stop:  # Ctrl-C: print the run so far
        result = stop.result
    if args.json:
        print(json.dumps(result.to_dict(history=args.history)))
    else:
        print(_summary(result))
    return EXIT_INTERRUPTED if result.status == INTERRUPTED else 0


def program_name(argv0: str | None = None) -> str:
    """``linnet`` when run as the installed console script, else ``python -m linnet``."""
    name = os.path.basename(argv0 if argv0 is not None else (sys.argv[0] if sys.argv else ""))
    return "linnet" if name in ("linnet", "linnet.exe") else "python -m linnet"


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    parser = _Parser(
        prog=prog or program_name(),
        description="Optimizers on deep linear networks: the post's problem, runs, reports.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_problems_help() + "\n\n" + RUN_EXAMPLES,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {linnet.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser(
        "run", help="run one optimizer on one problem",
        description="Run one optimizer on one problem and print the result (JSON with --json).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_problems_help() + "\n\n" + _json_help() + "\n\n" + RUN_EXAMPLES,
    )
    add_problem_arguments(p)
    g = p.add_argument_group("run")
    g.add_argument("--optimizer", required=True, metavar="SPEC",
                   help="optimizer spec, e.g. 'gd[lr=1e-05]', 'adam[lr=0.01]', lm")
    g.add_argument("--steps", type=integer, default=3000,
                   help="most updates to apply, e.g. 3000 or 1e6 (default: 3000)")
    g.add_argument("--target", type=number, default=None, help="stop at this relative loss")
    g.add_argument("--backend", choices=BACKENDS, default="numpy", help="(default: numpy)")
    g.add_argument("--mode", choices=("per-step", "compiled", "xla"), default=None,
                   help="tensorflow backend: one compiled call per step (the post's), or the "
                        "whole loop in one tf.function (default: compiled)")
    g.add_argument("--dtype", choices=("float64", "float32"), default="float64", help="(default: float64)")
    g.add_argument("--json", action="store_true", help="print one JSON object")
    g.add_argument("--history", action="store_true", help="with --json: include loss and gradient histories "
                   "(an error without --json)")
    add_progress_options(g, "show a progress bar on stderr (numpy backend)")
    p.set_defaults(handler=cmd_run)

    for register_command in EXTRA_COMMANDS:
        register_command(sub)
    return parser


#: functions ``register(subparsers)`` adding further commands (reports register theirs here)
EXTRA_COMMANDS: list = [register_reports, register_sweeps]


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except LinnetError as err:
        print(f"linnet: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:  # Ctrl-C outside the numpy run loop, which ends its run as INTERRUPTED
        print("linnet: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader went away (``linnet run ... | head``): stop quietly, as cat does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
