"""The seed protocol: development seeds choose, held-out seeds verify.

Every threshold, step size and budget of a claim about a population of problems is chosen on the
DEVELOPMENT seeds (0-19: the seeds every claim of linnet 0.1 and 0.2 was written and tuned on).
The HELD_OUT block (1000-1099) is disjoint from it and chooses nothing: a claim is verified there,
and what it says there is reported as it is, never re-tuned. Seeds 20-999 are neither: earlier
explorations touched some of them, so they serve neither purpose.

    >>> DEVELOPMENT, HELD_OUT
    (range(0, 20), range(1000, 1100))
    >>> set(DEVELOPMENT) & set(HELD_OUT)
    set()
"""

#: where thresholds, step sizes and budgets are chosen (and what tests and the quick benchmarks use)
DEVELOPMENT = range(0, 20)
#: where every claim is verified; never used to choose anything
HELD_OUT = range(1000, 1100)
