"""The report card on disk: its figures (PNG), its JSON and one self-contained HTML page.

``linnet check SPEC --out DIR`` writes ``DIR/card.json`` (:meth:`linnet.reports.card.card.Card.to_dict`),
``DIR/<figure>.png`` for each figure of :mod:`linnet.reports.figures.card`, and ``DIR/card.html``:
the verdicts, the settings, the tuning protocol with its grid and choices, the standing against the
built-ins and the figures, embedded as data URIs, so the page opens anywhere without a network or
its folder. Every path is checked before any run (:func:`paths`) and every file is written whole
or not at all (:mod:`linnet.core.files`).
"""

from __future__ import annotations

import base64
import html
import json
import math
from pathlib import Path

from linnet.core import files
from linnet.core.text import g
from linnet.reports.card.card import Card, tuning_text

#: the figures of the page, in its order (names of linnet.reports.figures.card.draw)
FIGURES = ("settings", "tuning", "profile-steps", "profile-seconds")
STYLE = """
body{font-family:sans-serif;max-width:1100px;margin:1em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;font-size:90%}
th{background:#f3f3f3}td.holds{background:#e3f4e1}td.does-not-hold{background:#fbe3e1}
td.inconclusive{background:#fff3cd}img{max-width:100%;display:block;margin:.5em 0}code{font-size:90%}
"""


def paths(out: Path | str) -> dict[str, Path]:
    """{name: path} of every file ``--out`` writes."""
    out = Path(out)
    return {"card.html": out / "card.html", "card.json": out / "card.json",
            **{f"{name}.png": out / f"{name}.png" for name in FIGURES}}


def _e(x) -> str:
    return html.escape(str(x))


def _table(head, rows) -> str:
    h = "".join(f"<th>{_e(c)}</th>" for c in head)
    body = "".join("<tr>" + "".join(c if c.startswith("<td") else f"<td>{c}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><tr>{h}</tr>{body}</table>"


def _interval(e) -> str:
    return "—" if math.isnan(e.value) else f"{g(e.value)} [{g(e.low)}, {g(e.high)}]"


def page(card: Card, images: dict[str, bytes]) -> str:
    """The HTML page of ``card`` with ``images`` ({figure name: PNG bytes}) embedded."""
    caps = card.capabilities
    verdicts = [[f"<code>{_e(v.id)}</code>", f'<td class="{v.verdict.replace(" ", "-")}">{_e(v.verdict)}</td>',
                 _e(_interval(v.estimate)), _e(v.estimate.method), _e(str(v.threshold)),
                 _e(f"{len(v.seeds)} ({v.seed_range})"), _e(v.statement)] for v in card.verdicts]
    verdicts += [[f"<code>{_e(i)}</code>", "not asked", "", "", "", "", _e(why)] for i, why in card.not_asked]
    settings = [[_e(s.setting), f"<code>{_e(s.spec)}</code>", _e(f"{s.steps:,}"), _e(_interval(s.relative_loss)),
                 _e(f"{s.diverged}/{s.seeds}"),
                 _e("; ".join(f"{t:g}: {g(c['median_steps'])} ({c['reached']}/{s.seeds})"
                              for t, c in s.reached.items()))] for s in card.settings]
    tuning = [[_e(t.setting), f"<code>{_e(t.spec)}</code>", _e(g(t.lr)), _e(t.note)] for t in card.tuned]
    tuning += [[_e(f"{t.setting} (reference)"), f"<code>{_e(t.spec)}</code>", _e(g(t.lr)), _e(t.note)]
               for t in card.references]
    standings = [[_e(s.metric), f"<code>{_e(s.spec)}</code>", _e(_interval(s.best)), _e(_interval(s.solved))]
                 for s in card.standings]
    figures = "".join(f'<h3>{_e(name)}</h3><img alt="{_e(name)}" src="data:image/png;base64,'
                      f'{base64.b64encode(images[name]).decode()}">' for name in FIGURES if name in images)
    title = f"linnet check {card.spec}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title><style>{STYLE}</style></head>
<body><h1>Report card: <code>{_e(card.spec)}</code></h1>
<p>{_e("first order" if caps["first_order"] else "second order")}, {_e("batchable" if caps["batchable"] else
   "one run at a time")}, backends {_e(", ".join(caps["backends"]))}; held-out seeds
   {_e(card.to_dict()["held_out_seeds"])}; {_e(g(card.seconds))} s.</p>
<h2>Verdicts</h2><p>What each statement says of this optimizer, on held-out seeds that chose nothing:
holds, does not hold, or inconclusive where the 95% interval straddles the threshold.</p>
{_table(["id", "verdict", "estimate [95%]", "method", "threshold", "seeds", "statement"], verdicts)}
<h2>Settings</h2>
{_table(["setting", "spec", "steps", "relative loss [95%]", "diverged", "steps to target (reached)"], settings)}
<h2>Against the built-ins</h2><p>Performance profile (Dolan &amp; Mor&eacute; 2002) of the cost to relative
loss {_e(g(card.profile_target))}: best is rho(1), the fraction of problems on which it is the cheapest;
solved is rho(inf).</p>
{_table(["cost", "optimizer", "best [95%]", "solved [95%]"], standings)}
<h2>Tuning</h2><p>{_e(tuning_text(card))}. Grid: {_e(", ".join(g(r) for r in card.grid))}.</p>
{_table(["setting", "chosen", "lr", "note"], tuning)}
<h2>Figures</h2>{figures}
</body></html>
"""


def write(card: Card, out: Path | str, *, force: bool = False) -> list[Path]:
    """Write the card's figures, JSON and page into ``out``; returns the paths written."""
    from linnet.reports.figures import card as card_figures
    from linnet.reports.figures.style import save

    named = paths(out)
    files.check_folder(out)
    files.check_writable(named.values(), force)
    files.make_folder(out)
    written, images = [], {}
    for name, fig in card_figures.draw(card).items():
        path = save(fig, named[f"{name}.png"], force=force)
        images[name] = path.read_bytes()
        written.append(path)
    written.append(files.write_text(named["card.json"], json.dumps(card.to_dict(), indent=1) + "\n", force=force))
    written.append(files.write_text(named["card.html"], page(card, images), force=force))
    return written
