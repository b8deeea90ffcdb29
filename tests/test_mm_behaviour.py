"""Per-version behaviour of the mm model's actions, pinned on small hand-written situations.

Each test builds a state by hand (slot by slot, from a world with empty page tables), fires one
action instance through the compiled model (`problem.model.successors`) and compares the decoded
successor with what the named kernel function does in that version. Expected values come from
the kernel source of each version (function and commit named in each test), not from running
the model.
"""

import os

import pytest

import explorer

from conftest import ROOT

SPEC = os.path.join(ROOT, "spec", "mm.yaml")

SHMEM_RW = {"kind": "shmem", "open": "read-write", "sealed": False}
FS_RW = {"kind": "fs", "open": "read-write", "sealed": False}


def vma(backing="file", shared=False, prot="read", uffd=()):
    return {"backing": backing, "shared": shared, "prot": prot, "uffd": list(uffd)}


def world(kernel, vmas, file=SHMEM_RW, actions=None, gup=0):
    return explorer.load(SPEC, {"KERNEL": kernel, "FILE": file, "VMAS": vmas, "PAGES": 1,
                                "GUP_THREADS": gup, "START": "hole"}, actions=actions)


def state(problem, **slots):
    """The initial state with some slots replaced; keys use '__' for '.', e.g. pte_0_0__write."""
    m = problem.model
    (s,) = m.initial_states()
    s = list(s)
    names = m.slot_names()
    for key, value in slots.items():
        name = key.replace("__", ".")
        name = name.replace("_0_0", "[0][0]").replace("_1_0", "[1][0]").replace("_0", "[0]")
        i = names.index(name)
        s[i] = m.symbol_ids[value] if isinstance(value, str) else value
    return tuple(s)


def fire(problem, st, label):
    """Decoded successors of one action instance (by its label, e.g. 'uffdio_continue(v=0, p=0)')."""
    m = problem.model
    labels = [inst.label() for inst in m.instances]
    assert label in labels, f"{label} is not an instance here; instances: {labels}"
    k = labels.index(label)
    return [m.decode(t) for i, t in m.successors(st) if i == k]


def one(problem, st, label):
    out = fire(problem, st, label)
    assert len(out) == 1, out
    return out[0]


# --- mfill_atomic_install_pte and its callers -----------------------------------------------------

@pytest.mark.parametrize("kernel,dirty", [("v5.15", False), ("v5.16", True), ("newest", True)])
def test_continue_private_shmem_maps_cache_page_read_only_dirty_since_9ae0f87d009c(kernel, dirty):
    # mm/userfaultfd.c mcontinue_atomic_pte -> mfill_atomic_install_pte: a page-cache page in a
    # !VM_SHARED VMA is never writable; v5.15 dirties only writable or new anon ptes,
    # 9ae0f87d009c (v5.16) always dirties (and x86 pte_mkdirty sets soft-dirty too).
    p = world(kernel, [vma(shared=False, prot="read", uffd=["minor"])])
    s = state(p, cached_0=True, page_dirty_0=True, modified_0=True)
    pte = one(p, s, "uffdio_continue(v=0, p=0)")["pte"]["0"]["0"]
    assert (pte["state"], pte["page"], pte["write"]) == ("present", "cache", False)
    assert pte["dirty"] is dirty and pte["soft_dirty"] is dirty


@pytest.mark.parametrize("kernel,prot,write,dirty", [
    ("v5.15", "read-write", True, True), ("v5.15", "read", False, False),
    ("v5.16", "read-write", True, True), ("v5.16", "read", False, True)])
def test_continue_shared_shmem_writable_with_vm_write(kernel, prot, write, dirty):
    # mfill_atomic_install_pte, shared VMA: writable = VM_WRITE; dirty = writable (v5.15) or
    # always (9ae0f87d009c, v5.16)
    p = world(kernel, [vma(shared=True, prot=prot, uffd=["minor"])])
    s = state(p, cached_0=True, page_dirty_0=True, modified_0=True)
    pte = one(p, s, "uffdio_continue(v=0, p=0)")["pte"]["0"]["0"]
    assert (pte["page"], pte["write"], pte["dirty"]) == ("cache", write, dirty)


