"""mm-explorer: an explicit-state model checker for specs written in YAML.

    from explorer import load, check
    result = check(load("configs/x.yaml", {"PAGES": 2}))
    result.verdict, result.stats, result.trace
"""

from .version import __version__
from .errors import SpecError
from .api import check, load

__all__ = ["load", "check", "SpecError", "__version__"]
