"""What every command shares: the config arguments, the limits, colour, --set parsing."""

from __future__ import annotations

import argparse
import sys

from ..errors import EXIT_BAD_INPUT, Pos, SpecError


class Parser(argparse.ArgumentParser):
    """Usage errors exit 2 (bad input), like every other refusal of the command line."""

    def error(self, message):
        self.print_usage(sys.stderr)
        sys.stderr.write(f"mm-explorer: error: {message}\n")
        raise SystemExit(EXIT_BAD_INPUT)


def add_config_args(p):
    p.add_argument("config", help="a config file, or the name of a shipped config (mm-explorer configs lists them)")
    p.add_argument("--set", action="append", metavar="NAME=VALUE", help="override a constant (value in YAML)")
    p.add_argument("--invariant", action="append", metavar="NAME", help="check only these invariants (repeatable, globs)")
    p.add_argument("--action", action="append", metavar="NAME", help="enable only these actions (repeatable, globs)")


def add_limits(p, each=""):
    """--max-states, --max-depth, --timeout, --max-memory; `each`: who they apply to ("a side")."""
    who = each or "the search"
    p.add_argument("--max-states", type=int, metavar="N", help=f"stop {who} after N distinct states (exit 3)")
    p.add_argument("--max-depth", type=int, metavar="N", help="do not explore beyond N steps (exit 3 if cut)")
    p.add_argument("--timeout", type=float, metavar="SECONDS", help=f"stop {who} after this long (exit 3)")
    p.add_argument("--max-memory", type=int, metavar="MIB", help="stop when resident memory reaches this (exit 3)")


def add_color(p, what="the report"):
    p.add_argument("--color", dest="color", action="store_true", default=None,
                   help=f"colour {what} (default: when the output is a terminal and NO_COLOR is not set)")
    p.add_argument("--no-color", dest="color", action="store_false", help="no colour")


def refuse_negative(args, names):
    for k in names:
        v = getattr(args, k, None)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v < 0:
            raise SpecError(None, f"--{k.replace('_', '-')} must not be negative")


def set_pairs(items, flag="--set") -> dict:
    """NAME=VALUE strings (VALUE read as YAML, so 2, true, v5.16, [a, b] all work) ->
    {name: (value, Pos)}, positions naming the flag."""
    from ..lang import yamlsrc
    out = {}
    for item in items or []:
        if "=" not in item:
            raise SpecError(Pos(f"<{flag} {item}>", 1, 1), f"{flag} {item}: write NAME=VALUE")
        name, text = item.split("=", 1)
        name = name.strip()
        value = yamlsrc.load_text(text, f"<{flag} {name}>") if text.strip() else None
        if value is None:
            raise SpecError(Pos(f"<{flag} {item}>", 1, 1), f"{flag} {name}: give a value")
        out[name] = (value, Pos(f"<{flag} {item}>", 1, len(name) + 2))
    return out


def patterns(values, flag):
    if not values:
        return None
    return [(v, Pos(f"<{flag} {v}>", 1, 1)) for v in values]


def load_problem(args):
    from ..api import load
    limits = {k: getattr(args, k, None) for k in ("timeout", "max_memory")}  # loading runs under them too
    return load(args.config, set_pairs(args.set), patterns(args.action, "--action"),
                patterns(args.invariant, "--invariant"),
                check={k: v for k, v in limits.items() if v is not None} or None,
                reach=getattr(args, "reach", None), expect=getattr(args, "expect", None))
