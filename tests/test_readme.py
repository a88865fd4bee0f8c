"""The README's examples, run: Python blocks as doctests (their printed answers checked), shell
commands parsed by the parser that would run them, and the quick start's extras checked to exist."""

import doctest
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from linnet.cli import build_parser
from linnet.optimizers.registry import REGISTRY, unregister

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()

PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)
#: indented (4 spaces) shell lines, comments dropped
SHELL = [shlex.split(line.strip(), comments=True) for line in re.findall(r"^    (\S.*)$", README, flags=re.M)]
SHELL = [argv for argv in SHELL if argv]


def _after(argv, *prefix):
    """The arguments after ``prefix`` when the command starts with it (env assignments skipped)."""
    while argv and re.match(r"^[A-Z_]+=", argv[0]):
        argv = argv[1:]
    n = len(prefix)
    return argv[n:] if tuple(argv[:n]) == prefix else None


def test_readme_has_examples():
    assert PYTHON_BLOCKS and any(_after(a, "python", "-m", "linnet") is not None for a in SHELL)


@pytest.mark.parametrize("block", range(len(PYTHON_BLOCKS)))
def test_python_example_runs_and_prints_what_it_says(block):
    parser = doctest.DocTestParser()
    test = parser.get_doctest(PYTHON_BLOCKS[block], {}, f"README block {block}", "README.md", 0)
    assert test.examples, "write README Python examples as >>> sessions so their answers are checked"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    before = set(REGISTRY)
    try:
        runner.run(test)
    finally:  # an optimizer a block registers is the block's own
        for name in set(REGISTRY) - before:
            unregister(name)
    assert runner.summarize(verbose=False).failed == 0


def test_linnet_commands_parse():
    commands = [a for a in (_after(argv, "python", "-m", "linnet") for argv in SHELL) if a is not None]
    assert len(commands) >= 5
    for argv in commands:
        if "--help" in argv:
            with pytest.raises(SystemExit) as stop:
                build_parser().parse_args(argv)
            assert stop.value.code == 0, argv
            continue
        args = build_parser().parse_args(argv)
        assert args.handler is not None, argv


def test_pytest_options_exist():
    """Every option the README passes to pytest is one pytest (with its plugins) knows."""
    commands = [a for a in (_after(argv, "python", "-m", "pytest") for argv in SHELL) if a is not None]
    options = {arg.split("=", 1)[0] for argv in commands for arg in argv if arg.startswith("--")}
    assert {"--linnet-baseline", "--linnet-update-baseline", "--benchmark-autosave"} <= options
    help_text = subprocess.run([sys.executable, "-m", "pytest", "--help", "-p", "no:cacheprovider"], cwd=ROOT,
                               capture_output=True, text=True).stdout
    assert [o for o in sorted(options) if o not in help_text] == []


def test_quick_start_installs_extras_that_exist():
    extras = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"])
    quick = [argv for argv in SHELL if argv[:3] == ["pip", "install", "-e"]]
    assert len(quick) == 2, "the quick start is two commands: benchmarks and tests"
    assert [argv[argv.index("&&") + 1:] for argv in quick] == [
        ["python", "-m", "pytest", "benchmarks", "--benchmark-autosave"],
        ["python", "-m", "pytest", "tests", "-n", "auto", "--dist", "loadfile"]]
    for argv in quick:
        named = set(re.fullmatch(r"\.\[(.*)\]", argv[3]).group(1).split(","))
        assert named <= extras, named - extras
