"""Conformance cases as one C program (TAP output in the style of tools/testing/selftests/mm).

Every value that reaches the C source is checked here: set elements and parameters become
integers from fixed tables, labels are restricted to a safe alphabet. The runtime the cases
call (world set-up, steps, observations, the forked-child driver) is prelude.c next to this file.
"""

from __future__ import annotations

import os
import re

from .cases import RACE

PRELUDE = os.path.join(os.path.dirname(__file__), "prelude.c")
PROT = {"none": 0, "read": 1, "read-write": 2}
COPY_MODE = {"none": 0, "wp": 1}
# observation name -> how a process reads it (pagemap bit numbers: Documentation/admin-guide/mm/pagemap.rst)
OBS_C = {
    "pagemap_present": "pagemap_bit({v}, {p}, 63)",
    "pagemap_swap": "pagemap_bit({v}, {p}, 62)",
    "pagemap_file": "pagemap_bit({v}, {p}, 61)",
    "pagemap_uffd_wp": "pagemap_bit({v}, {p}, 57)",
    "pagemap_exclusive": "pagemap_bit({v}, {p}, 56)",
    "pagemap_soft_dirty": "pagemap_bit({v}, {p}, 55)",
    "file_holds_private_write": "file_private({p})",
}
STEP_C = {
    "user_read": "access_page({v}, {p}, 0)",
    "user_write": "access_page({v}, {p}, 1)",
    "madvise_dontneed": "do_madvise({v}, {p}, MADV_DONTNEED)",
    "mprotect": "do_mprotect({v}, {prot})",
    "clear_refs_soft_dirty": "do_clear_refs()",
    "file_write": "do_file_write({p})",
    "uffdio_writeprotect": "do_writeprotect({v}, {p}, {on})",
    "uffdio_continue": "do_continue({v}, {p})",
    "uffdio_copy": "do_copy({v}, {p}, {mode})",
    "uffdio_zeropage": "do_zeropage({v}, {p})",
}
_SAFE = re.compile(r"[^A-Za-z0-9_=,.:()\[\] +-]")


def c_string(text: str) -> str:
    """A C string literal of `text` restricted to a safe alphabet (anything else becomes '?')."""
    return '"' + _SAFE.sub("?", str(text)) + '"'


def _args(params: dict) -> dict:
    out = {}
    for k, v in params.items():
        if k == "prot":
            out[k] = PROT[str(v)]
        elif k == "mode":
            out[k] = COPY_MODE[str(v)]
        else:
            out[k] = int(v)
    return out


def world_c(world, initial) -> list[str]:
    f = world["FILE"]
    pages = int(world["PAGES"])
    cached = ", ".join("1" if c else "0" for c in initial["cached"]) or "0"
    lines = [f"np = {pages};", f"static const int cached[] = {{{cached}}};",
             f"world_file({pages}, {int(f['open'] == 'read-only')}, {int(bool(f['sealed']))}, cached);"]
    vmas = world["VMAS"]
    for v, vma in enumerate(vmas):
        lines.append(f"world_vma({v}, {int(vma['backing'] == 'anon')}, {int(bool(vma['shared']))}, {PROT[vma['prot']]});")
    if any(vma["uffd"] for vma in vmas):
        lines.append(f"world_uffd({int('wp_unpopulated' in (world.get('UFFD_FEATURES') or []))});")
        for v, vma in enumerate(vmas):
            if vma["uffd"]:
                modes = [int(m in vma["uffd"]) for m in ("missing", "wp", "minor")]
                lines.append(f"world_register({v}, {modes[0]}, {modes[1]}, {modes[2]});")
    lines.append("world_ready();")
    return lines


def checks_c(preds) -> list[str]:
    out = []
    for label, name, args, value in preds:
        expr = OBS_C.get(name)
        if expr is None or not isinstance(value, bool):
            continue
        out.append(f"ok &= check({c_string(label)}, {int(value)}, {expr.format(**{k: int(v) for k, v in args.items()})});")
    return out


def _step(action, params, label, preds) -> list[str]:
    call = STEP_C[action].format(**_args(params))
    return [f"begin({c_string(label)});", f"done = {call};", "ok = done;",
            "if (done) {", *["\t" + c for c in checks_c(preds)], "}", "end_step(ok);",
            "if (!done) return finish();"]


