"""A checked statement: whether it holds and the measured numbers behind it."""

from __future__ import annotations

from dataclasses import dataclass, field

from linnet.runs.record import plain


@dataclass(frozen=True)
class Claim:
    """A checked statement: ``holds`` and the measured ``numbers`` behind it (plain data).

    ``statement`` says what is asserted, in words; ``key`` names the claim in reports.
    """

    key: str
    statement: str
    holds: bool
    numbers: dict = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "holds", bool(self.holds))
        object.__setattr__(self, "numbers", plain(self.numbers))

    def to_dict(self) -> dict:
        return {"key": self.key, "statement": self.statement, "holds": self.holds,
                "numbers": self.numbers}
