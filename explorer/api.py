"""The two calls everything else is built on: load a question, check it."""

from __future__ import annotations

def load(path, overrides=None, actions=None, invariants=None, check=None, reach=None, expect=None):
    """Load and compile a config (or a spec file alone) into a Problem. `reach`: a list of target
    expressions (a witness query instead of invariants); `expect`: 'reachable' or 'unreachable'."""
    from .lang.config import load as _load
    return _load(path, overrides, actions, invariants, check, reach, expect)


def check(problem, **options):
    """Explore every reachable state of a loaded Problem; returns a Result.

    Options override the config's `check:` settings: max_states, max_depth, deadlock, timeout,
    max_memory, continue_all, progress (a callable), keep_graph, checkpoint (file),
    checkpoint_every (seconds), resume (a checkpoint file), backend ("python" is the
    reference backend, "c" and "auto" the compiled one, "ray" the distributed one with
    ray_address and ray_actors).
    """
    from .checker.engine import Options, SignalsAsInterrupt, explore
    from .result import build
    c = dict(problem.check)
    for key, value in options.items():
        if key == "continue_all":
            key = "continue"
        if key in c and value is not None:
            c[key] = value
    problem.check = c
    if any(getattr(inv, "reach", False) for inv in problem.model.invariant_list):
        c["continue"] = True  # a witness query looks for the first state of every target
    opts = Options(max_states=c.get("max_states"), max_depth=c.get("max_depth"), deadlock=c.get("deadlock", False),
                   continue_all=c.get("continue", False), timeout=c.get("timeout"), max_memory=c.get("max_memory"),
                   progress=options.get("progress"), keep_graph=options.get("keep_graph", False),
                   checkpoint=options.get("checkpoint"), checkpoint_every=options.get("checkpoint_every") or 60.0)
    resume = None
    if options.get("resume"):
        from .checker.engine import Resume
        resume = Resume(options["resume"], problem.model)
    backend = options.get("backend") or "python"
    if backend != "python" and (resume is not None or opts.checkpoint):
        backend = "python"  # checkpoints are a feature of the reference backend
    with SignalsAsInterrupt():
        if backend == "python":
            ex = explore(problem.model, opts, resume)
        elif backend == "ray":
            from .checker.distributed import explore as ray_explore
            ex = ray_explore(problem.model, opts, options.get("ray_address"), options.get("ray_actors"))
        else:
            from .checker.fast import explore as fast_explore  # the compiled backend (explorer/fast)
            ex = fast_explore(problem.model, opts, backend)
    return build(problem, ex)
