"""The JSON Schemas in schemas/ (shipped with the package) accept every shipped spec module,
config and result, refuse what the loader refuses, and name the same keys the loader knows."""

import glob
import json
import os

import pytest
import yaml

from conftest import ROOT

jsonschema = pytest.importorskip("jsonschema")


def schema(name):
    from explorer.lang import shipped
    path = shipped.schema_path(name)
    assert path and os.path.dirname(path) == os.path.join(ROOT, "schemas")
    s = json.load(open(path))
    jsonschema.Draft202012Validator.check_schema(s)
    return jsonschema.Draft202012Validator(s)


def _yaml(path):
    return yaml.safe_load(open(path))


SPECS = sorted(glob.glob(os.path.join(ROOT, "spec", "**", "*.yaml"), recursive=True)) + \
    [os.path.join(ROOT, "bench", "dirtybits.yaml")]
CONFIGS = sorted(glob.glob(os.path.join(ROOT, "configs", "*.yaml")))


def test_schemas_name_the_keys_the_loader_knows():
    from explorer.lang.config import CHECK_KEYS, CONFIG_KEYS
    from explorer.lang.loader import MODULE_KEYS
    spec, config = schema("spec").schema, schema("config").schema
    assert set(spec["properties"]) == set(MODULE_KEYS)
    assert set(config["properties"]) == set(CONFIG_KEYS)
    assert set(config["properties"]["check"]["properties"]) == set(CHECK_KEYS)


@pytest.mark.parametrize("path", SPECS, ids=os.path.basename)
def test_every_shipped_spec_module_is_valid(path):
    errors = [e.message for e in schema("spec").iter_errors(_yaml(path))]
    assert errors == []


@pytest.mark.parametrize("path", CONFIGS, ids=os.path.basename)
def test_every_shipped_config_is_valid_and_its_result_too(path, cli, tmp_path):
    assert [e.message for e in schema("config").iter_errors(_yaml(path))] == []
    out = tmp_path / "r.json"
    r = cli("check", path, "-q", "--json", out)
    assert r.code in (0, 1, 3, 4), r.err
    data = json.loads(out.read_text())
    assert [e.message for e in schema("result").iter_errors(data)] == []


def test_a_refused_result_and_typos_are_judged(cli, tmp_path):
    out = tmp_path / "r.json"
    r = cli("check", os.path.join(ROOT, "configs", "seed_continue.yaml"), "--set", "KERNEL=v5.11", "--json", out)
    assert r.code == 4
    data = json.loads(out.read_text())
    assert data["verdict"] == "refused" and list(schema("result").iter_errors(data)) == []
    cfg = _yaml(os.path.join(ROOT, "configs", "seed_continue.yaml"))
    cfg["constant"] = cfg.pop("constants")  # a typo the loader refuses is refused here too
    assert any("constant" in e.message for e in schema("config").iter_errors(cfg))
    spec = {"module": "m", "variables": {"x": {"type": "bool", "ghots": True}}}
    assert any("ghots" in e.message for e in schema("spec").iter_errors(spec))
    del data["position"]
    assert list(schema("result").iter_errors(data))