def test_continue_needs_the_page_in_the_cache():
    # mcontinue_atomic_pte: shmem_getpage without allocation -> EFAULT on a hole
    p = world("v5.16", [vma(shared=False, prot="read", uffd=["minor"])])
    assert fire(p, state(p), "uffdio_continue(v=0, p=0)") == []


def test_continue_is_not_in_kernels_before_153132571f02():
    # UFFDIO_CONTINUE for shmem arrived with 153132571f02 (v5.14): absent, and reported so
    p = world("v5.7", [vma(backing="anon", prot="read", uffd=["missing"])], file=SHMEM_RW)
    assert "uffdio_continue" in [a for a, _ in p.model.unavailable_actions]


@pytest.mark.parametrize("kernel,pte_dirty,page_dirty", [
    ("v4.19", False, False),   # shmem_mcopy_atomic_pte: dirty only with VM_WRITE, no set_page_dirty
    ("v4.20", False, True),    # dcf7fe9d8976: set_page_dirty when VM_WRITE is not set
    ("v5.15", False, True),    # mfill_atomic_install_pte (dirty = writable) then SetPageDirty
    ("v5.16", True, False)])   # 9ae0f87d009c: pte always dirty, SetPageDirty gone
def test_shmem_copy_into_shared_mapping_without_vm_write(kernel, pte_dirty, page_dirty):
    p = world(kernel, [vma(shared=True, prot="read", uffd=["missing"])])
    after = one(p, state(p), "uffdio_copy(v=0, p=0, mode=none)")
    pte = after["pte"]["0"]["0"]
    assert (pte["page"], pte["write"], pte["dirty"]) == ("cache", False, pte_dirty)
    assert after["cached"]["0"] and after["modified"]["0"]
    assert after["page_dirty"]["0"] is page_dirty


@pytest.mark.parametrize("kernel,page", [("v4.19", "cache"), ("v4.20", "anon")])
def test_copy_into_private_shmem_allocates_anon_since_5b51072e97d5(kernel, page):
    # __mcopy_atomic: before 5b51072e97d5 (v4.20) a non-anonymous VMA took the shmem path and
    # filled the page cache; since then !VM_SHARED -> mcopy_atomic_pte (new anonymous page)
    p = world(kernel, [vma(shared=False, prot="read", uffd=["missing"])])
    after = one(p, state(p), "uffdio_copy(v=0, p=0, mode=none)")
    assert after["pte"]["0"]["0"]["page"] == page
    assert after["cached"]["0"] is (page == "cache")
    assert after["private_write"]["0"] is (page == "cache")


@pytest.mark.parametrize("kernel,dirty", [("v4.8", False), ("v5.7", True)])
def test_anon_copy_into_readonly_vma_dirty_since_72981e0e7b60(kernel, dirty):
    # mm/userfaultfd.c mcopy_atomic_pte: v4.8 write+dirty only with VM_WRITE; 72981e0e7b60 (v5.7)
    # pte_mkdirty always
    p = world(kernel, [vma(backing="anon", prot="read", uffd=["missing"])])
    pte = one(p, state(p), "uffdio_copy(v=0, p=0, mode=none)")["pte"]["0"]["0"]
    assert (pte["page"], pte["write"], pte["dirty"]) == ("anon", False, dirty)


@pytest.mark.parametrize("kernel,uffd_wp", [("v5.16", False), ("v5.18", True)])
def test_copy_mode_wp_without_vm_write_marks_uffd_wp_since_0e88904cb700(kernel, uffd_wp):
    # mfill_atomic_install_pte: before 0e88904cb700 (v5.18) MODE_WP set uffd_wp only if writable
    p = world(kernel, [vma(backing="anon", prot="read", uffd=["missing", "wp"])])
    after = one(p, state(p), "uffdio_copy(v=0, p=0, mode=wp)")
    assert after["pte"]["0"]["0"]["uffd_wp"] is uffd_wp
    assert after["pte"]["0"]["0"]["write"] is False


def test_zeropage_private_maps_the_zero_page_clean_read_only():
    # mm/userfaultfd.c mfill_zeropage_pte: zero-page pte from the private vm_page_prot
    p = world("v5.16", [vma(shared=False, prot="read-write", uffd=["missing"])])
    pte = one(p, state(p), "uffdio_zeropage(v=0, p=0)")["pte"]["0"]["0"]
    assert (pte["page"], pte["write"], pte["dirty"]) == ("zero", False, False)


