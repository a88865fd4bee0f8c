"""Problems: fit a product of layer matrices W1 W2 ... WN to a linear map A, and the problem's
objective: the loss and gradients computed from the second moment S, and the structured Jacobian.

Modules: :mod:`~linnet.problems.problem` (the immutable :class:`Problem` value),
:mod:`~linnet.problems.families` (the post's and the conditioned families, any depth),
:mod:`~linnet.problems.inits` (initialisations and the balanced factorisation),
:mod:`~linnet.problems.losses` (trace-form loss and gradients), :mod:`~linnet.problems.jacobian`
(products with the N-layer Jacobian, never the matrix).

Imports: linnet.core.
"""
