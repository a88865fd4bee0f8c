import pathlib
import sys

# tests import their shared hypothesis strategies as a plain module
sys.path.insert(0, str(pathlib.Path(__file__).parent))
