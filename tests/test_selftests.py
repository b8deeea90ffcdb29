"""The in-scope checks of the kernel's mm selftests (tools/testing/selftests/mm), scenario by
scenario, as witness queries on v6.12 and newest.

Each scenario names the selftest file and function, builds the world the test builds (one page,
the VMA the test maps, the actions the test performs) and asks whether a state is reachable:
either the state the test's check rejects (expected: unreachable), or the state the test needs
to reach at all (expected: reachable, so the check is not vacuous). The expected answer is the
selftest's, except where the model predicts a different outcome for a kernel version; each such
case is listed in MODEL_DIFFERS with the kernel code that explains it (docs/selftests.md).
Scenarios the model cannot express are listed in docs/selftests.md.
"""

import os

import pytest

import explorer

from conftest import ROOT

SPEC = os.path.join(ROOT, "spec", "mm.yaml")
KERNELS = ["v6.12", "newest"]

ANON_RO = {"backing": "anon", "shared": False, "prot": "read", "uffd": []}
ANON_RW = {"backing": "anon", "shared": False, "prot": "read-write", "uffd": []}
ANON_WP = {"backing": "anon", "shared": False, "prot": "read-write", "uffd": ["wp"]}
ANON_FORK = dict(ANON_RW)
SHMEM_WP = {"backing": "file", "shared": True, "prot": "read-write", "uffd": ["wp"]}
SHMEM = {"kind": "shmem", "open": "read-write", "sealed": False}
DISK = {"kind": "fs", "open": "read-write", "sealed": False}


def world(vma, file=SHMEM, gup=0, features=(), start="any"):
    return {"VMAS": [vma], "FILE": file, "GUP_THREADS": gup, "UFFD_FEATURES": list(features),
            "START": start, "PAGES": 1, "FORK": vma is ANON_FORK}


