"""One conformance run: cases -> one static binary -> one boot -> agreement."""

from __future__ import annotations

import os
import subprocess
import tempfile

from ..errors import SpecError
from . import report, vm
from .program import program


def build(cases, out: str, race_seconds=5, timeout_s=20):
    src = out + ".c"
    with open(src, "w") as f:
        f.write(program(cases, timeout_s=timeout_s, race_seconds=race_seconds))
    r = subprocess.run(["gcc", "-static", "-O1", "-o", out, src, "-lpthread"], capture_output=True, text=True)
    if r.returncode:
        raise SpecError(None, f"gcc failed on the generated program {src}:\n{r.stderr[-2000:]}")
    return out


CHUNK = 1500  # cases per binary and boot: keeps gcc's input and each boot's run small


def conform(kernel, label, cases, race_seconds=2, log=None):
    """Run every performable case on the kernel; (agreement report, skipped [(case, why)])."""
    runnable = [c for c in cases if c.unsupported() is None]
    skipped = [(c, c.unsupported()) for c in cases if c.unsupported() is not None]
    texts = []
    for i in range(0, len(runnable), CHUNK):
        part = runnable[i:i + CHUNK]
        with tempfile.TemporaryDirectory() as tmp:
            binary = build(part, os.path.join(tmp, "conform"), race_seconds=race_seconds)
            races = sum(1 for c in part if c.is_race)
            texts.append(vm.boot(kernel, binary, timeout=90 + 0.2 * len(part) + (race_seconds + 1) * races))
    out = "".join(texts)
    if log:
        with open(log, "w") as f:
            f.write(out)
    return report.agreement(runnable, report.parse(out)), skipped
