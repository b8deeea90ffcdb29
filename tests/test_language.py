"""Each construct of the spec language, on tiny specs whose state spaces are counted by hand."""

import explorer


def run(path, **over):
    return explorer.check(explorer.load(path, over or None))


def test_guarded_cycle_hand_count(spec):
    # (a,b): FF -SetA-> TF -SetB-> TT -Reset-> FF. 3 states, 3 transitions, depth 2.
    p = spec("""
        variables: {a: bool, b: bool}
        actions:
          SetA: {guard: not a, effect: a = True}
          SetB: {guard: a and not b, effect: b = True}
          Reset: {guard: a and b, effect: "a = False\\nb = False"}
    """)
    r = run(p)
    assert (r.stats["distinct_states"], r.stats["transitions"], r.stats["depth"]) == (3, 3, 2)
    assert r.verdict == "ok"


def test_either_or_and_require(spec):
    # x in 0..3; Step: either x+1 (only below 3) or back to 0.
    # successors: 0->{1,0} 1->{2,0} 2->{3,0} 3->{0}: 4 states, 7 transitions.
    p = spec("""
        variables: {x: {type: int, min: 0, max: 3}}
        actions:
          Step:
            effect: |
              either:
                require x < 3
                x = x + 1
              or:
                x = 0
    """)
    r = run(p)
    assert (r.stats["distinct_states"], r.stats["transitions"]) == (4, 7)
    assert r.coverage["actions"][0]["enabled"] == 4


def test_with_choice_makes_one_successor_per_value(spec):
    # y takes any of 0,1,2 from any state: 3 states x 3 successors = 9 transitions.
    p = spec("""
        variables: {y: {type: int, min: 0, max: 2}}
        actions:
          Pick: {effect: "with k in range(3):\\n    y = k"}
    """)
    r = run(p)
    assert (r.stats["distinct_states"], r.stats["transitions"]) == (3, 9)


def test_nondeterministic_init_gives_several_initial_states(spec):
    p = spec("""
        variables: {x: {type: int, min: 0, max: 5}, f: bool}
        init: |
          with k in range(3):
              x = k + 1
          either:
              f = True
          or:
              pass
        actions:
          Noop: {guard: "False"}
    """)
    r = run(p)
    assert r.stats["initial_states"] == 6
    assert r.stats["distinct_states"] == 6
    assert r.stats["transitions"] == 0


def test_require_false_disables_the_instance(spec):
    # Inc is enabled only while x < 2; with the deadlock check the last state deadlocks.
    p = spec("""
        variables: {x: {type: int, min: 0, max: 3}}
        actions:
          Inc: {effect: "require x < 2\\nx += 1"}
    """)
    r = explorer.check(explorer.load(p), deadlock=True)
    assert r.verdict == "deadlock"
    assert [s["state"]["x"] for s in r.trace] == [0, 1, 2]


def test_effects_read_their_own_writes_and_guards_the_old_state(spec):
    p = spec("""
        variables: {a: {type: int, min: 0, max: 9}, b: {type: int, min: 0, max: 9}}
        actions:
          Go:
            guard: a == 0
            effect: |
              a = 3
              b = a + 1
        invariants:
          Sum: implies(a == 3, b == 4)
    """)
    r = run(p)
    assert r.verdict == "ok" and r.stats["distinct_states"] == 2


def test_locals_do_not_leak_between_branches(spec):
    # Branch 1 rebinds t; branch 2 must still see t = 1 (each branch is its own path).
    p = spec("""
        variables: {x: {type: int, min: 0, max: 5}}
        actions:
          Go:
            guard: x == 0
            effect: |
              t = 1
              either:
                t = 2
                x = t
              or:
                x = t + 2
    """)
    r = run(p)
    succ = sorted(s["x"] for s in [explorer.load(p).model.decode(t) for _, t in explorer.load(p).model.successors((0,))])
    assert succ == [2, 3]
    assert r.stats["distinct_states"] == 3


def test_deterministic_if_merges_locals(spec):
    p = spec("""
        variables: {c: bool, x: {type: int, min: 0, max: 9}}
        init: |
          either:
            c = True
          or:
            c = False
        actions:
          Go:
            guard: x == 0
            effect: |
              if c:
                  n = 5
              else:
                  n = 7
              x = n
    """)
    m = explorer.load(p).model
    assert sorted(m.decode(t)["x"] for st in m.initial_states() for _, t in m.successors(st)) == [5, 7]


