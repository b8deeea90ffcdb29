"""The two calls everything else is built on: load a question, check it."""

from __future__ import annotations

from .errors import SpecError

BACKENDS = ("auto", "c", "python", "ray")

def load(path, overrides=None, actions=None, invariants=None, check=None, reach=None, expect=None):
    """Load and compile a config (or a spec file alone) into a Problem. `path` is a file, or the
    name of a shipped config (`seed_continue`; `mm-explorer configs` lists them). `reach`: a list
    of target expressions (a witness query instead of invariants); `expect`: 'reachable' or
    'unreachable'."""
    import os
    from .lang import shipped
    from .lang.config import load as _load
    if not os.path.exists(path):
        named = shipped.config_path(str(path))
        if named is None and shipped.is_name(str(path)):
            from .errors import Pos, SpecError, did_you_mean
            raise SpecError(Pos(f"<{path}>", 1, 1), f"{path}: no such file, and no shipped config has this name"
                            + did_you_mean(str(path), shipped.config_names()) + " (mm-explorer configs lists them)")
        path = named or path
    from .checker.symmetry import reduced
    problem = _load(path, overrides, actions, invariants, check, reach, expect)
    problem.model = reduced(problem.model)  # a spec's `symmetric:` sets: one state per orbit
    return problem


def check(problem, **options):
    """Explore every reachable state of a loaded Problem; returns a Result.

    Options override the config's `check:` settings: max_states, max_depth, deadlock, timeout,
    max_memory, continue_all, progress (a callable), keep_graph, checkpoint (file),
    checkpoint_every (seconds), resume (a checkpoint file), backend ("auto", the default: the
    compiled backend where a C compiler is found; "c"; "python", the reference backend; "ray",
    the state space partitioned over Ray actors: ray_address, ray_actors), on_start
    (called with the checker's Options before exploring).
    """
    from .checker.engine import Checkpoint, Interrupts, explore, options_for
    from .checker.fast import explore as fast_explore
    from .result import build
    backend = options.pop("backend", None) or "auto"
    if backend not in BACKENDS:
        raise SpecError(None, f"unknown backend '{backend}': choose one of {', '.join(BACKENDS)}")
    resume = options.pop("resume", None)
    on_start = options.pop("on_start", None)
    ray_at = {"address": options.pop("ray_address", None), "actors": options.pop("ray_actors", None)}
    opts = options_for(problem, **options)
    if on_start is not None:
        on_start(opts)  # e.g. the command line's header, before exploring
    with Interrupts():
        ck = Checkpoint(resume, problem.model) if resume else None
        if backend == "python":
            ex = explore(problem.model, opts, ck)
        elif backend == "ray":
            from .checker.distributed import explore as ray_explore
            ex = ray_explore(problem.model, opts, ck, **ray_at)
        else:
            ex = fast_explore(problem.model, opts, backend, ck)
        result = build(problem, ex)
    result.options = opts
    return result
