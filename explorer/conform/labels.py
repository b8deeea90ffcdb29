"""A Debian stable kernel's label: the mainline label it is based on, plus every modeled commit
its package changelog lists as backported (and not reverted later).

Debian's changelog (/usr/share/doc/linux-image-*/changelog.Debian.gz) lists, per upload, the
subject lines of the upstream stable commits it takes ("  * New upstream stable update: ..." then
"    - subject" lines, long subjects wrapped onto indented continuation lines). A modeled commit is
in the package when its exact title is such an entry; a later entry `Revert "title"` takes it out
again (the changelog is newest first). The first line names the upstream version.
"""

from __future__ import annotations

import gzip
import re

_ENTRY = re.compile(r"^\s{4}- (.*)$")
_CONT = re.compile(r"^\s{6}(\S.*)$")
_HEAD = re.compile(r"^linux(?:-signed-amd64)? \(([0-9.]+)")
_REVERT = re.compile(r'^Revert "(.*)"$')


def entries(text: str) -> list[str]:
    """The changelog's "- subject" entries, wrapped lines joined, newest first; a trailing
    "(CVE-...)" or "(Closes: ...)" note is dropped."""
    out = []
    for line in text.splitlines():
        m = _ENTRY.match(line)
        if m:
            out.append(m.group(1).strip())
            continue
        c = _CONT.match(line)
        if c and out and not line.lstrip().startswith(("-", "*")):
            out[-1] += " " + c.group(1).strip()
    return [re.sub(r"\s*\((?:CVE-[0-9-]+|Closes: [^)]*)(?:, CVE-[0-9-]+)*\)$", "", e) for e in out]


def upstream_version(text: str) -> str | None:
    for line in text.splitlines():
        m = _HEAD.match(line)
        if m:
            return m.group(1)
    return None


def backported(text: str, commits: dict) -> set:
    """Keys of the modeled commits (key -> {title, ...}) whose title is a changelog entry that no
    newer `Revert "title"` entry undoes."""
    seen, reverted = set(), set()
    for e in entries(text):  # newest first
        r = _REVERT.match(e)
        if r:
            if r.group(1) not in seen:
                reverted.add(r.group(1))
            continue
        if e not in reverted:
            seen.add(e)
    return {k for k, c in commits.items() if c["title"] in seen}


def _release(v: str) -> tuple:
    return tuple(int(x) for x in re.findall(r"\d+", v)[:2])


def mainline(commits: dict, version: str) -> set:
    """The modeled commits of mainline release `version` (e.g. '6.1.192' -> every commit whose
    first release is v6.1 or older)."""
    top = _release(version)
    return {k for k, c in commits.items() if _release(c["release"]) <= top}


def derive(text: str, commits: dict, base_commits=None) -> list:
    """The label's commit list: mainline's for the changelog's upstream version (or the given
    base commits), plus the backported ones, in the order of `commits` (spec/kernels.yaml's)."""
    base = mainline(commits, upstream_version(text)) if base_commits is None else set(base_commits)
    want = base | backported(text, commits)
    return [k for k in commits if k in want]


def read_changelog(path: str) -> str:
    with gzip.open(path, "rt", errors="replace") as f:
        return f.read()