# --- registration (assume) ---------------------------------------------------------------------

def test_register_needs_maywrite_since_29ec90660d68():
    # fs/userfaultfd.c userfaultfd_register: VM_MAYWRITE required since 29ec90660d68 (v4.20);
    # a MAP_SHARED mapping of an O_RDONLY file has no VM_MAYWRITE
    ro = {"kind": "shmem", "open": "read-only", "sealed": False}
    world("v4.19", [vma(shared=True, uffd=["missing"])], file=ro)
    with pytest.raises(explorer.SpecError, match="VM_MAYWRITE"):
        world("v4.20", [vma(shared=True, uffd=["missing"])], file=ro)


def test_shmem_wp_registration_needs_v5_19():
    # vma_can_userfault: uffd-wp on shmem only with pte markers (b1f9e876862d, v5.19)
    with pytest.raises(explorer.SpecError, match="MODE_WP"):
        world("v5.18", [vma(shared=True, prot="read-write", uffd=["wp"])])
    world("v5.19", [vma(shared=True, prot="read-write", uffd=["wp"])])


# --- GUP ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("kernel,foll_write,foll_cow", [
    ("v4.8", False, False),    # faultin_page drops FOLL_WRITE after VM_FAULT_WRITE
    ("v4.9", True, True),      # 19be0eaffa3a: FOLL_COW instead
    ("v6.0", True, False)])    # 5535be309971: FOLL_COW removed
def test_faultin_page_after_cow_in_readonly_private_vma(kernel, foll_write, foll_cow):
    p = world(kernel, [vma(backing="file", shared=False, prot="read")], file=FS_RW, gup=1)
    s = state(p, cached_0=True, pte_0_0__state="present", pte_0_0__page="cache",
              gup_0__pc="fault", gup_0__foll_write=True)
    after = one(p, s, "gup_fault(t=0)")
    pte, g = after["pte"]["0"]["0"], after["gup"]["0"]
    # do_wp_page -> wp_page_copy: an exclusive anonymous copy, read-only (no VM_WRITE), dirty
    assert (pte["page"], pte["write"], pte["dirty"]) == ("anon", False, True)
    assert (g["pc"], g["foll_write"], g["foll_cow"]) == ("follow", foll_write, foll_cow)


@pytest.mark.parametrize("kernel,writes", [("v5.15", True), ("v6.0", False)])
def test_follow_with_foll_cow_accepts_a_dirty_readonly_page_cache_pte(kernel, writes):
    # follow_page_pte / can_follow_write_pte: v4.9-v5.19 FOLL_FORCE|FOLL_COW and pte_dirty is
    # enough; 5535be309971 (v6.0) wants an exclusive anonymous page
    p = world(kernel, [vma(shared=False, prot="read", uffd=["minor"])], gup=1)
    s = state(p, cached_0=True, page_dirty_0=True, modified_0=True, pte_0_0__state="present",
              pte_0_0__page="cache", pte_0_0__dirty=True, gup_0__pc="follow",
              gup_0__foll_write=True, gup_0__foll_cow=True)
    after = one(p, s, "gup_follow(t=0)")
    assert after["private_write"]["0"] is writes
    assert after["gup"]["0"]["pc"] == ("idle" if writes else "fault")


@pytest.mark.parametrize("kernel", ["v4.9", "v5.19", "v6.0"])
def test_faultin_page_sets_foll_cow_only_after_do_wp_page(kernel):
    # mm/gup.c faultin_page acts on VM_FAULT_WRITE, which only do_wp_page returns
    # (wp_page_reuse / wp_page_copy): a write fault on a none pte in a read-only private file
    # VMA goes to do_cow_fault, which maps a read-only dirty anonymous copy and returns no
    # VM_FAULT_WRITE, so FOLL_COW stays clear and the next follow faults again
    p = world(kernel, [vma(backing="file", shared=False, prot="read")], file=FS_RW, gup=1)
    s = state(p, cached_0=True, gup_0__pc="fault", gup_0__foll_write=True)
    after = one(p, s, "gup_fault(t=0)")
    pte, g = after["pte"]["0"]["0"], after["gup"]["0"]
    assert (pte["page"], pte["write"], pte["dirty"]) == ("anon", False, True)
    assert (g["pc"], g["foll_write"], g["foll_cow"]) == ("follow", True, False)


