"""Errors the tool reports to users: every one carries a source position and one sentence."""

from __future__ import annotations

import difflib

# Exit codes of the command line tool (documented in docs/results.md).
EXIT_OK = 0
EXIT_VIOLATION = 1
EXIT_BAD_INPUT = 2
EXIT_INCOMPLETE = 3
EXIT_REFUSED = 4  # the modelled kernel refuses the configuration (an `assume:` of the spec)


class Pos:
    """A position in a source file: 1-based line and column, like compilers print them."""

    __slots__ = ("file", "line", "col")

    def __init__(self, file: str, line: int, col: int):
        self.file = file
        self.line = line
        self.col = col

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    def __repr__(self) -> str:
        return f"Pos({self.file!r}, {self.line}, {self.col})"


class SpecError(Exception):
    """Bad input: a spec, config or command line the tool refuses. Exit code 2."""

    def __init__(self, pos: Pos | None, message: str):
        super().__init__(message)
        self.pos = pos
        self.message = message

    def __str__(self) -> str:
        if self.pos is None:
            return one_line(f"error: {self.message}")
        return one_line(f"{self.pos}: error: {self.message}")


def one_line(text: str) -> str:
    """Text as one printable line: a line break or control character from the input is escaped."""
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class Refused(SpecError):
    """A configuration the spec's assumptions reject (for an open config: a world to drop).
    `kernel`: the assumption is one the spec lists under `refusals:`, the modelled kernel's own
    check (e.g. a UFFDIO_REGISTER mode this version lacks): not bad input but an answer, verdict
    `refused`, exit code 4. Any other assumption is bad input (exit 2). `reason` is the
    assumption's message alone."""

    def __init__(self, pos: Pos | None, message: str, reason: str = "", kernel: bool = False):
        super().__init__(pos, message)
        self.reason = reason or message
        self.kernel = kernel


class LimitError(Exception):
    """A time or memory limit stopped loading before there was a result to report. Exit code 3."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return f"incomplete: {self.message}; nothing was explored"


def did_you_mean(name: str, candidates) -> str:
    """' (did you mean X?)' when a close candidate exists, else ''."""
    close = difflib.get_close_matches(str(name), [str(c) for c in candidates], n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""


class EvalError(Exception):
    """A runtime error while evaluating a spec (value out of domain, division by zero, ...).

    Raised by compiled spec code with the index of the source position that failed; the engine
    turns it into a reported error with the trace that led there.
    """

    def __init__(self, pos_index: int, message: str):
        super().__init__(message)
        self.pos_index = pos_index
        self.message = message