def _race(case, k, fn) -> tuple[list[str], list[str]]:
    """The GUP steps from the first gup_start on, as a bounded race: one thread writes through
    /proc/self/mem, another repeats the trace's other steps in order; hit = the observations
    the model predicts to change over the race have their predicted final values."""
    steps = case.steps[k:]
    start = next(p for a, p, _ in steps if a == "gup_start")
    others = [(a, p) for a, p, _ in steps if a not in RACE]
    before, after = case.predictions[k], case.predictions[-1]
    changed = [(lb, n, a, v) for (lb, n, a, v), (_, _, _, v0) in zip(after, before) if v != v0 and n in OBS_C]
    data = [c for c in changed if c[1].startswith("file_")] or changed
    other_fn = [f"static void {fn}_other(void)", "{"] + [f"\t(void){STEP_C[a].format(**_args(p))};" for a, p in others] + ["}"]
    hit = " && ".join(f"{OBS_C[n].format(**{x: int(y) for x, y in a.items()})} == {int(v)}" for _, n, a, v in data) or "0"
    other_fn += [f"static int {fn}_hit(void)", "{", f"\treturn {hit};", "}"]
    a = _args(start)
    what = "gup_write vs " + ", ".join(o for o, _ in others)
    body = [f"begin({c_string('race: ' + what)});",
            f"ok = race({a['v']}, {a['p']}, {fn}_other, {fn}_hit, race_seconds);",
            "end_step(ok);", "return finish();"]
    return other_fn, body


def case_c(case, fn) -> list[str]:
    """One case as `static int fn(void)`, returning 0 when every check passed."""
    head, body = [], ["int ok, done = 1;", "(void)done;", *world_c(case.world, case.initial),
                      'begin("initial state");', "ok = 1;", *checks_c(case.predictions[0]), "end_step(ok);"]
    for k, (action, params, label) in enumerate(case.steps):
        if action in RACE:
            head, tail = _race(case, k, fn)
            body += tail
            break
        body += _step(action, params, label, case.predictions[k + 1])
    else:
        body.append("return finish();")
    return head + [f"static int {fn}(void)", "{"] + ["\t" + line for line in body] + ["}"]


def program(cases, timeout_s=20, race_seconds=5) -> str:
    """The whole program: the runtime, one function per case, and main running each in a child."""
    with open(PRELUDE) as f:
        out = [f.read(), f"static int race_seconds = {int(race_seconds)};", RACE_C]
    for n, case in enumerate(cases, 1):
        out.append("\n".join(case_c(case, f"case_{n}")))
    main = ["int main(void)", "{", "\tint good = 0;", '\tsetvbuf(stdout, NULL, _IOLBF, 0);',
            '\tprintf("TAP version 13\\n1..%d\\n", ' + str(len(cases)) + ");"]
    for n, case in enumerate(cases, 1):
        main.append(f"\tgood += run_case({n}, {c_string(case.name)}, case_{n}, {int(timeout_s)});")
    main += [f'\tprintf("# conform: %d of %d cases ok\\n", good, {len(cases)});', f"\treturn good == {len(cases)} ? 0 : 1;", "}"]
    out.append("\n".join(main))
    return "\n\n".join(out) + "\n"


RACE_C = r"""
static volatile int race_stop;

static void *racer(void *arg)
{
	void (*other)(void) = (void (*)(void))arg;
	while (!race_stop)
		other();
	return NULL;
}

/* the Dirty COW reproducers' shape: retry the racing pair for a bounded time */
static int race(int v, int p, void (*other)(void), int (*hit)(void), int seconds)
{
	pthread_t t;
	long n = 0;
	int got = 0;
	time_t end = time(NULL) + seconds;
	race_stop = 0;
	quiet = 1;
	pthread_create(&t, NULL, racer, (void *)other);
	while (!got && time(NULL) < end) {
		n++;
		gup_write(v, p);
		got = hit();
	}
	race_stop = 1;
	pthread_join(t, NULL);
	if (got)
		note("race step %d hit after %ld attempts", step_no, n);
	else
		note("race step %d never hit in %ld attempts (%d s)", step_no, n, seconds);
	return got;
}
"""