def test_nested_procedures_write_through_references(spec):
    # set_pte(e) calls mark(e.dirty-holder): nested inlining, arguments passed by reference.
    p = spec("""
        sets: {P: range(2)}
        types: {Pte: {present: bool, dirty: bool}}
        variables: {pte: {type: Pte, over: [P]}, calls: {type: int, min: 0, max: 4}}
        procedures:
          mark(e): |
            e.dirty = True
            count()
          count: calls += 1
          install(e):
            source: mm/memory.c set_pte
            body: |
              e.present = True
              mark(e)
        actions:
          Fault:
            params: {p: P}
            guard: not pte[p].present
            effect: install(pte[p])
    """)
    r = run(p)
    # each page independently: (present&dirty or not); calls = number installed: 4 states.
    assert r.stats["distinct_states"] == 4
    m = explorer.load(p).model
    (k, t), = [x for x in m.successors(m.initial_states()[0]) if m.instances[x[0]].label() == "Fault(p=1)"]
    d = m.decode(t)
    assert d["pte"]["1"] == {"present": True, "dirty": True} and d["pte"]["0"] == {"present": False, "dirty": False}
    assert d["calls"] == 1


def test_arrays_of_records_over_two_sets_hand_count(spec):
    # 2 VMAs x 1 page, each PTE: none -> present(clean) -> present(dirty) -> none (zap).
    # The two PTEs are independent: 3 x 3 = 9 states; each state has 2 enabled steps (one per PTE): 18.
    p = spec("""
        sets: {V: range(2), P: range(1)}
        types:
          Kind: [none, present]
          Pte: {kind: Kind, dirty: bool}
        variables: {pte: {type: Pte, over: [V, P]}}
        actions:
          Map:
            params: {v: V, p: P}
            guard: pte[v][p].kind == none
            effect: pte[v][p] = Pte(kind=present)
          Dirty:
            params: {v: V, p: P}
            guard: pte[v][p].kind == present and not pte[v][p].dirty
            effect: pte[v][p].dirty = True
          Zap:
            params: {v: V, p: P}
            guard: pte[v][p].dirty
            effect: pte[v][p] = Pte(kind=none, dirty=False)
    """)
    r = run(p)
    assert (r.stats["distinct_states"], r.stats["transitions"]) == (9, 18)


def test_bfs_counterexample_is_shortest(spec):
    # Long road: 5 Incs to x=5; short road: Jump to 5 from x == 1. Bad: x == 5.
    # Shortest: Inc, Jump (2 steps), not 5 Incs.
    p = spec("""
        variables: {x: {type: int, min: 0, max: 6}}
        actions:
          Inc: {guard: x < 6, effect: x += 1}
          Jump: {guard: x == 1, effect: x = 5}
        invariants:
          NotFive: x != 5
    """)
    r = run(p)
    assert r.verdict == "violation" and r.invariant == "NotFive"
    assert [s["action"] for s in r.trace] == [None, "Inc", "Jump"]


def test_quantifiers_sum_len_min_max(spec):
    p = spec("""
        constants: {N: 3}
        sets: {I: range(N)}
        variables: {a: {type: int, min: 0, max: 2, over: [I]}}
        init: |
          a[0] = 2
          a[2] = 1
        definitions:
          total: sum(a[i] for i in I)
          nonzero: len(i for i in I if a[i] > 0)
          biggest: max(a[i] for i in I)
          smallest_nonzero: min(a[i] for i in I if a[i] > 0)
        invariants:
          Checks: total == 3 and nonzero == 2 and biggest == 2 and smallest_nonzero == 1 and any(a[i] == 0 for i in I) and not all(a[i] > 0 for i in I)
    """)
    r = run(p)
    assert r.verdict == "ok"


def test_constants_mappings_symbols_when_and_assume(spec):
    p = spec("""
        constants:
          KERNEL: v5.16
          KERNELS: {v5.15: [], v5.16: [9ae0f87d009c]}
          FILE: {kind: shmem, open: read-only}
        sets: {LABELS: [v5.15, v5.16]}
        assume:
          Known: {expr: KERNEL in LABELS, message: KERNEL must be a version label}
        definitions:
          has(c): c in KERNELS[KERNEL]
        variables: {d: bool}
        actions:
          New: {when: "has('9ae0f87d009c')", guard: "FILE.open == 'read-only'", effect: d = True}
    """)
    r = run(p)
    assert r.stats["distinct_states"] == 2
    r = run(p, KERNEL="v5.15")
    assert r.stats["distinct_states"] == 1
    assert r.coverage["unavailable"][0]["action"] == "New"
    try:
        explorer.load(p, {"KERNEL": "v9.9"})
    except explorer.SpecError as e:
        assert "KERNEL must be a version label" in str(e)
    else:
        raise AssertionError("an unknown kernel label must be refused")


def test_includes_merge_names(spec):
    spec("""
        actions:
          Flip: {effect: f = not f}
    """, name="callers/flip.yaml")
    p = spec("""
        include: [callers/*.yaml]
        variables: {f: bool}
    """)
    r = run(p)
    assert (r.stats["distinct_states"], r.stats["transitions"]) == (2, 2)


