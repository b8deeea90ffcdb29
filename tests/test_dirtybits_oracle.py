"""The dirtybits benchmark model against SPIN's and Murphi's (rumur's) state counts.

Oracle numbers come from the anchor tools, not from this engine. They were produced with
    apt-get install spin rumur        # Debian bookworm: spin 6.5.2+dfsg-1, rumur 2022.08.20-1
    TOOLS="rumur-t1 spin-bfs python" run_anchors.sh P V     # the anchors bench/run.py drives
(Spin Version 6.5.2 -- 6 December 2019; Rumur version v2022.08.20-1; gcc 12.2.0). rumur's
"rules fired" is our transition count; SPIN reports the same count plus one (it also counts
storing the initial state); all three tools agree on distinct states at every size below.
"""

import os

import pytest

import explorer

from conftest import ROOT

SPEC = os.path.join(ROOT, "bench", "dirtybits.yaml")

# (P, V): (distinct states, rumur rules fired, BFS depth reported by spin -DBFS)
ANCHORS = {
    (1, 1): (22, 73, 5),
    (1, 2): (132, 776, 7),
    (2, 1): (242, 1364, 9),
    (1, 3): (808, 6804, 9),
    (3, 1): (2662, 21175, 13),
    (2, 2): (4356, 42504, 12),
    (2, 3): (81608, 1129584, 15),
}


@pytest.mark.parametrize("pv", sorted(ANCHORS))
def test_counts_equal_spin_and_rumur(pv):
    P, V = pv
    states, rules_fired, depth = ANCHORS[pv]
    r = explorer.check(explorer.load(SPEC, {"P": P, "V": V}))
    assert r.verdict == "ok"
    assert r.stats["distinct_states"] == states
    assert r.stats["transitions"] == rules_fired
    assert r.stats["depth"] == depth
    assert r.coverage["never_fired"] == []


@pytest.mark.parametrize("pv", [(1, 1), (2, 2), (2, 3)])
def test_buggy_variant_gives_the_three_step_counterexample(pv):
    # All three anchor tools report WriteFault(0,0); Store(0,0); Zap(0,0) violating NoLostWrite.
    P, V = pv
    r = explorer.check(explorer.load(SPEC, {"P": P, "V": V, "BUGGY": True}))
    assert r.verdict == "violation"
    assert r.invariant == "NoLostWrite"
    steps = [(s["action"], s["params"]) for s in r.trace[1:]]
    assert steps == [("WriteFault", {"v": "0", "p": "0"}), ("Store", {"v": "0", "p": "0"}), ("Zap", {"v": "0", "p": "0"})]
    assert r.trace[0]["action"] is None


def test_cli_done_when(cli):
    r = cli("check", SPEC, "--set", "P=2", "--set", "V=3")
    assert r.code == 0, r.err
    assert "81,608 distinct states" in r.out
    assert "1,129,584 transitions" in r.out
    r = cli("check", SPEC, "--set", "P=2", "--set", "V=3", "--set", "BUGGY=true")
    assert r.code == 1
    assert "Counterexample to NoLostWrite (3 steps)" in r.out


def test_state_graph_has_one_node_per_state_and_one_edge_per_transition(tmp_path, cli):
    # dirtybits (1,1): 22 states and 73 rules fired according to rumur (SPIN: 74 = 73 + 1)
    r = explorer.check(explorer.load(SPEC, {"P": 1, "V": 1}), keep_graph=True)
    g = r.graph()
    assert g.number_of_nodes() == 22
    assert g.number_of_edges() == 73
    assert sum(1 for _, d in g.nodes(data=True) if d["initial"]) == 1
    assert {d["action"] for _, _, d in g.edges(data=True)} == {
        "ReadFault", "WriteFault", "Store", "MprotectRO", "MprotectRW", "Writeback", "Zap", "Evict"}
    out = tmp_path / "g.graphml"
    assert cli("check", SPEC, "--set", "P=1", "--set", "V=1", "--graph", out, "-q").code == 0
    import networkx as nx
    h = nx.read_graphml(out)
    assert h.number_of_nodes() == 22 and h.number_of_edges() == 73
