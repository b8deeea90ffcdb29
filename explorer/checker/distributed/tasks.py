"""Independent jobs (one check per config and kernel label, one side of a diff, one conformance
case) as Ray tasks when Ray is there, or one after another in this process without it.

    results = map_tasks(run, [(path, label) for ...])     # [run(path, label) for ...], in order

`fn` must be a function the workers can import or that Ray can serialise (a module-level
function); its arguments and result must be plain data. A task's exception is raised here as
the original exception type, as the local loop would raise it.
"""

from __future__ import annotations


def ray_wanted(use_ray=None, address=None):
    """The ray module when the tasks should run on Ray: use_ray True insists (None when the extra
    is missing), None means "when it is installed", False never."""
    if use_ray is False:
        return None
    from . import import_ray
    ray = import_ray()
    if ray is None and (use_ray or address):
        from ...errors import SpecError
        from . import MISSING
        raise SpecError(None, MISSING)
    return ray


def map_tasks(fn, args_list, address=None, use_ray=None, num_cpus=1):
    """[fn(*args) for args in args_list], on Ray (see ray_wanted) or locally."""
    args_list = [tuple(a) for a in args_list]
    ray = ray_wanted(use_ray, address)
    if ray is None or len(args_list) <= 1 and use_ray is None:
        return [fn(*a) for a in args_list]
    from . import start
    started = start(ray, address)
    try:
        remote = ray.remote(num_cpus=num_cpus)(_call)
        fn_ref = ray.put(fn)
        refs = [remote.remote(fn_ref, *a) for a in args_list]
        try:
            return ray.get(refs)
        except ray.exceptions.RayTaskError as e:
            raise e.as_instanceof_cause() from None
    finally:
        if started:
            ray.shutdown()


def _call(fn, *args):
    """The task: any callable Ray can serialise (a builtin too), with its arguments."""
    return fn(*args)
