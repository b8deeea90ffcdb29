"""Per-version behaviour of anonymous swap, mremap, UFFD_FEATURE_WP_UNPOPULATED and the
write-sealed memfd mapping, pinned on hand-built states (as tests/test_mm_behaviour.py does).
Expected values come from the named kernel functions, not from running the model."""

import os

import pytest

import explorer
from explorer import SpecError

from conftest import ROOT
from test_mm_behaviour import fire, one, state, vma, world

SPEC = os.path.join(ROOT, "spec", "mm.yaml")
ANON_RW = vma(backing="anon", prot="read-write")
ANON_WP = vma(backing="anon", prot="read-write", uffd=["wp"])


def wp_world(kernel, features=(), vmas=(ANON_WP,)):
    return explorer.load(SPEC, {"KERNEL": kernel, "VMAS": list(vmas), "PAGES": 1, "GUP_THREADS": 0,
                                "START": "hole", "UFFD_FEATURES": list(features)})


def present_anon(**bits):
    slots = dict(pte_0_0__state="present", pte_0_0__page="anon")
    slots.update({"pte_0_0__" + k: v for k, v in bits.items()})
    return slots


def swapped(**bits):
    slots = dict(pte_0_0__state="swap", pte_0_0__page="anon")
    slots.update({"pte_0_0__" + k: v for k, v in bits.items()})
    return slots


# --- anonymous swap --------------------------------------------------------------------------------

@pytest.mark.parametrize("sd,uwp", [(True, False), (False, True)])
def test_pageout_keeps_soft_dirty_and_uffd_wp_in_the_swap_pte(sd, uwp):
    # mm/rmap.c try_to_unmap_one: swp_pte gets pte_swp_mksoft_dirty / pte_swp_mkuffd_wp from the
    # old pte; write and dirty go (the page is written to swap).
    p = wp_world("newest")
    s = state(p, **present_anon(write=not uwp, dirty=True, soft_dirty=sd, uffd_wp=uwp))
    pte = one(p, s, "madvise_pageout(v=0, p=0)")["pte"]["0"]["0"]
    assert (pte["state"], pte["write"], pte["dirty"]) == ("swap", False, False)
    assert (pte["soft_dirty"], pte["uffd_wp"]) == (sd, uwp)


@pytest.mark.parametrize("kernel,write", [("v6.8", False), ("v6.12", True), ("newest", True)])
def test_read_fault_on_swap_maps_writable_since_v6_11(kernel, write):
    # mm/memory.c do_swap_page: before "mm: set pte writable while pte_soft_dirty() is true in
    # do_swap_page()" only a write fault does maybe_mkwrite(pte_mkdirty()); since then an
    # exclusive page in a VM_WRITE VMA is mapped writable on a read fault too, clean.
    p = world(kernel, [ANON_RW])
    s = state(p, **swapped(soft_dirty=True))
    pte = one(p, s, "user_read(v=0, p=0)")["pte"]["0"]["0"]
    assert (pte["state"], pte["page"], pte["write"], pte["dirty"]) == ("present", "anon", write, False)
    assert pte["soft_dirty"] is True


@pytest.mark.parametrize("kernel", ["v6.12", "newest"])
def test_read_fault_on_swap_stays_read_only_while_soft_dirty_tracking_needs_a_fault(kernel):
    # do_swap_page: !pte_needs_soft_dirty_wp(vma, pte): VM_SOFTDIRTY clear and the swap pte not
    # soft-dirty -> read-only, so the next store faults and sets soft-dirty.
    p = world(kernel, [ANON_RW])
    s = state(p, vma_0__softdirty=False, **swapped(soft_dirty=False))
    pte = one(p, s, "user_read(v=0, p=0)")["pte"]["0"]["0"]
    assert pte["write"] is False and pte["soft_dirty"] is False


@pytest.mark.parametrize("kernel", ["v5.19", "v6.8", "newest"])
def test_write_fault_on_uffd_wp_swap_pte_is_a_wp_fault(kernel):
    # do_swap_page restores uffd_wp (pte_mkuffd_wp, write cleared), then do_wp_page reports the
    # fault to the monitor (userfaultfd_pte_wp): the store does not happen.
    p = wp_world(kernel)
    s = state(p, wp_protected_0_0=True, **swapped(soft_dirty=True, uffd_wp=True))
    assert fire(p, s, "user_write(v=0, p=0)") == []
    pte = one(p, s, "user_read(v=0, p=0)")["pte"]["0"]["0"]
    assert (pte["state"], pte["uffd_wp"], pte["write"]) == ("present", True, False)


