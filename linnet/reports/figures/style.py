"""The one style of every figure linnet draws, and the checker that holds figures to it.

The rule: within one axes no two series share colour AND line style AND marker. A figure module
asks a :class:`Styles` per axes for each series' style; it hands out the palette's colours in
order, so up to ten series differ by colour alone, and a caller that fixes a line style or marker
(GD solid and Adam dashed, say) still gets a colour not yet used with it. A series that never
reaches its target is drawn as a :func:`not_reached` mark (a hollow triangle at the top of the
axes, labelled "not reached"), never as an empty legend entry.

:func:`problems` lists where a drawn figure breaks the rule, where a legend entry draws nothing,
and where text falls outside the canvas; tests/test_figures.py runs it on every figure family.
Figures are :class:`matplotlib.figure.Figure` objects (no pyplot state), drawn at :data:`DPI` with
constrained layout, and saved whole by :func:`save`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from linnet.core.files import save_figure

if TYPE_CHECKING:  # matplotlib is imported when a figure is drawn, not with the command line
    from matplotlib.figure import Figure

#: every figure is drawn at 150 dpi
DPI = 150
#: colour-blind-safe (Okabe & Ito 2008) first, then the rest of matplotlib's tab10
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000",
           "#8c564b", "#7f7f7f", "#bcbd22")
LINESTYLES = ("-", "--", "-.", ":")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
#: the mark of a series that never reaches its target: a hollow triangle at the top of the axes
NOT_REACHED_MARKER = "^"
NOT_REACHED = "not reached"


def _linestyle(ls) -> str:
    """Line styles compared by name: 'solid', '-', and (0, None) are one style."""
    names = {"solid": "-", "dashed": "--", "dashdot": "-.", "dotted": ":", "None": "none", "": "none", " ": "none"}
    return names.get(ls, ls) if isinstance(ls, str) else str(ls)


def _marker(m) -> str:
    return "none" if m in (None, "None", "none", "", " ") else str(m)


class Styles:
    """The styles of one axes' series: each :meth:`next` differs from all earlier ones.

    ``next()`` and ``next(ls="--")`` give the first palette colour no series has yet; once the
    palette is spent, the first colour not yet used with that line style (then another line style
    or a marker). Colours passed in are kept, and the line style changes if that pair is taken.
    """

    def __init__(self, palette=PALETTE):
        self.palette = tuple(palette)
        self.used: set = set()
        self.colours: set = set()

    def next(self, *, ls: str | None = None, marker: str | None = None, color=None, **extra) -> dict:
        from matplotlib.colors import to_hex

        styles = [ls] if ls is not None else list(LINESTYLES)
        colours = [color] if color is not None else list(self.palette)
        if color is None:  # a colour no series has yet, before a used one in another style
            fresh = [c for c in colours if to_hex(c) not in self.colours]
            colours = fresh + [c for c in colours if c not in fresh]
        for s in styles:
            for c in colours:
                key = (to_hex(c), _linestyle(s), _marker(marker))
                if key not in self.used:
                    return self._take(key, c, s, marker, extra)
        for s in LINESTYLES:  # the asked-for style is taken with every colour: vary the line style
            for m in [marker, *MARKERS]:
                key = (to_hex(colours[0]), _linestyle(s), _marker(m))
                if key not in self.used:
                    return self._take(key, colours[0], s, m, extra)
        raise ValueError("more series than colours x line styles x markers")

    def _take(self, key, color, ls, marker, extra) -> dict:
        self.used.add(key)
        self.colours.add(key[0])
        style = {"color": color, "ls": ls, **extra}
        if marker is not None:
            style["marker"] = marker
        return style


def new_figure(figsize, **kwargs) -> Figure:
    """A Figure at :data:`DPI` with constrained layout (legends and labels kept on the canvas)."""
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, dpi=DPI, layout="constrained", **kwargs)


def not_reached(ax, xs, label: str, color, **kwargs):
    """Mark ``xs`` at the top edge of ``ax`` as not reached: hollow triangles in ``color``, drawn
    over the spine (not clipped), with ``label`` followed by 'not reached'. Returns the line."""
    line, = ax.plot(np.asarray(xs, dtype=float), np.ones(len(xs)), ls="none", marker=NOT_REACHED_MARKER,
                    ms=8, mfc="white", mec=color, mew=1.5, color=color, clip_on=False,
                    transform=ax.get_xaxis_transform(), label=f"{label}: {NOT_REACHED}", zorder=5, **kwargs)
    return line


def save_options(fmt: str) -> dict:
    """savefig arguments: reproducible files (no creation date in the PNG, SVG or PDF)."""
    metadata = {"png": {"Software": None}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}[fmt]
    return {"metadata": metadata, "pad_inches": 0.15}


def save(fig: Figure, path: Path | str, *, force: bool = False) -> Path:
    """Write ``fig`` to ``path`` whole (its format from the suffix), then release it."""
    path = Path(path)
    written = save_figure(fig, path, force=force, **save_options(path.suffix.lstrip(".").lower()))
    fig.clear()
    return written


# -- the checker ------------------------------------------------------------------------------------

def _has_points(artist) -> bool:
    """Whether a legend entry's artist draws anything: a finite point, a bar, a filled region."""
    from matplotlib.collections import Collection, PathCollection
    from matplotlib.lines import Line2D

    if isinstance(artist, Line2D):
        xy = np.asarray(artist.get_xydata(), dtype=float)
        return bool(xy.size) and bool(np.isfinite(xy).all(axis=1).any())
    if isinstance(artist, PathCollection):  # scatter
        offsets = np.asarray(artist.get_offsets(), dtype=float)
        return bool(offsets.size) and bool(np.isfinite(offsets).all(axis=1).any())
    if isinstance(artist, Collection):  # fill_between
        return len(artist.get_paths()) > 0
    if hasattr(artist, "patches"):  # a BarContainer
        return len(artist.patches) > 0
    return True  # patches (axvspan, axhspan): drawn whenever they exist


