"""Static types of the spec language and the finite domains of state slots."""

from __future__ import annotations


class T:
    """Base of all static types."""

    def leaf(self) -> bool:
        return True


class TBool(T):
    def __repr__(self):
        return "bool"

    def values(self):
        return [False, True]


class TInt(T):
    """An integer, bounded when both `lo` and `hi` are known (state slots always are)."""

    of_set = None  # the set this type was declared as (a `type: PAGE` slot), if any

    def __init__(self, lo=None, hi=None):
        self.lo = lo
        self.hi = hi

    def bounded(self) -> bool:
        return self.lo is not None and self.hi is not None

    def values(self):
        return list(range(self.lo, self.hi + 1))

    def __repr__(self):
        if self.bounded():
            return f"int {self.lo}..{self.hi}"
        return "int"


class TSym(T):
    """A symbol (enum value). `symbols` lists the allowed names in order, or None for 'any symbol'."""

    def __init__(self, symbols=None, name=None):
        self.symbols = list(symbols) if symbols is not None else None
        self.name = name

    def __repr__(self):
        if self.name:
            return self.name
        if self.symbols is not None:
            return "{" + ", ".join(self.symbols) + "}"
        return "symbol"


class TRec(T):
    """A record of leaf-typed fields, stored flat: one slot per field, in declaration order."""

    def __init__(self, name, fields):
        self.name = name
        self.fields = dict(fields)  # name -> leaf type
        self.index = {f: i for i, f in enumerate(self.fields)}

    def leaf(self) -> bool:
        return False

    def __repr__(self):
        return self.name


class TArr(T):
    """A state array indexed by the remaining finite sets (only state variables are arrays)."""

    def __init__(self, sets, elem):
        self.sets = list(sets)  # SetInfo objects
        self.elem = elem

    def leaf(self) -> bool:
        return False

    def __repr__(self):
        return f"array over {', '.join(s.name for s in self.sets)} of {self.elem!r}"


class TSet(T):
    """A finite set known when the model is compiled."""

    def __init__(self, elem):
        self.elem = elem

    def leaf(self) -> bool:
        return False

    def __repr__(self):
        return f"set of {self.elem!r}"


class TList(T):
    """A constant list (from `constants:`)."""

    def __init__(self, elem):
        self.elem = elem

    def leaf(self) -> bool:
        return False

    def __repr__(self):
        return f"list of {self.elem!r}"


class TMap(T):
    """A constant mapping (from `constants:`): fields known by name."""

    def __init__(self, fields):
        self.fields = dict(fields)

    def leaf(self) -> bool:
        return False

    def __repr__(self):
        return "mapping"


class TAny(T):
    """Type of a constant list element when the list is empty, or of mixed values."""

    def __repr__(self):
        return "any"


BOOL = TBool()
INT = TInt()
ANY = TAny()


def kind(t: T) -> str:
    """Coarse kind used for compatibility checks."""
    if isinstance(t, TBool):
        return "bool"
    if isinstance(t, TInt):
        return "int"
    if isinstance(t, TSym):
        return "symbol"
    if isinstance(t, TRec):
        return "record " + t.name
    if isinstance(t, TAny):
        return "any"
    return type(t).__name__


def compatible(a: T, b: T) -> bool:
    ka, kb = kind(a), kind(b)
    return ka == kb or ka == "any" or kb == "any"


class SetInfo:
    """A named finite set: its elements (runtime values) and the element type."""

    def __init__(self, name, values, elem_type, display):
        self.name = name
        self.values = list(values)
        self.elem_type = elem_type
        self.display = display  # element -> name for output
        self.position = {v: i for i, v in enumerate(self.values)}

    def __len__(self):
        return len(self.values)