@pytest.mark.parametrize("kernel", ["v5.7", "newest"])
def test_gup_userfault_ends_the_gup(kernel):
    # handle_userfault without FAULT_FLAG_ALLOW_RETRY (get_user_pages_remote from
    # __access_remote_vm passes no `locked`) returns VM_FAULT_SIGBUS: faultin_page -> -EFAULT,
    # the writer gives up and nothing changes
    p = world(kernel, [vma(backing="anon", prot="read", uffd=["missing"])], gup=1)
    s = state(p, gup_0__pc="fault", gup_0__foll_write=True)
    after = one(p, s, "gup_fault(t=0)")
    assert after["gup"]["0"]["pc"] == "idle" and after["pte"]["0"]["0"]["state"] == "none"


@pytest.mark.parametrize("kernel,soft_dirty,uffd_wp,writes", [
    ("v6.0", True, False, True), ("v6.0", False, False, False), ("v6.0", True, True, False),
    ("v5.19", False, True, True)])
def test_can_follow_write_pte_exclusive_anon_5535be309971(kernel, soft_dirty, uffd_wp, writes):
    # mm/gup.c can_follow_write_pte since 5535be309971 (v6.0): a read-only pte in a private
    # !VM_WRITE VMA is followed for a FOLL_FORCE write only on an exclusive anonymous page,
    # and not while soft-dirty tracking is on and the pte is not soft-dirty, nor on a uffd-wp
    # pte; v5.19 only asks FOLL_COW and pte_dirty
    p = world(kernel, [vma(backing="anon", prot="read", uffd=["missing", "wp"])], gup=1)
    s = state(p, vma_0__softdirty=False, pte_0_0__state="present", pte_0_0__page="anon",
              pte_0_0__dirty=True, pte_0_0__soft_dirty=soft_dirty, pte_0_0__uffd_wp=uffd_wp,
              gup_0__pc="follow", gup_0__foll_write=True, gup_0__foll_cow=True)
    after = one(p, s, "gup_follow(t=0)")
    assert after["gup"]["0"]["pc"] == ("idle" if writes else "fault")
    assert after["sd_written"]["0"]["0"] is writes


@pytest.mark.parametrize("kernel,runs", [("v5.7", True), ("v5.11", False)])
def test_clear_refs_locking_29a951dfb3c3(kernel, runs):
    # fs/proc/task_mmu.c clear_refs_write: up to v5.10 mmap_lock is taken for read (upgraded to
    # write only while some VMA still has VM_SOFTDIRTY), so once tracking is on a clear_refs
    # can run while a GUP writer (mmap_lock held for read) is between its steps; since
    # 29a951dfb3c3 (v5.11) it always takes mmap_lock for write and waits for the writer
    p = world(kernel, [vma(backing="anon", prot="read")], gup=1)
    s = state(p, vma_0__softdirty=False, pte_0_0__state="present", pte_0_0__page="anon",
              pte_0_0__dirty=True, pte_0_0__soft_dirty=True, gup_0__pc="follow",
              gup_0__foll_write=True)
    assert len(fire(p, s, "clear_refs_soft_dirty")) == (1 if runs else 0)
    # with no GUP in flight it runs on both
    assert len(fire(p, state(p, vma_0__softdirty=False), "clear_refs_soft_dirty")) == 1


def test_check_vma_flags_refuses_force_write_to_readonly_shared_mapping():
    # mm/gup.c check_vma_flags: write without VM_WRITE needs is_cow_mapping
    p = world("newest", [vma(shared=True, prot="read")], file=SHMEM_RW, gup=1)
    assert fire(p, state(p), "gup_start(t=0, v=0, p=0)") == []


# --- mprotect ----------------------------------------------------------------------------------

