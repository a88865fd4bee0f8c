"""linnet's version (one definition: the package, run records and benchmarks read it here)."""

__version__ = "0.2.0"
