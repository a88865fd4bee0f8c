"""The leaderboard as a table: for a terminal (:func:`text`) and as Markdown (:func:`markdown`, the
README's table), both from the leaderboard's JSON (:meth:`linnet.reports.leaderboard.board.Leaderboard.to_dict`).

One line per optimizer, best first: how its runs are batched, its tuned ``lr`` (the range over the
settings), per target the pooled median steps with its 95% interval ("never": the median run did
not reach it) and how many of the runs reached it, and the fraction of problems on which it is
the cheapest to relative 1e-6 in steps and in seconds (rho(1) of the performance profile).

    >>> steps_text(12.0), steps_text(1234.5), steps_text(None), target_text(1e-6)
    ('12', '1,234.5', 'never', '1e-6')
"""

from __future__ import annotations

import math

from linnet.core.text import g


def target_text(target: float) -> str:
    """A relative loss as the tables write it: ``1e-6``, ``1e-12``."""
    return f"{target:.0e}".replace("e-0", "e-")


def head(data: dict) -> list[str]:
    """The table's column names."""
    return ["#", "optimizer", "runs", "lr (tuned per setting)",
            *(x for t in data["targets"] for x in (f"steps to {target_text(t)}: median [95%]", "reached")),
            "cheapest in steps", "cheapest in seconds"]


def steps_text(x) -> str:
    """A number of steps: ``12``, ``1,234.5``; ``never`` for None or +inf (not reached)."""
    if x is None or (isinstance(x, float) and math.isinf(x)):
        return "never"
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"


def _median(cell: dict) -> str:
    if cell["median"] is None:
        return "never"
    low, high = cell["interval"]
    return f"{steps_text(cell['median'])} [{steps_text(low)}, {steps_text(high)}]"


def _lr(entry: dict) -> str:
    if not entry["tuned"]:
        return "— (none to tune)"
    rates = sorted({s["lr"] for s in entry["settings"] if s.get("lr") is not None})
    if not rates:
        return "—"
    return g(rates[0]) if len(rates) == 1 else f"{g(rates[0])} .. {g(rates[-1])}"


def _runs(entry: dict) -> str:
    return "batched" if entry["capabilities"]["batchable"] else "one by one"


def _share(cell: dict) -> str:
    return f"{cell['best']['estimate']:.0%}"


def cells(data: dict) -> list[list[str]]:
    """The table's rows (without the head), one per optimizer in the JSON's order (best first)."""
    out = []
    for i, e in enumerate(data["optimizers"], 1):
        row = [str(i), e["optimizer"], _runs(e), _lr(e)]
        for t in data["targets"]:
            cell = e["reached"][f"{t:g}"]
            row += [_median(cell), f"{cell['reached']}/{cell['runs']}"]
        row += [_share(e["profile"]["steps"]), _share(e["profile"]["seconds"])]
        out.append(row)
    return out


def _not_run(data: dict) -> list[str]:
    return [f"{e['optimizer']} not run on {s['setting']}: {s['not_run']}"
            for e in data["optimizers"] for s in e["settings"] if "not_run" in s]


def _failed(data: dict) -> list[str]:
    return [f"{e['optimizer']} on {s['setting']}: {s['failed']} of {s['runs']} runs failed ({s['error']}; counted "
            "as never)" for e in data["optimizers"] for s in e["settings"] if s.get("failed")]


def _tuning(data: dict) -> list[str]:
    """The tuning's notes other than "no lr to tune" (every rate diverged on a development seed)."""
    return [f"{e['optimizer']} on {s['setting']}: {s['note']} (lr {g(s['lr'])})"
            for e in data["optimizers"] for s in e["settings"] if s.get("note") and s.get("lr") is not None]


def caption(data: dict) -> str:
    """What the table shows, in one paragraph."""
    return (f"{data['problems']} problems per optimizer ({len(data['family'])} settings x held-out seeds "
            f"{data['held_out_seeds']}), {data['steps']:,} steps each at the lr tuned on the development seeds "
            f"{data['development_seeds']}; a run that never reaches a target counts as never (+inf) in the median. "
            f"Cheapest: the fraction of the problems on which the optimizer reaches relative "
            f"{target_text(data['profile']['target'])} at the lowest cost (rho(1) of the performance profile).")


def markdown(data: dict) -> str:
    """The leaderboard's JSON as the README's Markdown table, then who is not entered and why."""
    names = head(data)
    rows = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    rows += ["| " + " | ".join(f"`{c}`" if j == 1 else c for j, c in enumerate(row)) + " |" for row in cells(data)]
    text = "\n".join(rows) + "\n\n" + caption(data)
    absent = [f"`{a['optimizer']}`: {a['why']}" for a in data["not_entered"]] + _not_run(data)
    if absent:
        text += "\n\nNot entered or not run:\n\n" + "\n".join(f"- {line}" for line in absent)
    notes = _failed(data) + _tuning(data)
    if notes:
        text += "\n\nNotes:\n\n" + "\n".join(f"- {line}" for line in notes)
    return text


def text(data: dict) -> str:
    """The leaderboard's JSON for a terminal: the table in aligned columns, then the notes."""
    rows = [head(data), *cells(data)]
    widths = [max(len(r[j]) for r in rows) for j in range(len(rows[0]))]
    lines = [f"linnet leaderboard: {len(data['optimizers'])} optimizers, {data['problems']} problems each; "
             f"{g(data['seconds'])} s"]
    lines += ["  ".join(c.ljust(w) if j < 4 else c.rjust(w) for j, (c, w) in enumerate(zip(row, widths))).rstrip()
              for row in rows]
    lines += ["", caption(data)]
    lines += [f"not entered: {a['optimizer']}: {a['why']}" for a in data["not_entered"]]
    lines += _not_run(data) + _failed(data) + _tuning(data)
    return "\n".join(lines)

