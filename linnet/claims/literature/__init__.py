"""Claims of the deep-linear-network literature (README rows D2-D7, ids ``deep.*``; docs/deep.md).

:mod:`~linnet.claims.literature.dynamics` (deep.preconditioner: Arora, Cohen & Hazan 2018;
deep.identity: Bartlett, Helmbold & Long 2018; deep.modes: Saxe, McClelland & Ganguli 2014),
:mod:`~linnet.claims.literature.margin` (deep.margin: Arora, Cohen, Golowich & Hu 2019),
:mod:`~linnet.claims.literature.narrow` (deep.narrow: Shamir 2019) and
:mod:`~linnet.claims.literature.width` (deep.width: Du & Hu 2019).
"""
