"""Command line: ``python -m linnet run ...`` (and the report commands).

Bad input never produces a traceback: every :class:`linnet.LinnetError` and every argument error
is printed as one line on stderr and the exit status is 2 (DESIGN.md, "Contract").
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from linnet import spec
from linnet.errors import LinnetError
from linnet.problems import FAMILIES, INITS, POST_COND, POST_DIMS, POST_NSAMPLES, make_problem
from linnet.reports import register as register_reports
from linnet.run import BACKENDS, run

EXIT_USAGE = 2

RUN_EXAMPLES = """\
examples:
  python -m linnet run --problem post --seed 5 --optimizer 'gd[lr=1e-5]' --steps 3000 --json
  python -m linnet run --optimizer 'adam[lr=0.01]' --steps 3000
  python -m linnet run --problem conditioned --kappa 1e5 --optimizer lm --steps 100
  python -m linnet run --nsamples 0 --optimizer 'gd[lr=0.01]' --steps 3000   # expected loss
  python -m linnet run --init balanced --optimizer 'gd[lr=1e-5]' --steps 3000
  python -m linnet run --backend tensorflow --optimizer 'adam[lr=0.01]' --steps 3000
"""


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
        "optimizers (spec strings):\n" + spec.describe_all()
    )


def _integer(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    return value


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if math.isnan(value):
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}")
    return value


def add_problem_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that choose a problem, shared by every command that builds one."""
    g = parser.add_argument_group("problem")
    g.add_argument("--problem", choices=FAMILIES, default="post", help="problem family (default: post)")
    g.add_argument("--seed", type=_integer, default=0, help="RandomState seed (default: 0)")
    g.add_argument("--kappa", type=_number, default=None,
                   help="condition number of A, conditioned family only (default: 1e5)")
    g.add_argument("--cond", type=_number, default=None,
                   help=f"the post's last-row scale, post family only (default: {POST_COND:g})")
    g.add_argument("--rank", type=_integer, default=None,
                   help="rank of A, conditioned family only (default: min(xdim, ydim, wdim))")
    for name in ("xdim", "wdim", "ydim"):
        g.add_argument(f"--{name}", type=_integer, default=POST_DIMS[name],
                       help=f"(default: {POST_DIMS[name]})")
    g.add_argument("--nsamples", type=_integer, default=POST_NSAMPLES,
                   help=f"number of samples; 0 = the expected loss ||W1 W2 - A||_F^2 (default: {POST_NSAMPLES})")
    g.add_argument("--init", choices=INITS, default="gaussian", help="initialisation (default: gaussian)")
    g.add_argument("--init-scale", type=_number, default=None,
                   help="scale of the small initialisation, --init small only (default: 1e-2)")
    g.add_argument("--depth", type=_integer, default=None, help="number of layers N (default: 2)")
    g.add_argument("--width", type=_integer, default=None, help="every hidden width (the same as --wdim)")
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
    return make_problem(args.problem, **kwargs)


def _summary(result) -> str:
    p = result.problem
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
    result = run(problem, optimizer, args.steps, backend=args.backend, target=args.target, **options)
    if args.json:
        print(json.dumps(result.to_dict(history=args.history)))
    else:
        print(_summary(result))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m linnet",
        description="Optimizers on deep linear networks: the post's problem, runs, reports.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_problems_help() + "\n\n" + RUN_EXAMPLES,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser(
        "run", help="run one optimizer on one problem",
        description="Run one optimizer on one problem and print the result (JSON with --json).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_problems_help() + "\n\n" + RUN_EXAMPLES,
    )
    add_problem_arguments(p)
    g = p.add_argument_group("run")
    g.add_argument("--optimizer", required=True, metavar="SPEC",
                   help="optimizer spec, e.g. 'gd[lr=1e-05]', 'adam[lr=0.01]', lm")
    g.add_argument("--steps", type=_integer, default=3000, help="most updates to apply (default: 3000)")
    g.add_argument("--target", type=_number, default=None, help="stop at this relative loss")
    g.add_argument("--backend", choices=BACKENDS, default="numpy", help="(default: numpy)")
    g.add_argument("--mode", choices=("per-step", "compiled", "xla"), default=None,
                   help="tensorflow backend: one compiled call per step (the post's), or the "
                        "whole loop in one tf.function (default: compiled)")
    g.add_argument("--dtype", choices=("float64", "float32"), default="float64", help="(default: float64)")
    g.add_argument("--json", action="store_true", help="print one JSON object")
    g.add_argument("--history", action="store_true", help="with --json: include loss and gradient histories")
    p.set_defaults(handler=cmd_run)

    for register_command in EXTRA_COMMANDS:
        register_command(sub)
    return parser


#: functions ``register(subparsers)`` adding further commands (reports register theirs here)
EXTRA_COMMANDS: list = [register_reports]


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except LinnetError as err:
        print(f"linnet: error: {err}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
