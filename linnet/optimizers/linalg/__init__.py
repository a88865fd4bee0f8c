"""The linear algebra of the second-order optimizers: Gauss-Newton systems in Kronecker form, the
singular-value cutoff of a least-squares solve, and matrix-free row-space conjugate gradients.
"""
