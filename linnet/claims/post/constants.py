"""The post's settings and the claims' thresholds, each with its source.

Sources: the post (Ali Rahimi, "Gradient Descent Doesn't Find a Local Minimum in a Two Layer
Linear Net", Dec 2017; the facts used are quoted in docs/design.md, "Facts about the post"), and
measurements of this repository on seeds 0-19 (the measured range and the margin are written
beside each threshold; docs/design.md, "Claims and thresholds", has the table).
"""

from __future__ import annotations

import numpy as np

#: the post's learning rates (its ``train_nets``) and budgets (docs/design.md, "Facts about the post")
POST_GD_RATES = (1e-6, 1e-5, 1e-4, 1e-3)
POST_ADAM_RATES = (1e-5, 1e-4, 1e-3, 1e-2)
POST_FIRST_ORDER = tuple(f"gd[lr={lr!r}]" for lr in POST_GD_RATES) + tuple(
    f"adam[lr={lr!r}]" for lr in POST_ADAM_RATES
)
POST_GAUSS_NEWTON = ("gauss-newton[step=0.05]", "gauss-newton[step=0.2]")
#: iterations within which each reaches relative 1e-28 (None: its rate, 0.9025, is too slow to in 200)
POST_GAUSS_NEWTON_WITHIN = {"gauss-newton[step=0.05]": None, "gauss-newton[step=0.2]": 200}
#: the post's LM exactly: Kronecker Jacobian over samples, numpy's old lstsq cutoff
POST_FAITHFUL_GAUSS_NEWTON = "gauss-newton[step=0.2,jacobian=kron,rcond=machine]"
POST_STEPS = 3000
POST_GN_STEPS = 200
#: the runs the post shows diverging (its figure marks them "(diverged)")
POST_DIVERGING = ("gd[lr=0.0001]", "gd[lr=0.001]")

#: claim 1: relative loss every non-diverged first-order run stays above after the post's budget
#: (the post's curves end near 1e-2 relative; measured on seeds 0-19: see check_plateau)
PLATEAU_RELATIVE_LOSS = 1e-6
#: a gradient norm below this fraction of its initial value would mean a critical point
CRITICAL_GRAD_FRACTION = 1e-6
#: the post's figure axis ends near 1e-8; a float64 realizable fit can reach below 1e-28
POST_LM_LEVEL = 1e-8
MACHINE_PRECISION_RELATIVE = 1e-28
#: the post says kappa = 1e5; its construction stays below this on every seed checked
POST_KAPPA_CLAIMED = 1e5
POST_KAPPA_BOUND = 100.0
#: "GD is slow, not stuck": relative loss GD must reach with enough steps
SLOW_TARGET = 1e-12
SLOW_LR = 1e-5
SLOW_MAX_STEPS = 3_000_000
#: the step budget of the long runs' stall point (the post's budget)
STALL_STEPS = POST_STEPS

#: second-order methods compared (fact 8), and those that must succeed on every seed
SECOND_ORDER = ("lm", "kfac[step=0.5]", "kfac[step=0.5,damping=adaptive]", "als", "closed-form",
                "scipy[method=lm]", "scipy[method=trf]")
SECOND_ORDER_RELIABLE = ("lm", "als", "closed-form", "scipy[method=lm]")
SECOND_ORDER_TARGET = 1e-20
SECOND_ORDER_STEPS = 200

#: float32 keeps about 7 digits: a float32 fit stalls near relative residual 1e-7 to 1e-6, i.e.
#: relative loss between eps32^2 and FLOAT32_FLOOR_MAX (docs/design.md, "Floors")
FLOAT32_EPS = float(np.finfo(np.float32).eps)
FLOAT32_FLOOR_MAX = 1e-10
#: the band's lower end: eps32^2 / 10. Measured on seeds 0-19 (lm, als, gauss-newton[step=0.2]):
#: float32 floors 6.8e-15 (als, seed 18) to 1.8e-13, below eps32^2 = 1.4e-14 on 10 of 20 seeds
#: (the residual ends a little under eps32 relative); margin 4.8x below, 560x above
FLOAT32_FLOOR_MIN = FLOAT32_EPS**2 / 10
#: a first-order run at the post's budget ends at the same relative loss in float32 as in float64
#: within this. Measured on seeds 0-19: gd[lr=1e-05] up to 4.4e-6, adam[lr=0.01] up to 1.23e-3
#: (seed 18: Adam at lr 1e-2 amplifies round-off); margin 8x
FLOAT32_FIRST_ORDER_RTOL = 1e-2
FLOAT32_SPECS = ("gd[lr=1e-05]", "adam[lr=0.01]", "gauss-newton[step=0.2]", "lm", "als")
