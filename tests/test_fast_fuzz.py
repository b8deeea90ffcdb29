"""Random specs within the language on both backends: the compiled one must give the reference's
answer (counts, verdict, trace, coverage), including for negative floor division and modulo,
nondeterminism, `require`, records and procedures. The generator is shared with the property
tests of the compiler (tests/specgen.py)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import explorer
from explorer.checker import fast
from explorer.errors import SpecError

from specgen import ACTIONS, INIT, INVARIANT, build_spec

pytestmark = pytest.mark.skipif(not fast.available(), reason="no C compiler")

def answer(path, backend, **opts):
    try:
        r = explorer.check(explorer.load(path), backend=backend, **opts)
    except Exception as e:
        return ("raised", type(e).__name__, str(e)), None
    s = {k: v for k, v in r.stats.items() if k not in ("seconds", "states_per_second", "peak_mib")}
    return (r.verdict, r.message, s, r.trace, r.violations, r.coverage, r.data.get("stopped_by")), r.exploration


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(actions=ACTIONS, invariant=INVARIANT, init=INIT,
       opts=st.sampled_from([{}, {"deadlock": True}, {"max_states": 25}, {"max_depth": 3}]))
def test_random_specs_agree(tmp_path_factory, actions, invariant, init, opts):
    path = tmp_path_factory.mktemp("f") / "s.yaml"
    path.write_text(build_spec(actions, invariant, init))
    try:
        explorer.load(str(path))
    except SpecError:
        return
    ref, _ = answer(str(path), "python", **opts)
    got, ex = answer(str(path), "c", **opts)
    assert got == ref, path.read_text()
    if ex is not None:
        assert getattr(ex, "backend", None) == "c", path.read_text()
