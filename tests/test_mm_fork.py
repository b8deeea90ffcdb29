"""Per-version behaviour of fork and of the COW decisions it feeds (spec/fork.yaml), pinned on
hand-built states. Expected values come from kernel/fork.c and mm/memory.c, mm/gup.c and
mm/mprotect.c of each version (named per test), not from running the model."""

import os

import pytest

import explorer
from explorer import SpecError

from conftest import ROOT
from test_mm_behaviour import fire, one, state

SPEC = os.path.join(ROOT, "spec", "mm.yaml")
ANON_RW = {"backing": "anon", "shared": False, "prot": "read-write", "uffd": []}


def fork_world(kernel, vmas=(ANON_RW,)):
    return explorer.load(SPEC, {"KERNEL": kernel, "VMAS": list(vmas), "PAGES": 1, "GUP_THREADS": 0,
                                "START": "hole", "FORK": True})


def written(**extra):
    """the parent's exclusive, writable, dirty anonymous page at (0, 0)"""
    slots = dict(pte_0_0__state="present", pte_0_0__page="anon", pte_0_0__write=True,
                 pte_0_0__dirty=True, pte_0_0__soft_dirty=True)
    slots.update(extra)
    return slots


def after_fork(**extra):
    """the state copy_present_pte leaves: one page, read-only in both, not exclusive"""
    slots = written(pte_0_0__write=False, forked=True, cvma_write_0=True, cpte_0_0__state="present",
                    cpte_0_0__page="anon", cpte_0_0__dirty=True, cpte_0_0__soft_dirty=True,
                    shared_0_0=True, p_mshared_0_0=True, c_mshared_0_0=True)
    slots.update(extra)
    return slots


@pytest.mark.parametrize("kernel", ["v4.8", "v5.19", "newest"])
def test_fork_write_protects_and_shares_an_anonymous_page(kernel):
    # copy_present_pte: is_cow_mapping -> ptep_set_wrprotect in the parent, pte_wrprotect for the
    # child; the page is mapped twice (page_dup_rmap / page_try_dup_anon_rmap clears exclusive).
    p = fork_world(kernel)
    out = one(p, state(p, **written()), "fork")
    assert out["forked"] is True
    assert out["pte"]["0"]["0"]["write"] is False and out["cpte"]["0"]["0"]["write"] is False
    assert out["cpte"]["0"]["0"]["page"] == "anon" and out["shared"]["0"]["0"] is True
    assert out["p_mshared"]["0"]["0"] is True


@pytest.mark.parametrize("kernel,copied", [("v5.7", False), ("v5.11", True), ("newest", True)])
def test_fork_copies_a_pinned_page_for_the_child_since_70e806e4e645(kernel, copied):
    # copy_present_pte -> copy_present_page when page_maybe_dma_pinned (70e806e4e645, v5.9): the
    # child gets its own copy, the parent's pte stays writable.
    p = fork_world(kernel)
    out = one(p, state(p, ppin_0_0="current", **written()), "fork")
    assert out["shared"]["0"]["0"] is (not copied)
    assert out["pte"]["0"]["0"]["write"] is copied


@pytest.mark.parametrize("kernel", ["v4.8", "v5.11", "newest"])
def test_parent_write_on_a_shared_page_copies(kernel):
    # do_wp_page: mapcount 2 (v4.8) / page_count 2 (v5.9+) / !PageAnonExclusive with refcount 2
    # (v5.19+): wp_page_copy; the child keeps the old page.
    p = fork_world(kernel)
    out = one(p, state(p, **after_fork()), "user_write(v=0, p=0)")
    assert out["shared"]["0"]["0"] is False and out["pte"]["0"]["0"]["write"] is True
    assert out["cow_leak"]["0"]["0"] is False


@pytest.mark.parametrize("kernel,reused", [("v5.7", True), ("v5.11", False), ("newest", False)])
def test_a_child_reference_keeps_the_parent_from_reusing_since_09854ba94c6a(kernel, reused):
    # The child unmapped its copy but still holds a vmsplice reference on the parent's page:
    # reuse_swap_page sees mapcount 1 (v5.7: reuse, the child sees the write); 09854ba94c6a
    # (v5.9) tests page_count, 2 here: copy.
    p = fork_world(kernel)
    s = state(p, **after_fork(shared_0_0=False, cpte_0_0__state="none", cref_0_0=True, cref_parent_0_0=True))
    out = one(p, s, "user_write(v=0, p=0)")
    assert out["cow_leak"]["0"]["0"] is reused


@pytest.mark.parametrize("kernel,unshared", [("v5.18", False), ("v5.19", True), ("newest", True)])
def test_ro_pin_unshares_a_maybe_shared_page_since_a7f226604170(kernel, unshared):
    # gup_must_unshare (a7f226604170, v5.19): a R/O FOLL_PIN|FOLL_LONGTERM of an anonymous page
    # that is not PageAnonExclusive triggers FAULT_FLAG_UNSHARE: shared -> copy, pte stays R/O.
    p = fork_world(kernel)
    out = one(p, state(p, **after_fork()), "pin_ro(v=0, p=0)")
    assert out["ppin"]["0"]["0"] == "current"
    assert out["shared"]["0"]["0"] is (not unshared)
    assert out["pte"]["0"]["0"]["write"] is False
    # the parent's next store: reused (pin sees it) after unsharing, copied (pin stale) before
    out = one(p, state(p, **after_fork(ppin_0_0="current", shared_0_0=not unshared,
                                       p_mshared_0_0=not unshared)), "user_write(v=0, p=0)")
    assert out["pin_missed"]["0"]["0"] is (not unshared)


@pytest.mark.parametrize("kernel", ["v6.0", "newest"])
def test_mprotect_does_not_make_a_shared_anonymous_pte_writable(kernel):
    # can_change_pte_writable: a private pte needs PageAnonExclusive (v6.0, 64fe24a3e05e).
    p = fork_world(kernel)
    s = state(p, **after_fork(vma_0__write=False))
    out = one(p, s, "mprotect(v=0, prot=read-write)")
    assert out["pte"]["0"]["0"]["write"] is False


def test_fork_is_refused_for_file_vmas():
    with pytest.raises(SpecError, match="anonymous VMAs only"):
        fork_world("newest", vmas=({"backing": "file", "shared": False, "prot": "read", "uffd": []},))
