"""The post's claims (README rows 1-9, ids ``post.*``) and the same claims at depth (``depth.*``).

:mod:`~linnet.claims.post.constants` (the post's settings and the thresholds, with their sources),
:mod:`~linnet.claims.post.producers` (run producers), :mod:`~linnet.claims.post.measures`
(contraction, curvature, imbalance drift), :mod:`~linnet.claims.post.checks` (post.plateau,
post.samples, post.kappa, post.slow-not-stuck, post.balanced),
:mod:`~linnet.claims.post.second_order` (post.gauss-newton, post.lm-floor, post.second-order,
post.float32) and :mod:`~linnet.claims.post.at_depth` (depth.plateau, depth.second-order,
depth.samples; docs/deep.md).
"""
