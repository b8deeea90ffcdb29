"""Shared helpers: write a small spec into a temporary folder, run the command line in-process."""

import io
import os
import textwrap

import pytest

from explorer.cli.main import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def spec(tmp_path):
    """spec(text, name='s.yaml') -> path of a spec file holding the dedented text."""
    def write(text, name="s.yaml"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return str(path)
    return write


class Run:
    def __init__(self, code, out, err):
        self.code, self.out, self.err = code, out, err


def run_cli(*args):
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in args], out=out, err=err)
    return Run(code, out.getvalue(), err.getvalue())


@pytest.fixture
def cli():
    return run_cli
