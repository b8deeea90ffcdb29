"""The checker's entry points, one import away: options, the reference search, checkpoints.

Each concern has its own module: options (what a search explores, default limits), exploration
(the result base every backend subclasses), bfs (the Python search), invariants (invariants and
premise probes shared by the backends), checkpoint (save and resume), signals (Ctrl-C and SIGTERM
as a stop between two states), fast/ (the same search compiled to C).
"""

from __future__ import annotations

from .bfs import Exploration, explore
from .checkpoint import Checkpoint, Resume, model_fingerprint, save_checkpoint
from .exploration import ExplorationBase, Stop, rss_mib
from .invariants import invariant_checker, locate
from .options import Options, default_memory_mib, options_for
from .signals import Interrupts, SignalsAsInterrupt

__all__ = ["Checkpoint", "Exploration", "ExplorationBase", "Interrupts", "Options", "Resume", "SignalsAsInterrupt",
           "Stop", "default_memory_mib", "explore", "invariant_checker", "locate", "model_fingerprint",
           "options_for", "rss_mib", "save_checkpoint"]