@pytest.mark.parametrize("kernel,write", [("v5.19", True), ("v6.0", False)])
def test_mprotect_dirty_accountable_after_clear_refs_76aefad628aa(kernel, write):
    # change_pte_range: up to v5.19 a dirty pte of a page_mkwrite VMA becomes writable if
    # (soft-dirty or !VM_SOFTDIRTY); 76aefad628aa (v6.0) refuses while tracking is on and the
    # pte is not soft-dirty
    p = world(kernel, [vma(shared=True, prot="read")], file=FS_RW)
    s = state(p, cached_0=True, page_dirty_0=True, modified_0=True, mkwrite_ok_0=True,
              vma_0__softdirty=False, pte_0_0__state="present", pte_0_0__page="cache",
              pte_0_0__dirty=True)
    after = one(p, s, "mprotect(v=0, prot=read-write)")
    assert after["pte"]["0"]["0"]["write"] is write


@pytest.mark.parametrize("kernel,write", [("v6.0", True), ("v6.2", False)])
def test_mprotect_shared_shmem_uffd_wp_pte_51d3d5eb74ff(kernel, write):
    # pte_modify takes write from vm_page_prot; 51d3d5eb74ff (v6.2) makes a VM_SHARED
    # VM_UFFD_WP VMA write-notify, so vm_page_prot is read-only
    p = world(kernel, [vma(shared=True, prot="read", uffd=["wp"])])
    s = state(p, cached_0=True, page_dirty_0=True, modified_0=True, pte_0_0__state="present",
              pte_0_0__page="cache", pte_0_0__uffd_wp=True)
    after = one(p, s, "mprotect(v=0, prot=read-write)")
    assert after["pte"]["0"]["0"]["write"] is write


@pytest.mark.parametrize("kernel,write", [("v5.19", False), ("v6.0", False), ("v6.2", True)])
def test_mprotect_clean_exclusive_anon_upgrade(kernel, write):
    # v6.0 can_change_pte_writable (64fe24a3e05e) needs pte_dirty; v6.2 lets a clean exclusive
    # anonymous pte of a private VMA become writable; before v6.0 private ptes never are
    p = world(kernel, [vma(backing="anon", prot="read")])
    s = state(p, pte_0_0__state="present", pte_0_0__page="anon", pte_0_0__soft_dirty=True)
    after = one(p, s, "mprotect(v=0, prot=read-write)")
    assert after["pte"]["0"]["0"]["write"] is write


# --- uffd-wp ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kernel,write", [("v6.2", True), ("v6.3", False)])
def test_unprotect_shared_shmem_after_clear_refs_931298e103c2(kernel, write):
    # uffd_wp_range: up to v6.2 newprot = vm_get_page_prot(vm_flags) (write for a shared
    # VM_WRITE VMA); 931298e103c2 uses vm_page_prot (write-notify while soft-dirty tracking is
    # on) and can_change_pte_writable, which refuses a pte that is not soft-dirty
    p = world(kernel, [vma(shared=True, prot="read-write", uffd=["wp"])])
    s = state(p, cached_0=True, page_dirty_0=True, modified_0=True, vma_0__softdirty=False,
              pte_0_0__state="present", pte_0_0__page="cache", pte_0_0__dirty=True,
              pte_0_0__uffd_wp=True, wp_protected_0_0=True)
    after = one(p, s, "uffdio_writeprotect(v=0, p=0, on=0)")
    pte = after["pte"]["0"]["0"]
    assert pte["uffd_wp"] is False and pte["write"] is write
    assert after["wp_protected"]["0"]["0"] is False


@pytest.mark.parametrize("kernel,state_after", [("v5.19", "marker"), ("v5.18", "none")])
def test_zap_leaves_uffd_wp_marker_in_file_vma_since_1db9dbc2ef05(kernel, state_after):
    # zap_pte_range -> zap_install_uffd_wp_if_needed (v5.19): a uffd-wp pte of a file-backed
    # VM_UFFD_WP VMA leaves a marker. v5.18 cannot register shmem for WP, so the pte carries
    # uffd_wp only in this hand-built state; it is dropped on zap.
    vmas = [vma(shared=True, prot="read-write", uffd=["wp"] if kernel == "v5.19" else ["missing"])]
    p = world(kernel, vmas)
    s = state(p, cached_0=True, page_dirty_0=True, modified_0=True, pte_0_0__state="present",
              pte_0_0__page="cache", pte_0_0__uffd_wp=True)
    after = one(p, s, "madvise_dontneed(v=0, p=0)")
    assert after["pte"]["0"]["0"]["state"] == state_after