# (selftest file, function, what the check says, world, actions, target, selftest's answer)
SCENARIOS = [
    # mkdirty.c: setting a pte dirty must not make it writable in a read-only VMA
    ("mkdirty.c", "test_ptrace_write", "the /proc/self/mem write lands in a fresh anonymous page",
     world(ANON_RO, gup=1), ["user_read", "gup_*"],
     "sd_written[0][0] and pte[0][0].page == anon", "reachable"),
    ("mkdirty.c", "test_ptrace_write", "a later store gets SIGSEGV: the dirty pte is not writable",
     world(ANON_RO, gup=1), ["user_read", "gup_*"],
     "pte[0][0].state == present and pte[0][0].write", "unreachable"),
    ("mkdirty.c", "test_page_migration", "the page is dirty and read-only before mbind(MPOL_MF_MOVE)",
     world(ANON_RW), ["user_write", "mprotect", "migrate_page"],
     "pte[0][0].state == present and pte[0][0].dirty and not vma[0].write", "reachable"),
    ("mkdirty.c", "test_page_migration", "after migration a store gets SIGSEGV: the rebuilt pte is not writable",
     world(ANON_RW), ["user_write", "mprotect", "migrate_page"],
     "pte[0][0].write and not vma[0].write", "unreachable"),
    ("mkdirty.c", "test_uffdio_copy", "UFFDIO_COPY places a page in the read-only VMA",
     world(dict(ANON_RO, uffd=["missing"])), ["uffdio_copy"],
     "pte[0][0].state == present and pte[0][0].page == anon", "reachable"),
    ("mkdirty.c", "test_uffdio_copy", "a store gets SIGSEGV: the placed pte is not writable",
     world(dict(ANON_RO, uffd=["missing"])), ["uffdio_copy"],
     "pte[0][0].write", "unreachable"),
    # soft-dirty.c
    ("soft-dirty.c", "test_simple", "written after clear_refs: pagemap says soft-dirty",
     world(ANON_RW), ["user_*", "clear_refs_soft_dirty"],
     "sd_written[0][0] and not vma[0].softdirty", "reachable"),
    ("soft-dirty.c", "test_simple", "'dirty bit was 0, but should be 1'",
     world(ANON_RW), ["user_*", "clear_refs_soft_dirty"],
     "sd_written[0][0] and not pagemap_soft_dirty(0, 0)", "unreachable"),
    ("soft-dirty.c", "test_simple", "'dirty bit was 1, but should be 0'",
     world(ANON_RW), ["user_*", "clear_refs_soft_dirty"],
     "not vma[0].softdirty and not sd_written[0][0] and pagemap_soft_dirty(0, 0)", "unreachable"),
    ("soft-dirty.c", "test_vma_reuse", "the kernel marks a new region soft-dirty",
     world(ANON_RW), ["user_*"],
     "not pagemap_soft_dirty(0, 0)", "unreachable"),
    ("soft-dirty.c", "test_mprotect_anon", "soft-dirty clear after clear_refs and after marking RO / RW",
     world(ANON_RW), ["user_*", "clear_refs_soft_dirty", "mprotect"],
     "not vma[0].softdirty and not sd_written[0][0] and pagemap_soft_dirty(0, 0)", "unreachable"),
    ("soft-dirty.c", "test_mprotect_anon", "soft-dirty after rewritten",
     world(ANON_RW), ["user_*", "clear_refs_soft_dirty", "mprotect"],
     "sd_written[0][0] and not pagemap_soft_dirty(0, 0)", "unreachable"),
    ("soft-dirty.c", "test_mprotect_file", "soft-dirty clear after clear_refs and after marking RO / RW",
     world({"backing": "file", "shared": True, "prot": "read-write", "uffd": []}, file=DISK),
     ["user_*", "clear_refs_soft_dirty", "mprotect"],
     "not vma[0].softdirty and not sd_written[0][0] and pagemap_soft_dirty(0, 0)", "unreachable"),
    ("soft-dirty.c", "test_mprotect_file", "soft-dirty after rewritten",
     world({"backing": "file", "shared": True, "prot": "read-write", "uffd": []}, file=DISK),
     ["user_*", "clear_refs_soft_dirty", "mprotect"],
     "sd_written[0][0] and not pagemap_soft_dirty(0, 0)", "unreachable"),
    # uffd-wp-mremap.c, test_one_folio with base pages (private / shared x swapout or not)
    ("uffd-wp-mremap.c", "test_one_folio(private=true, swapout=false)", "uffd-wp set for all PTEs before the move",
     world(ANON_WP), ["user_write", "uffdio_writeprotect", "mremap_move"],
     "vma[0].uffd_ctx and pte[0][0].state == present and pagemap_uffd_wp(0, 0)", "reachable"),
    ("uffd-wp-mremap.c", "test_one_folio(private=true, swapout=false)", "uffd-wp cleared for all PTEs after the move",
     world(ANON_WP), ["user_write", "uffdio_writeprotect", "mremap_move"],
     "not vma[0].uffd_ctx and pagemap_uffd_wp(0, 0)", "unreachable"),
    ("uffd-wp-mremap.c", "test_one_folio(private=true, swapout=true)", "uffd-wp set in the swap pte before the move",
     world(ANON_WP), ["user_write", "uffdio_writeprotect", "madvise_pageout", "mremap_move"],
     "vma[0].uffd_ctx and pte[0][0].state == swap and pagemap_uffd_wp(0, 0)", "reachable"),
    ("uffd-wp-mremap.c", "test_one_folio(private=true, swapout=true)", "uffd-wp cleared for all PTEs after the move",
     world(ANON_WP), ["user_write", "uffdio_writeprotect", "madvise_pageout", "mremap_move"],
     "not vma[0].uffd_ctx and pagemap_uffd_wp(0, 0)", "unreachable"),
    ("uffd-wp-mremap.c", "test_one_folio(private=false, swapout=false)", "uffd-wp cleared for all PTEs after the move",
     world(SHMEM_WP), ["user_write", "uffdio_writeprotect", "mremap_move"],
     "not vma[0].uffd_ctx and pagemap_uffd_wp(0, 0)", "unreachable"),
    ("uffd-wp-mremap.c", "test_one_folio(private=false, swapout=true)", "the paged-out shmem pte leaves a uffd-wp marker",
     world(SHMEM_WP), ["user_write", "uffdio_writeprotect", "reclaim", "mremap_move"],
     "vma[0].uffd_ctx and pte[0][0].state == marker and pagemap_uffd_wp(0, 0)", "reachable"),
    ("uffd-wp-mremap.c", "test_one_folio(private=false, swapout=true)", "uffd-wp cleared for all PTEs after the move",
     world(SHMEM_WP), ["user_write", "uffdio_writeprotect", "reclaim", "mremap_move"],
     "not vma[0].uffd_ctx and pagemap_uffd_wp(0, 0)", "unreachable"),
    # uffd-unit-tests.c (non-hugetlb)
    ("uffd-unit-tests.c", "uffd_wp_unpopulated_test", "applying a pte marker to anon unpopulated",
     world(ANON_WP, features=["wp_unpopulated"]), ["user_*", "uffdio_writeprotect", "madvise_dontneed"],
     "pte[0][0].state == marker and pagemap_uffd_wp(0, 0)", "reachable"),
    ("uffd-unit-tests.c", "uffd_wp_unpopulated_test", "a read fault on the marker keeps uffd-wp (zero page)",
     world(ANON_WP, features=["wp_unpopulated"]), ["user_*", "uffdio_writeprotect", "madvise_dontneed"],
     "pte[0][0].page == zero and pagemap_uffd_wp(0, 0)", "reachable"),
    ("uffd-unit-tests.c", "uffd_wp_unpopulated_test", "no write reaches the protected address without a WP fault",
     world(ANON_WP, features=["wp_unpopulated"]), ["user_*", "uffdio_writeprotect", "madvise_dontneed"],
     "wp_broken[0][0] or (pte[0][0].uffd_wp and pte[0][0].write)", "unreachable"),
    ("uffd-unit-tests.c", "uffd_wp_unpopulated_test", "zap on the anon marker clears it",
     world(ANON_WP, features=["wp_unpopulated"]), ["uffdio_writeprotect", "madvise_dontneed"],
     "pte[0][0].state == marker and not wp_protected[0][0]", "unreachable"),
    ("uffd-unit-tests.c", "uffd_pagemap_test", "MADV_PAGEOUT keeps the uffd-wp bit in the swap pte",
     world(ANON_WP), ["user_write", "uffdio_writeprotect", "madvise_pageout"],
     "pte[0][0].state == swap and pagemap_uffd_wp(0, 0)", "reachable"),
    ("uffd-unit-tests.c", "uffd_pagemap_test", "a protected page never loses its bit in swap",
     world(ANON_WP), ["user_write", "uffdio_writeprotect", "madvise_pageout"],
     "pte[0][0].state == swap and wp_protected[0][0] and not pte[0][0].uffd_wp", "unreachable"),
    ("uffd-unit-tests.c", "uffd_zeropage_test", "UFFDIO_ZEROPAGE maps the zero page",
     world(dict(ANON_RW, uffd=["missing"])), ["uffdio_zeropage", "user_read"],
     "pte[0][0].state == present and pte[0][0].page == zero", "reachable"),
    ("uffd-unit-tests.c", "uffd_minor_test", "UFFDIO_CONTINUE maps the page-cache page",
     world({"backing": "file", "shared": True, "prot": "read-write", "uffd": ["minor"]}, start="populated"),
     ["user_read", "uffdio_continue", "file_write"],
     "pte[0][0].state == present and pte[0][0].page == cache", "reachable"),
    ("uffd-unit-tests.c", "uffd_minor_test", "the minor fault never maps anything but the cached page",
     world({"backing": "file", "shared": True, "prot": "read-write", "uffd": ["minor"]}, start="populated"),
     ["user_read", "uffdio_continue", "file_write"],
     "pte[0][0].state == present and pte[0][0].page != cache", "unreachable"),
    # cow.c, anonymous memory with base pages (fork; read-only pins; vmsplice)
    ("cow.c", "test_cow_in_parent", "the child does not see the parent's modification",
     world(ANON_FORK), ["user_write", "fork"], "cow_leak[0][0]", "unreachable"),
    ("cow.c", "test_cow_in_parent", "the parent's modification copies the shared page",
     world(ANON_FORK), ["user_write", "fork"],
     "forked and pte[0][0].write and not shared[0][0] and cpte[0][0].page == anon", "reachable"),
    ("cow.c", "test_cow_in_child", "the parent does not see the child's modification",
     world(ANON_FORK), ["user_write", "fork", "child_write"], "cow_leak[0][0]", "unreachable"),
    ("cow.c", "test_cow_in_parent_mprotect", "mprotect(PROT_READ) then RW does not let the parent write the shared page",
     world(ANON_FORK), ["user_write", "fork", "mprotect"],
     "cow_leak[0][0] or (shared[0][0] and pte[0][0].write)", "unreachable"),
    ("cow.c", "test_vmsplice_in_child", "the child's pipe does not see the parent's modification",
     world(ANON_FORK), ["user_write", "fork", "child_vmsplice", "child_dontneed", "child_write"],
     "cow_leak[0][0]", "unreachable"),
    ("cow.c", "test_vmsplice_in_child", "the child's reference is on the parent's page before the write",
     world(ANON_FORK), ["user_write", "fork", "child_vmsplice", "child_dontneed", "child_write"],
     "cref_parent[0][0] and not shared[0][0]", "reachable"),
    ("cow.c", "test_ro_pin_on_shared", "a longterm R/O pin of a shared page sees the parent's modification",
     world(ANON_FORK), ["user_write", "fork", "pin_ro"], "pin_missed[0][0]", "unreachable"),
    ("cow.c", "test_ro_pin_on_shared", "the pin is taken after fork on the shared page",
     world(ANON_FORK), ["user_write", "fork", "pin_ro"], "forked and ppin[0][0] == current", "reachable"),
    ("cow.c", "test_ro_pin_on_ro_previously_shared", "the child went away; the pin sees the modification",
     world(ANON_FORK), ["user_write", "fork", "child_dontneed", "pin_ro"], "pin_missed[0][0]", "unreachable"),
    ("cow.c", "test_ro_pin_on_ro_exclusive", "an R/O-mapped exclusive page: the pin sees the modification",
     world(ANON_FORK), ["user_write", "mprotect", "pin_ro"], "pin_missed[0][0]", "unreachable"),
]