def _series_key(artist):
    from matplotlib.colors import to_hex

    if hasattr(artist, "get_linestyle") and hasattr(artist, "get_marker"):
        ls = "none" if _marker(artist.get_marker()) != "none" and artist.get_linestyle() in ("None", "none", "") \
            else _linestyle(artist.get_linestyle())
        return to_hex(artist.get_color()), ls, _marker(artist.get_marker())
    return None


def problems(fig: Figure) -> list[str]:
    """Where ``fig`` breaks the style: two series of one axes with one (colour, line style, marker),
    a legend entry that draws no point (and is no 'not reached' mark), a visible text outside the
    figure, or a drawing that reaches past the canvas. Empty when the figure is fine."""
    found = []
    for i, ax in enumerate(fig.axes):
        where = f"axes {i} ({ax.get_title() or ax.get_ylabel() or 'untitled'})"
        seen: dict = {}
        for line in ax.get_lines():
            label = line.get_label()
            if label.startswith("_") or not line.get_visible():
                continue
            key = _series_key(line)
            if key in seen:
                found.append(f"{where}: {seen[key]!r} and {label!r} share colour, line style and marker {key}")
            seen.setdefault(key, label)
        if ax.get_legend() is not None:
            for handle, label in zip(*ax.get_legend_handles_labels()):
                if not _has_points(handle):
                    found.append(f"{where}: legend entry {label!r} draws no point and no '{NOT_REACHED}' mark")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    canvas = FigureCanvasAgg(fig)  # a Figure made without pyplot has a canvas that cannot draw
    canvas.draw()
    box = fig.bbox

    # tick labels outside the view are kept but not drawn; the tight box below covers the drawn ones
    ticks = {id(label) for ax in fig.axes for axis in (ax.xaxis, ax.yaxis)
             for tick in (*axis.get_major_ticks(), *axis.get_minor_ticks()) for label in (tick.label1, tick.label2)}
    for text in fig.findobj(Text):
        if not text.get_visible() or not text.get_text().strip() or id(text) in ticks:
            continue
        ext = text.get_window_extent()
        if ext.x0 < box.x0 - 1 or ext.y0 < box.y0 - 1 or ext.x1 > box.x1 + 1 or ext.y1 > box.y1 + 1:
            found.append(f"text {text.get_text()[:40]!r} lies outside the figure ({ext.bounds} vs {box.bounds})")
    tight = fig.get_tightbbox(canvas.get_renderer())  # inches
    w, h = fig.get_size_inches()
    tol = 1.0 / fig.dpi
    if tight.x0 < -tol or tight.y0 < -tol or tight.x1 > w + tol or tight.y1 > h + tol:
        found.append(f"the drawing reaches past the canvas: {tight.bounds} against a {w:g} x {h:g} in figure")
    return found
