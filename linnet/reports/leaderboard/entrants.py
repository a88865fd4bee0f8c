"""Who is on the leaderboard, as what, and who is not, with why.

By default every optimizer of the registry (:data:`linnet.optimizers.registry.REGISTRY`) is entered
in the configuration its documentation gives as its example (:func:`linnet.optimizers.help.example`:
``momentum[lr=1e-06,momentum=0.9]``, ``gauss-newton[step=0.2]``, ``lm``), its ``lr`` tuned where it
has one, as the report card tunes it; an optimizer without ``lr`` runs as that example says. Two
kinds are not entered, and the leaderboard lists them with the reason:

* the adapters (``optax[...]``, ``torch[...]``, ``keras[...]``): each runs another library's
  optimizer that its spec names, so it is not one optimizer; name one to enter it
  (``--optimizers 'optax[optimizer=adam]'``);
* an optimizer that does not run on the numpy backend (the leaderboard's, batched where it can be).

An entrant that cannot run a setting of the family (it declares ``max_layers`` below the setting's
depth) is entered on the rest and listed as not run there (:func:`cannot_run`); those problems
count as never solved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from linnet.core.errors import LinnetError
from linnet.optimizers.base import runs_on
from linnet.optimizers.help import example
from linnet.optimizers.registry import REGISTRY
from linnet.optimizers.spec import as_optimizer
from linnet.reports.card.card import untuned_spec
from linnet.reports.card.command import optimizer_for_card
from linnet.reports.card.questions import depth_of
from linnet.sweeps.tuning import Setting, tunable

#: the package of the adapters: optimizers of other libraries, named in the spec
ADAPTERS = "linnet.optimizers.adapters"


@dataclass(frozen=True)
class Entrant:
    """One optimizer on the leaderboard: its ``label`` (its spec without ``lr`` where ``lr`` is
    tuned: ``adam``, ``momentum[momentum=0.9]``, ``lm``) and the optimizer (its ``lr`` replaced by
    the tuned one on each setting)."""

    label: str
    optimizer: object

    @property
    def tuned(self) -> bool:
        return tunable(self.optimizer)

    @property
    def batched(self) -> bool:
        return bool(self.optimizer.batchable)


@dataclass(frozen=True)
class Absent:
    """A registered optimizer that is not entered, and why."""

    name: str
    why: str

    def to_dict(self) -> dict:
        return {"optimizer": self.name, "why": self.why}


def _numpy(optimizer) -> None:
    cls = type(optimizer)
    if "numpy" not in cls.backends:
        raise LinnetError(f"the leaderboard runs on the numpy backend; {optimizer.name} runs on "
                          f"{', '.join(cls.backends)} (numpy runs {', '.join(runs_on('numpy'))})")


def entrant(text) -> Entrant:
    """The entrant a spec names: a bare registered name is that optimizer's example configuration
    (``gauss-newton`` is ``gauss-newton[step=0.2]``); a spec may leave ``lr`` out (it is tuned), as
    ``linnet check``'s may. LinnetError for an unknown optimizer, a bad spec or one that does not
    run on numpy."""
    if isinstance(text, str):
        name = text.strip()
        optimizer = optimizer_for_card(example(REGISTRY[name]) if name in REGISTRY else name)
    else:
        optimizer = as_optimizer(text)
    _numpy(optimizer)
    return Entrant(untuned_spec(optimizer), optimizer)


def entrants(specs: Sequence | None = None) -> tuple[tuple[Entrant, ...], tuple[Absent, ...]]:
    """The entrants and the absent: ``specs`` each entered (:func:`entrant`; none absent), or, by
    default, every registered optimizer but those of the module docstring. LinnetError when two
    specs name one entrant."""
    if specs is not None:
        entered = tuple(entrant(s) for s in specs)
        absent: tuple[Absent, ...] = ()
    else:
        chosen, out = [], []
        for name, cls in REGISTRY.items():
            if "numpy" not in cls.backends:
                out.append(Absent(name, f"runs on {', '.join(cls.backends)} only; the leaderboard runs on numpy"))
            elif cls.__module__.startswith(ADAPTERS + "."):
                out.append(Absent(name, f"an adapter: it runs the {name} library's optimizer its spec names, so it is "
                                        f"not one optimizer; enter one by naming it (e.g. {example(cls)})"))
            else:
                chosen.append(name)
        entered, absent = tuple(entrant(n) for n in chosen), tuple(out)
    labels = [e.label for e in entered]
    twice = sorted({label for label in labels if labels.count(label) > 1})
    if twice:
        raise LinnetError(f"{twice[0]} is entered twice (its lr is tuned, so specs that differ only in lr are one "
                          "entrant)")
    if not entered:
        raise LinnetError("the leaderboard needs at least one optimizer")
    return entered, absent


def cannot_run(entry: Entrant, setting: Setting) -> str | None:
    """Why ``entry`` cannot run ``setting``'s problems (its declared depth limit), or None."""
    limit = entry.optimizer.max_layers
    if limit is not None and depth_of(setting) > limit:
        return f"{entry.optimizer.name} handles at most {limit} layers; {setting.name} has {depth_of(setting)}"
    return None
