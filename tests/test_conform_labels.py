"""The Debian labels: deriving a label's commit set from a package changelog."""

import os

import pytest
import yaml

from explorer.conform import labels, vm

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# A hand-written excerpt in the format of Debian's kernel changelogs (newest upload first).
EXCERPT = """\
linux (6.1.200-1) bookworm-security; urgency=high

  * New upstream stable update:
    https://www.kernel.org/pub/linux/kernel/v6.x/ChangeLog-6.1.200
    - Revert "mm/gup: make the example fix"
    - io_uring: something unrelated (CVE-2026-12345)

 -- A Maintainer <a@example.org>  Mon, 16 Nov 2026 11:17:40 +0100

linux (6.1.199-1) bookworm-security; urgency=high

  * New upstream stable update:
    https://www.kernel.org/pub/linux/kernel/v6.x/ChangeLog-6.1.199
    - mm/userfaultfd: enable writenotify while userfaultfd-wp is enabled for a
      VMA
    - mm/gup: make the example fix
    - mm/mprotect: a title that is only a prefix of a longer
      one that continues here
  * [amd64] a Debian-only change, not a stable commit

 -- A Maintainer <a@example.org>  Sun, 15 Nov 2026 11:17:40 +0100
"""

COMMITS = {
    "aaaa": {"title": "mm/userfaultfd: enable writenotify while userfaultfd-wp is enabled for a VMA", "release": "v6.2"},
    "bbbb": {"title": "mm/gup: make the example fix", "release": "v6.5"},
    "cccc": {"title": "mm/mprotect: a title that is only a prefix of a longer", "release": "v6.5"},
    "dddd": {"title": "io_uring: something unrelated", "release": "v6.9"},
    "eeee": {"title": "a commit the base label has", "release": "v9.9"},
}


def test_entries_join_wrapped_lines_and_drop_cve_notes():
    es = labels.entries(EXCERPT)
    assert es[0] == 'Revert "mm/gup: make the example fix"'
    assert "io_uring: something unrelated" in es
    assert "mm/userfaultfd: enable writenotify while userfaultfd-wp is enabled for a VMA" in es
    assert "mm/mprotect: a title that is only a prefix of a longer one that continues here" in es
    assert labels.upstream_version(EXCERPT) == "6.1.200"


def test_backports_match_whole_titles_and_a_newer_revert_removes_one():
    # by hand: aaaa is listed (wrapped), bbbb listed but reverted in the newer upload, cccc is
    # only a prefix of an entry, dddd is listed with a CVE note
    assert labels.backported(EXCERPT, COMMITS) == {"aaaa", "dddd"}
    assert labels.derive(EXCERPT, COMMITS, ["eeee"]) == ["aaaa", "dddd", "eeee"]


def _spec_kernels():
    with open(os.path.join(ROOT, "spec", "kernels.yaml")) as f:
        c = yaml.safe_load(f)["constants"]
    return c["COMMITS"], c["KERNELS"]


def test_mainline_is_every_commit_released_by_then():
    commits = {"a": {"release": "v6.0", "title": "x"}, "b": {"release": "v6.1", "title": "y"},
               "c": {"release": "v6.12", "title": "z"}, "d": {"release": "v6.2", "title": "w"}}
    assert labels.mainline(commits, "6.1.192") == {"a", "b"}
    assert labels.mainline(commits, "6.12.117") == {"a", "b", "c", "d"}
    # the excerpt says 6.1.200: mainline 6.1 plus its backports
    assert labels.derive(EXCERPT, dict(COMMITS, f={"release": "v6.1", "title": "t"}, g={"release": "v6.2", "title": "u"})) \
        == ["aaaa", "dddd", "f"]


def test_every_mainline_label_is_its_release_cutoff():
    commits, table = _spec_kernels()
    for label in ("v5.16", "v6.0", "v6.3", "v6.12"):
        if label in table:
            assert labels.mainline(commits, label[1:]) == set(table[label]), label


@pytest.mark.parametrize("label", ["debian-6.1.y", "debian-6.12.y"])
def test_debian_labels_are_their_changelogs_derivation(label):
    path = os.path.join(vm.CACHE, vm.DEBIAN[label])
    kernels = vm.cached_kernels()
    k = next((k for k in kernels if k.root == path), None)
    if k is None or k.changelog is None:
        pytest.skip(f"{vm.DEBIAN[label]} is not in the kernel cache (.ci/run fetches it)")
    commits, table = _spec_kernels()
    assert labels.derive(labels.read_changelog(k.changelog), commits) == table[label]
