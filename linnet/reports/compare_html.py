"""``linnet compare --output html``: one self-contained page (no network, no JavaScript).

The page holds the runs, the machines and how they differ, the claims verdicts per run, the
figures that disagree with the reference run, and per benchmark group an inline SVG of time per
run: the raw ratio to the reference and the normalised one (:mod:`linnet.reports.comparison`),
one bar per benchmark and run, one colour per run on every plot.
"""

from __future__ import annotations

import html

from linnet.core.text import g
from linnet.reports import compare_text

#: one colour per run (Okabe-Ito, readable by colour-blind readers), reused cyclically
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
STYLE = """
body{font-family:sans-serif;max-width:1100px;margin:1em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;font-size:90%}
th{background:#f3f3f3}.warn{background:#fff3cd;padding:.5em}.changed{font-weight:bold;color:#b00}
code{font-size:90%}svg{display:block;margin:.3em 0}
"""


def _e(x) -> str:
    return html.escape(str(x))


def _table(head: list, rows: list) -> str:
    h = "".join(f"<th>{_e(c)}</th>" for c in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{h}</tr>{body}</table>"


def group_svg(group, colours: dict, width: int = 1000) -> str:
    """Two panels (raw, normalised ratio to the reference) of horizontal bars, one per row."""
    rows = [r for r in group.rows if r.ratio is not None]
    bar, gap, label_w, panel_w = 12, 6, 360, (width - 360) // 2 - 20
    height = 30 + len(rows) * bar + len({r.benchmark.fullname for r in rows}) * gap
    top = max([r.ratio for r in rows] + [r.normalised or 0 for r in rows] + [1.0])
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="{_e(group.name)}" font-size="11" font-family="sans-serif">']
    for k, title in enumerate(("raw ratio", "normalised ratio")):
        x0 = label_w + k * (panel_w + 20)
        one = x0 + panel_w / top
        parts.append(f'<text x="{x0}" y="12" font-weight="bold">{title} (1 = reference)</text>'
                     f'<line x1="{one:.1f}" y1="18" x2="{one:.1f}" y2="{height}" stroke="#888" '
                     'stroke-dasharray="3,2"/>')
    y, last = 22, None
    for r in rows:
        if r.benchmark.fullname != last:
            y += gap
            name = r.benchmark.name if len(r.benchmark.name) <= 58 else r.benchmark.name[:55] + "..."
            parts.append(f'<text x="0" y="{y + bar - 2}">{_e(name)}</text>')
            last = r.benchmark.fullname
        for k, value in enumerate((r.ratio, r.normalised)):
            x0 = label_w + k * (panel_w + 20)
            if value is None:
                if k and r.why_raw:
                    parts.append(f'<text x="{x0}" y="{y + bar - 3}">{_e(r.run.id)} -: {_e(r.why_raw)}</text>')
                continue
            w = max(1.0, panel_w * value / top)
            parts.append(f'<rect x="{x0}" y="{y}" width="{w:.1f}" height="{bar - 2}" fill="{colours[r.run.id]}">'
                         f'<title>{_e(r.run.id)}: {value:.3g}x</title></rect>'
                         f'<text x="{x0 + w + 3:.1f}" y="{y + bar - 3}">{_e(r.run.id)} {value:.2f}x'
                         f'{" " + r.flag if r.flag and k else ""}</text>')
        y += bar
    parts.append("</svg>")
    return "".join(parts)


def render_html(rep: compare_text.Report) -> str:
    colours = {r.id: COLOURS[i % len(COLOURS)] for i, r in enumerate(rep.runs)}
    out = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
           "<title>linnet benchmark comparison</title>", f"<style>{STYLE}</style></head><body>",
           "<h1>linnet benchmark comparison</h1>", "<h2>Runs</h2>"]
    out.append(_table(["run", "commit", "date", "machine", "file"], [
        [f"<span style='color:{colours[r.id]}'>&#9632;</span> {_e(r.id)}", _e(r.commit_label),
         _e(r.datetime[:19].replace("T", " ")), _e(r.machine_id), f"<code>{_e(r.path)}</code>"]
        for r in rep.runs]))
    out.append(f"<p>{_e(compare_text.reference_line(rep))}</p>")
    if len(rep.runs) == 1:
        out.append(f"<p class='warn'>{_e(compare_text.SAVE_ANOTHER)}</p>")
    out.append("<h2>Machines</h2>")
    out.append(_table(["machine", "description"], [[_e(line.split("  ", 1)[0]), _e(line.split("  ", 1)[1])]
                                                   for line in compare_text.machine_lines(rep)]))
    out += [f"<p class='warn'>{_e(w)}</p>" for w in rep.warnings]
    out.append("<h2>Claims verdicts</h2>")
    if rep.verdicts:
        ids = [r.id for r in rep.runs if r.verdicts]
        out.append(_table(["claim", *ids], [
            [_e(f"{v['label']} {v['name']}")]
            + [f"<span class='{'changed' if v['changed'] else ''}'>{_e(v['verdicts'].get(i, '-'))}</span>"
               f"<br><small>{_e(v['numbers'].get(i, ''))}</small>" for i in ids] for v in rep.verdicts]))
    else:
        out.append("<p>No run saved claims verdicts (runs saved before the verdict plugin).</p>")
    out.append("<h2>Figures that differ from the reference run</h2>")
    diff = [[_e(r.benchmark.name), _e(r.run.id), _e(f), _e(g(o, 6)), _e(g(n, 6))]
            for grp in rep.groups for r in grp.rows for f, o, n, _ in r.differs]
    out.append(_table(["benchmark", "run", "figure", "reference", "value"], diff) if diff
               else "<p>None: every figure agrees within the regression gate's tolerance.</p>")
    out.append("<h2>Time per benchmark group</h2>")
    out.append(f"<p>{_e(compare_text.CLASS_NOTE)}</p>")
    for grp in rep.groups:
        name, scale = compare_text.unit([r.benchmark.median for r in grp.rows])
        out.append(f"<h3 id='{_e(grp.name)}'>group {_e(grp.name)}</h3>")
        out.append(group_svg(grp, colours))
        out.append(_table(["benchmark", "run", f"median ({name})", "[min, max]", "raw", "norm", "class", "flag"], [
            [_e(r.benchmark.name), _e(r.run.id), f"{r.benchmark.median / scale:.4g}",
             f"[{r.benchmark.low / scale:.4g}, {r.benchmark.high / scale:.4g}]",
             _e(compare_text.ratio_text(r, r.ratio)), _e(compare_text.ratio_text(r, r.normalised)),
             _e(r.kind), _e(r.flag)] for r in grp.rows]))
    if not rep.groups:
        out.append("<p>No benchmarks match.</p>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
