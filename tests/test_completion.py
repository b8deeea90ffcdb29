"""`mm-explorer completion bash`: the script bash sources offers the parser's own commands,
options and choices, and the shipped configs by name."""

import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT

BASH = shutil.which("bash")
pytestmark = pytest.mark.skipif(BASH is None, reason="bash is not installed")


def complete(tmp_path, *words):
    script = subprocess.run([sys.executable, "-m", "explorer", "completion", "bash"], capture_output=True,
                            text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT}, check=True).stdout
    (tmp_path / "c.sh").write_text(script)
    shim = tmp_path / "bin" / "mm-explorer"  # the script asks the tool itself for the config names
    shim.parent.mkdir(exist_ok=True)
    shim.write_text(f'#!/bin/sh\nPYTHONPATH={ROOT} exec {sys.executable} -m explorer "$@"\n')
    shim.chmod(0o755)
    words = " ".join(f"'{w}'" for w in words)
    run = f'source {tmp_path / "c.sh"}; COMP_WORDS=({words}); COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 )); ' \
          f'_mm_explorer; printf "%s\\n" "${{COMPREPLY[@]}}"'
    env = {**os.environ, "PATH": f"{shim.parent}:{os.environ['PATH']}"}
    r = subprocess.run([BASH, "--norc", "-c", run], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


def test_commands_options_and_choices(tmp_path):
    from explorer.cli.main import build_parser
    assert "diff" in complete(tmp_path, "mm-explorer", "di") and "check" in complete(tmp_path, "mm-explorer", "")
    assert complete(tmp_path, "mm-explorer", "check", "--back") == ["--backend"]
    assert complete(tmp_path, "mm-explorer", "check", "--backend", "") == ["auto", "c", "python", "ray"]
    assert complete(tmp_path, "mm-explorer", "trace", "x.json", "--format", "m") == ["mail"]
    # every option of diff the parser knows is offered
    diff = next(a for a in build_parser()._actions if a.dest == "command").choices["diff"]
    want = {o for a in diff._actions for o in a.option_strings if o.startswith("--")}
    assert set(complete(tmp_path, "mm-explorer", "diff", "--")) == want


def test_shipped_configs_by_name(tmp_path):
    names = sorted(f[:-5] for f in os.listdir(os.path.join(ROOT, "configs")) if f.endswith(".yaml"))
    got = complete(tmp_path, "mm-explorer", "check", "seed_")
    assert sorted(got) == [n for n in names if n.startswith("seed_")]