# --- page cache --------------------------------------------------------------------------------

def test_writeback_cleans_shared_ptes_and_reclaim_drops_clean_shmem():
    # page_mkclean write-protects and cleans the shared pte, then the page is clean
    p = world("v5.16", [vma(shared=True, prot="read-write")], file=FS_RW)
    s = state(p, cached_0=True, page_dirty_0=True, modified_0=True, mkwrite_ok_0=True,
              pte_0_0__state="present", pte_0_0__page="cache", pte_0_0__write=True,
              pte_0_0__dirty=True)
    after = one(p, s, "writeback(p=0)")
    assert (after["pte"]["0"]["0"]["write"], after["pte"]["0"]["0"]["dirty"]) == (False, False)
    assert not after["page_dirty"]["0"] and not after["modified"]["0"] and not after["mkwrite_ok"]["0"]
    # shmem: reclaim of a page without PageDirty frees it (the index becomes a hole)
    q = world("v5.16", [vma(shared=True, prot="read")])
    s = state(q, cached_0=True, pte_0_0__state="present", pte_0_0__page="cache", pte_0_0__dirty=True)
    after = one(q, s, "reclaim(p=0)")
    # try_to_unmap_one moved the pte dirty bit to the page first, so it went to swap instead
    assert after["cached"]["0"] and after["page_dirty"]["0"] and after["pte"]["0"]["0"]["state"] == "none"


# --- whole questions ---------------------------------------------------------------------------

@pytest.mark.parametrize("kernel,verdict", [("v5.7", "violation"), ("v5.11", "ok")])
def test_gup_soft_dirty_question_29a951dfb3c3(kernel, verdict):
    # the FOLL_COW window needs a clear_refs between the writer's fault and its follow, which
    # only the read-locked clear_refs of v5.10 and older allows
    r = explorer.check(explorer.load(os.path.join(ROOT, "configs", "gup_soft_dirty.yaml"), {"KERNEL": kernel}))
    assert r.verdict == verdict
    if verdict == "violation":
        assert r.invariant == "SoftDirtyRecorded"
        assert [s["action"] for s in r.trace[1:]].count("clear_refs_soft_dirty") == 2


def test_no_gup_threads_means_no_gup_actions():
    # GUP_THREADS = 0: the gup_* actions do not exist and the state has no GUP slots
    p = world("newest", [vma(backing="anon", prot="read")], gup=0)
    assert {a for a, _ in p.model.unavailable_actions} >= {"gup_start", "gup_follow", "gup_fault", "gup_abandon"}
    assert not any(n.startswith("gup") for n in p.model.slot_names())


@pytest.mark.parametrize("kernel,verdict", [("v5.15", "ok"), ("v5.16", "violation"), ("v6.0", "ok")])
def test_gup_with_continue_question(kernel, verdict):
    r = explorer.check(explorer.load(os.path.join(ROOT, "configs", "gup_shmem_minor.yaml"), {"KERNEL": kernel}))
    assert r.verdict == verdict
    if verdict == "violation":
        assert r.invariant == "PrivateStaysPrivate"
        assert [s["action"] for s in r.trace[1:]].count("uffdio_continue") == 2


# --- spec/kernels.yaml -------------------------------------------------------------------------

def test_kernel_labels_name_only_listed_commits_and_ids_are_real_or_marked():
    # every label lists keys of COMMITS; a key is either its own 12-digit id or a descriptive
    # label whose id is marked unconfirmed (no made-up ids)
    import re
    import yaml
    data = yaml.safe_load(open(os.path.join(ROOT, "spec", "kernels.yaml")))
    commits = data["constants"]["COMMITS"]
    assert set(data["sets"]["COMMIT_IDS"]) == set(commits)
    for label, keys in data["constants"]["KERNELS"].items():
        assert set(keys) <= set(commits), (label, set(keys) - set(commits))
    for key, c in commits.items():
        assert set(c) == {"id", "release", "title"}, key
        if re.fullmatch(r"[0-9a-f]{12}", key):
            assert c["id"] == key
        else:
            assert c["id"] == "unconfirmed" and not re.search(r"[0-9a-f]{12}", key), key
