"""configs/README.md's verdict table and counterexample list are what scripts/verdict_table.py
generates from the current spec and configs (they are never edited by hand)."""

import os
import subprocess
import sys

from conftest import ROOT


def test_verdict_table_is_up_to_date():
    r = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "verdict_table.py"), "--check"],
                       capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