def test_clear_refs_clears_the_soft_dirty_bit_of_a_swap_pte():
    # fs/proc/task_mmu.c clear_soft_dirty: is_swap_pte -> pte_swp_clear_soft_dirty
    p = world("newest", [ANON_RW])
    s = state(p, **swapped(soft_dirty=True))
    out = one(p, s, "clear_refs_soft_dirty")
    assert out["pte"]["0"]["0"]["state"] == "swap" and out["pte"]["0"]["0"]["soft_dirty"] is False


def test_writeprotect_sets_and_clears_the_uffd_wp_bit_of_a_swap_pte():
    # mm/mprotect.c change_pte_range, non-present entries: pte_swp_mkuffd_wp / pte_swp_clear_uffd_wp
    p = wp_world("newest")
    s = state(p, **swapped(soft_dirty=True))
    out = one(p, s, "uffdio_writeprotect(v=0, p=0, on=1)")
    assert out["pte"]["0"]["0"]["uffd_wp"] is True and out["wp_protected"]["0"]["0"] is True
    s = state(p, wp_protected_0_0=True, **swapped(soft_dirty=True, uffd_wp=True))
    out = one(p, s, "uffdio_writeprotect(v=0, p=0, on=0)")
    assert out["pte"]["0"]["0"]["uffd_wp"] is False and out["wp_protected"]["0"]["0"] is False


# --- mremap ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("kernel,kept", [("v5.19", True), ("v6.12", True), ("newest", False)])
def test_mremap_without_event_remap_drops_registration_and_since_0cef0bb836e3_the_bit(kernel, kept):
    # fs/userfaultfd.c mremap_userfaultfd_prep: no UFFD_FEATURE_EVENT_REMAP -> the new VMA has no
    # uffd context; mm/mremap.c move_ptes: move_soft_dirty_pte, and (0cef0bb836e3, after v6.12)
    # pte_clear_uffd_wp when vma_has_uffd_without_event_remap.
    p = wp_world(kernel)
    for slots in (present_anon(dirty=True, soft_dirty=False, uffd_wp=True),
                  swapped(soft_dirty=False, uffd_wp=True)):
        out = one(p, state(p, wp_protected_0_0=True, **slots), "mremap_move(v=0)")
        pte = out["pte"]["0"]["0"]
        assert out["vma"]["0"]["uffd_ctx"] is False
        assert pte["uffd_wp"] is kept and pte["soft_dirty"] is True
        assert out["wp_protected"]["0"]["0"] is False


def test_mremap_with_event_remap_keeps_registration_and_bits():
    p = wp_world("newest", features=["event_remap"])
    out = one(p, state(p, wp_protected_0_0=True, **present_anon(dirty=True, uffd_wp=True)), "mremap_move(v=0)")
    assert out["vma"]["0"]["uffd_ctx"] is True and out["pte"]["0"]["0"]["uffd_wp"] is True
    assert out["wp_protected"]["0"]["0"] is True


@pytest.mark.parametrize("kernel,marker", [("v6.12", True), ("newest", False)])
def test_mremap_drops_uffd_wp_markers_since_0cef0bb836e3(kernel, marker):
    p = wp_world(kernel, features=["wp_unpopulated"])
    s = state(p, wp_protected_0_0=True, pte_0_0__state="marker", pte_0_0__uffd_wp=True)
    pte = one(p, s, "mremap_move(v=0)")["pte"]["0"]["0"]
    assert (pte["state"] == "marker") is marker


# --- UFFD_FEATURE_WP_UNPOPULATED -----------------------------------------------------------------

@pytest.mark.parametrize("features,state_after,protected", [
    (["wp_unpopulated"], "marker", True), ([], "none", False)])