# Where the model predicts something else than the selftest expects, by (function, check,
# kernel), with the reason (docs/selftests.md has the kernel code).
MODEL_DIFFERS = {
    # v6.12 as released (6.12.0): mm/mremap.c move_ptes does not clear the uffd-wp bits when
    # mremap_userfaultfd_prep dropped the registration; 0cef0bb836e3 (v6.13, 6.12.11) does.
    (fn, check, "v6.12"): "reachable"
    for (_, fn, check, _w, _a, _t, _e) in SCENARIOS
    if fn.startswith("test_one_folio") and check == "uffd-wp cleared for all PTEs after the move"
}


def _id(s):
    return f"{s[0]}:{s[1]}:{s[2]}"


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=[_id(s) for s in SCENARIOS])
def test_selftest_scenario(scenario, kernel):
    _file, fn, check, constants, actions, target, expected = scenario
    expected = MODEL_DIFFERS.get((fn, check, kernel), expected)
    problem = explorer.load(SPEC, dict(constants, KERNEL=kernel), actions=actions, reach=[target])
    result = explorer.check(problem)
    assert result.verdict == expected, (target, result.verdict)


def test_every_difference_names_a_scenario():
    keys = {(fn, check) for (_, fn, check, *_rest) in SCENARIOS}
    assert MODEL_DIFFERS and all((fn, check) in keys for (fn, check, _k) in MODEL_DIFFERS)
