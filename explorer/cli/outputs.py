"""Output files of a command: checked before the run, written after it, and never the reason a
computed result is lost. A write that fails after the run is reported in one line, the result
is saved in a temporary file that is named, and the command still exits with the verdict's code."""

from __future__ import annotations

import os
import tempfile

from ..render.output import check_writable


class Outputs:
    def __init__(self, err):
        self.err = err
        self.written = []
        self.failed = []

    def check(self, *flag_paths):
        """(flag, path) pairs whose path is None are not asked for; the others must be writable."""
        for flag, path in flag_paths:
            if path:
                check_writable(path, flag)

    def write(self, flag, path, fn):
        """Run fn() (which writes `path`); a failure is recorded, not raised."""
        try:
            fn()
        except OSError as e:
            self.failed.append((flag, path, e.strerror or str(e)))
            self.err.write(f"error: {flag} {path}: cannot write it: {e.strerror or e}\n")
        else:
            self.written.append(path)

    def finish(self, document: str | None, what="result", out=None):
        """After every output: save `document` (the result's JSON) when a write failed, and say
        on `out` (None: nowhere, as under --quiet) which files were written. Returns the saved
        file's name or None."""
        saved = None
        if self.failed and document is not None:
            fd, saved = tempfile.mkstemp(prefix=f"mm-explorer-{what}-", suffix=".json")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(document)
            hint = f" (`mm-explorer trace {saved}` draws its trace)" if what == "result" else ""
            self.err.write(f"note: the {what} is saved in {saved}{hint}\n")
        if self.written and out is not None:
            out.write("wrote: " + ", ".join(dict.fromkeys(self.written)) + "\n")
        return saved


class Direct:
    """Writes without the bookkeeping: a failure raises (for callers with nothing to lose)."""

    written = ()

    def write(self, flag, path, fn):
        fn()