def test_writeprotect_of_an_unpopulated_anonymous_pte(features, state_after, protected):
    # mm/mprotect.c change_pte_range with MM_CP_UFFD_WP on a none pte: userfaultfd_wp_use_markers
    # is true for anonymous VMAs only with UFFD_FEATURE_WP_UNPOPULATED (2bad466cc9d9, v6.4).
    p = wp_world("v6.6", features=features)
    out = one(p, state(p), "uffdio_writeprotect(v=0, p=0, on=1)")
    assert out["pte"]["0"]["0"]["state"] == state_after
    assert out["wp_protected"]["0"]["0"] is protected


def test_wp_unpopulated_needs_v6_4():
    with pytest.raises(SpecError, match="WP_UNPOPULATED"):
        wp_world("v6.3", features=["wp_unpopulated"])


def test_faults_from_an_anonymous_marker_keep_uffd_wp():
    # mm/memory.c do_anonymous_page: uffd_wp = vmf_orig_pte_uffd_wp(vmf); both the zero-page and
    # the new-page entry get pte_mkuffd_wp (which clears write): the store waits for the monitor.
    p = wp_world("newest", features=["wp_unpopulated"])
    s = state(p, wp_protected_0_0=True, pte_0_0__state="marker", pte_0_0__uffd_wp=True)
    pte = one(p, s, "user_read(v=0, p=0)")["pte"]["0"]["0"]
    assert (pte["state"], pte["page"], pte["uffd_wp"], pte["write"]) == ("present", "zero", True, False)
    out = one(p, s, "user_write(v=0, p=0)")              # a new page, read-only: no store yet
    pte = out["pte"]["0"]["0"]
    assert (pte["page"], pte["uffd_wp"], pte["write"], pte["dirty"]) == ("anon", True, False, True)
    assert out["sd_written"]["0"]["0"] is False and out["wp_broken"]["0"]["0"] is False
    out = one(p, s, "madvise_dontneed(v=0, p=0)")        # zap on anonymous drops the marker
    assert out["pte"]["0"]["0"]["state"] == "none" and out["wp_protected"]["0"]["0"] is False


# --- the uffd-wp ghost starts with the request ----------------------------------------------------

def test_copy_mode_wp_protects_whatever_pte_comes_out():
    # v5.16 mfill_atomic_install_pte marks uffd_wp only when writable (fixed by 0e88904cb700,
    # v5.18); the monitor asked for MODE_WP either way, so wp_protected is set either way.
    for kernel, bit in (("v5.16", False), ("v5.18", True)):
        p = world(kernel, [vma(backing="anon", prot="read", uffd=["missing", "wp"])])
        out = one(p, state(p), "uffdio_copy(v=0, p=0, mode=wp)")
        assert out["pte"]["0"]["0"]["uffd_wp"] is bit and out["wp_protected"]["0"]["0"] is True


# --- write-sealed memfd ----------------------------------------------------------------------------

SEALED = {"kind": "shmem", "open": "read-write", "sealed": True}


@pytest.mark.parametrize("kernel,ok", [("v6.6", False), ("v6.8", True)])
def test_read_only_shared_map_of_a_sealed_memfd_since_v6_7(kernel, ok):
    # mm/mmap.c (158978945f31, v6.7): mapping_map_writable is checked after call_mmap, and
    # memfd_check_seals_mmap clears VM_MAYWRITE, so a read-only MAP_SHARED is allowed.
    vmas = [vma(shared=True, prot="read")]
    if not ok:
        with pytest.raises(SpecError, match="F_SEAL_WRITE"):
            world(kernel, vmas, file=SEALED)
        return
    p = world(kernel, vmas, file=SEALED)
    # no VM_MAYWRITE: mprotect(PROT_WRITE) fails with EACCES (the instance folds away), and a
    # FOLL_FORCE writer is refused (not is_cow_mapping)
    labels = [inst.label() for inst in p.model.instances]
    assert "mprotect(v=0, prot=read)" in labels and "mprotect(v=0, prot=read-write)" not in labels
    g = world(kernel, vmas, file=SEALED, gup=1)
    assert fire(g, state(g), "gup_start(t=0, v=0, p=0)") == []
    with pytest.raises(SpecError, match="F_SEAL_WRITE"):
        world(kernel, [vma(shared=True, prot="read-write")], file=SEALED)
