"""Claims about the optimizers researchers use now (README rows M1-M5, docs/modern.md).

:mod:`~linnet.claims.modern.modes` (muon.modes), :mod:`~linnet.claims.modern.stability`
(muon.stable, muon.kappa) and :mod:`~linnet.claims.modern.conservation` (muon.conserved): Rhee,
Simon & Karkada (arXiv 2606.30509, 2026) on Muon in matrix factorisation;
:mod:`~linnet.claims.modern.polar` (shampoo.polar): Bernstein & Newhouse (arXiv 2409.20325,
2024); :mod:`~linnet.claims.modern.post_experiment` (modern.plateau): the post's experiment asked of
every new optimizer at the step size the report card's protocol chose. Each module measures one
seed per row; :mod:`~linnet.claims.modern.populations` pairs the measures with their summaries.
"""
