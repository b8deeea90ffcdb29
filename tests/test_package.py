"""The package runs alone: a wheel built from this tree, installed in a fresh venv, with no
checkout around and the working directory elsewhere, runs every shipped config by name and a
user's config that includes the shipped spec by name."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT

SHIPPED = sorted(f[:-5] for f in os.listdir(os.path.join(ROOT, "configs")) if f.endswith(".yaml"))

RUN_ALL = """
import io, json, sys
from explorer.cli.main import main
out = {}
for name in sys.argv[1:]:
    o, e = io.StringIO(), io.StringIO()
    code = main(["check", name, "-q", "--no-color"], out=o, err=e)
    out[name] = [code, o.getvalue().strip() or e.getvalue().strip()]
print(json.dumps(out))
"""


def _copy_tree(dst):
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    for d in ("explorer", "spec", "configs"):
        shutil.copytree(os.path.join(ROOT, d), os.path.join(dst, d), ignore=ignore)
    shutil.copytree(os.path.join(ROOT, "schemas"), os.path.join(dst, "schemas"))
    for f in ("pyproject.toml", "setup.py", "README.md", "LICENSE"):
        shutil.copy(os.path.join(ROOT, f), dst)


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    pytest.importorskip("wheel")  # bdist_wheel for a build without isolation (no download)
    tmp = tmp_path_factory.mktemp("pkg")
    src, dist, env_dir, elsewhere = (tmp / x for x in ("src", "dist", "venv", "elsewhere"))
    _copy_tree(src)
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", dist, src],
                   check=True, env=env, cwd=elsewhere, capture_output=True)
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", env_dir], check=True, env=env)
    wheel = next(dist.glob("*.whl"))
    py = env_dir / "bin" / "python"
    subprocess.run([py, "-m", "pip", "install", "--no-deps", "--no-index", "-q", wheel], check=True, env=env,
                   capture_output=True)
    shutil.rmtree(src)  # nothing of the tree is left to lean on

    def run(*args, script=None):
        cmd = [py, "-c", script, *args] if script else [env_dir / "bin" / "mm-explorer", *args]
        return subprocess.run([str(c) for c in cmd], env=env, cwd=elsewhere, capture_output=True, text=True)
    run.elsewhere = elsewhere
    run.venv = env_dir
    return run


def test_the_installed_package_is_the_wheel(venv):
    r = venv(script="import explorer; print(explorer.__file__)")
    assert r.stdout.strip().startswith(str(venv.venv)), r.stdout + r.stderr


def test_configs_lists_every_shipped_config(venv):
    r = venv("configs")
    assert r.returncode == 0, r.stderr
    listed = [line.split()[0] for line in r.stdout.splitlines()[2:] if line.startswith("  ") and line[2] != " "]
    assert listed == SHIPPED


def test_every_shipped_config_runs_by_name_as_in_the_checkout(venv, cli):
    r = venv(*SHIPPED, script=RUN_ALL)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    for name in SHIPPED:
        want = cli("check", os.path.join(ROOT, "configs", name + ".yaml"), "-q", "--no-color")
        code, text = got[name]
        assert code == want.code, (name, text)
        assert code in (0, 1, 4), (name, text)  # a verdict, never a missing file
        if code in (0, 1):
            assert text == want.out.strip(), name


def test_the_console_script_and_a_user_config_with_the_shipped_spec(venv):
    seed = open(os.path.join(ROOT, "configs", "seed_continue.yaml")).read()
    assert "spec: ../spec/mm.yaml" in seed
    (venv.elsewhere / "mine.yaml").write_text(seed.replace("spec: ../spec/mm.yaml", "spec: mm"))
    shipped = venv("check", "seed_continue", "-q")
    mine = venv("check", "mine.yaml", "-q")
    assert shipped.returncode == mine.returncode == 0, shipped.stderr + mine.stderr
    assert mine.stdout == shipped.stdout and "reachable states" in mine.stdout


def test_the_json_schemas_ship_with_the_package(venv):
    r = venv(script="from explorer.lang import shipped; import json; "
                    "print(json.dumps([shipped.schema_path(n) for n in ('result', 'spec', 'config')]))")
    paths = json.loads(r.stdout)
    assert all(p and p.startswith(str(venv.venv)) and p.endswith(".schema.json") for p in paths), r.stdout + r.stderr