def test_out_of_domain_write_stops_with_trace(spec):
    p = spec("""
        variables: {x: {type: int, min: 0, max: 2}}
        actions:
          Inc: {effect: x = x + 1}
    """)
    r = run(p)
    assert r.verdict == "error"
    assert [s["action"] for s in r.trace] == [None, "Inc", "Inc", "Inc"]
    assert r.trace[-1]["state"] is None
    # line 3, column 21 is where "x + 1" starts
    assert r.error["position"].endswith("s.yaml:3:21")
    assert r.exit_code == 2


def test_procedures_return_values_and_return_early(spec):
    # do_wp_page(reuse): reuse -> 'write'; else either 'nopage' or bump x then 'write'.
    # Fault(p=0): {x unchanged (nopage), x+1 and cow (write)}; Fault(p=1): w and cow.
    p = spec("""
        sets: {P: range(2)}
        constants: {RET: [write, nopage]}
        variables: {x: {type: int, min: 0, max: 1}, w: bool, cow: bool}
        procedures:
          do_wp_page(reuse): |
            if reuse:
                w = True
                return 'write'
            either:
                return 'nopage'
            or:
                x = 1
            return 'write'
        actions:
          Fault:
            params: {p: P}
            guard: not cow
            effect: |
              ret = do_wp_page(p == 1)
              if ret == 'write':
                  cow = True
    """)
    m = explorer.load(p).model
    got = sorted((m.instances[k].label(), m.decode(t)["x"], m.decode(t)["w"], m.decode(t)["cow"])
                 for k, t in m.successors(m.initial_states()[0]))
    assert got == [("Fault(p=0)", 0, False, False), ("Fault(p=0)", 1, False, True), ("Fault(p=1)", 0, True, True)]


def test_an_if_that_returns_tests_its_condition_once(spec):
    # f: if x == 0: x = 1; return  — then y = 1 runs only when x was not 0 on entry. From x=0 the
    # one successor is (x=1, y=0): 2 states, 1 transition, and y stays 0. Testing the condition a
    # second time, on the state the first branch wrote, would also run y = 1.
    p = spec("""
        variables: {x: {type: int, min: 0, max: 1}, y: {type: int, min: 0, max: 1}}
        procedures:
          f(): |
            if x == 0:
                x = 1
                return
            y = 1
        actions:
          A: {guard: x == 0, effect: f()}
        invariants:
          NoY: y == 0
    """)
    for backend in ("python", "c"):
        r = explorer.check(explorer.load(p), backend=backend)
        assert (r.stats["distinct_states"], r.stats["transitions"], r.verdict) == (2, 1, "ok"), backend


def test_a_used_value_must_be_returned_on_every_path(cli, spec):
    p = spec("""
        variables: {x: bool}
        procedures:
          f: |
            if x:
                return 1
        actions:
          Go: {effect: "v = f()\\nx = v == 1"}
    """)
    r = cli("check", p)
    assert r.code == 2 and "s.yaml:7:21" in r.err and "can end without 'return'" in r.err


def test_constant_list_of_records_indexed_at_run_time(spec):
    # cur picks a VMA at run time; its fields come from the constant list.
    p = spec("""
        constants:
          VMAS: [{backing: file, uffd: [minor]}, {backing: anon, uffd: [missing, wp]}]
        sets: {V: range(len(VMAS))}
        variables: {cur: {type: int, min: 0, max: 1}, has_wp: bool, is_anon: bool}
        actions:
          Pick: {effect: "with v in V:\\n    cur = v"}
          Look:
            effect: |
              has_wp = 'wp' in VMAS[cur].uffd
              is_anon = VMAS[cur].backing == anon
        invariants:
          SameVma: has_wp == is_anon
    """)
    r = explorer.check(explorer.load(p))
    # (cur, has_wp, is_anon): (0,F,F) (1,F,F) (1,T,T) (0,T,T): 4 states, equal flags in each.
    assert r.verdict == "ok" and r.stats["distinct_states"] == 4


def test_empty_sets_when_the_action_does_not_exist(spec):
    p = spec("""
        constants: {THREADS: 0}
        sets: {T: range(THREADS)}
        variables: {busy: {type: bool, over: [T]}, x: bool}
        actions:
          start:
            params: {t: T}
            when: THREADS > 0
            effect: busy[t] = True
          flip: {effect: x = not x}
    """)
    assert explorer.check(explorer.load(p)).stats["distinct_states"] == 2
    # two threads: 2^2 busy combinations x 2 values of x
    assert explorer.check(explorer.load(p, {"THREADS": 2})).stats["distinct_states"] == 8
