"""The parts of the build pyproject.toml cannot say: the Linux model (spec/) and its questions
(configs/) ship inside the package as explorer/_data/, so an installed wheel runs them by name."""

from setuptools import find_packages, setup

DATA = {
    "explorer._data.spec": "spec",
    "explorer._data.spec.callers": "spec/callers",
    "explorer._data.configs": "configs",
}

setup(
    packages=find_packages(include=["explorer", "explorer.*"]) + list(DATA),
    package_dir=DATA,
    package_data={"explorer.checker.fast": ["*.c", "*.h"], "explorer.schemas": ["*.json"],
                  **{pkg: ["*.yaml"] for pkg in DATA}},
)
