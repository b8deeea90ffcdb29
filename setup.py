"""The parts of the build pyproject.toml cannot say: the Linux model (spec/), its questions
(configs/) and the JSON Schemas (schemas/) ship inside the package as explorer/_data/, so an
installed wheel runs the configs by name."""

from setuptools import find_packages, setup

DATA = {
    "explorer._data.spec": "spec",
    "explorer._data.spec.callers": "spec/callers",
    "explorer._data.configs": "configs",
    "explorer._data.schemas": "schemas",
}

setup(
    packages=find_packages(include=["explorer", "explorer.*"]) + list(DATA),
    package_dir=DATA,
    package_data={"explorer.checker.fast": ["*.c", "*.h"], **{pkg: ["*.yaml", "*.json"] for pkg in DATA}},
)
