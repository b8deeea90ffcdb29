"""Safe YAML loading that keeps the source position of every mapping key, item and scalar."""

from __future__ import annotations

import contextlib
import os
import stat

import yaml
from yaml.constructor import SafeConstructor

from ..errors import Pos, SpecError, did_you_mean

MAX_FILE_BYTES = 16 * 2**20  # size of one YAML file read
MAX_YAML_DEPTH = 100  # levels of nested mappings and lists
MAX_YAML_NODES = 1_000_000  # nodes of one document with its aliases expanded


class LStr(str):
    """A string from a YAML file, with the position of its text and a map back to the source."""

    pos: Pos
    node: object
    source: str

    def pos_at(self, offset: int) -> Pos:
        """Position in the file of character `offset` of this string's value."""
        return _offset_pos(self, offset)


class LDict(dict):
    """A mapping from a YAML file: `pos` is the mapping's, `key_pos[k]` / `val_pos[k]` each entry's."""

    pos: Pos
    key_pos: dict
    val_pos: dict


class LList(list):
    """A sequence from a YAML file: `pos` is the sequence's, `item_pos[i]` each item's."""

    pos: Pos
    item_pos: list


def _mark_pos(file: str, mark) -> Pos:
    return Pos(file, mark.line + 1, mark.column + 1)


def _offset_pos(s: LStr, offset: int) -> Pos:
    """Align the scalar's value with its raw source text and return the source position of a value char.

    Characters of the value are matched greedily against the raw text between the node's start and
    end marks; raw characters that do not appear in the value (quotes, indentation, line breaks of
    folded scalars) are skipped. Exact for plain, quoted and literal block scalars.
    """
    node = s.node
    src = s.source
    start = node.start_mark.index
    end = node.end_mark.index
    raw_i = start
    if node.style in ("|", ">"):
        # skip the indicator line
        nl = src.find("\n", start)
        raw_i = nl + 1 if nl >= 0 else start
    elif node.style in ("'", '"'):
        raw_i = start + 1
    val = str(s)
    vi = 0
    while vi < offset and raw_i < end:
        if src[raw_i] == val[vi]:
            vi += 1
            raw_i += 1
        elif val[vi] == "\n" or (val[vi] == " " and src[raw_i] in "\r\n"):
            # folded line break: skip raw whitespace up to the next line's text
            raw_i += 1
            while raw_i < end and src[raw_i] in " \t":
                raw_i += 1
            vi += 1
        else:
            raw_i += 1
    if node.style in ("|", ">"):
        # skip the indentation of the line we landed on
        while raw_i < end and src[raw_i] == " " and (vi >= len(val) or val[vi] != " "):
            raw_i += 1
    line = src.count("\n", 0, raw_i)
    col = raw_i - (src.rfind("\n", 0, raw_i) + 1)
    return Pos(s.pos.file, line + 1, col + 1)


class _Builder(SafeConstructor):
    def __init__(self, file: str, source: str):
        super().__init__()
        self.file = file
        self.source = source

    def build(self, node):
        file = self.file
        if isinstance(node, yaml.MappingNode):
            out = LDict()
            out.pos = _mark_pos(file, node.start_mark)
            out.key_pos = {}
            out.val_pos = {}
            self.flatten_mapping(node)
            for knode, vnode in node.value:
                key = self.build(knode)
                if isinstance(key, (LDict, LList)):
                    raise SpecError(_mark_pos(file, knode.start_mark), "a mapping key must be a scalar")
                if key in out:
                    raise SpecError(_mark_pos(file, knode.start_mark), f"duplicate key '{key}'")
                out[key] = self.build(vnode)
                out.key_pos[key] = _mark_pos(file, knode.start_mark)
                out.val_pos[key] = _mark_pos(file, vnode.start_mark)
            return out
        if isinstance(node, yaml.SequenceNode):
            out = LList()
            out.pos = _mark_pos(file, node.start_mark)
            out.item_pos = []
            for item in node.value:
                out.append(self.build(item))
                out.item_pos.append(_mark_pos(file, item.start_mark))
            return out
        value = self.construct_object(node, deep=True)
        if isinstance(value, str):
            s = LStr(value)
            s.pos = _mark_pos(file, node.start_mark)
            if node.style in ("'", '"'):
                s.pos = Pos(file, s.pos.line, s.pos.col + 1)
            s.node = node
            s.source = self.source
            return s
        if value is None or isinstance(value, (bool, int)):
            return value
        if isinstance(value, float):
            raise SpecError(_mark_pos(file, node.start_mark), "floating-point numbers are not allowed; every value is finite and discrete")
        raise SpecError(_mark_pos(file, node.start_mark), f"a value of YAML type {type(value).__name__} is not allowed here")


class _Composer(yaml.SafeLoader):
    """The safe loader's composer, bounded: nesting depth, and the size of the document with every
    alias expanded (counted on the shared nodes, so a billion-laughs file is refused at once)."""

    def __init__(self, text, file):
        super().__init__(text)
        self.file = file
        self.depth = 0
        self.sizes = {}  # id(node) -> nodes in its expansion

    def compose_node(self, parent, index):
        mark = self.peek_event().start_mark
        self.depth += 1
        if self.depth > MAX_YAML_DEPTH:
            raise SpecError(_mark_pos(self.file, mark), f"the YAML is nested more than {MAX_YAML_DEPTH} levels deep")
        node = super().compose_node(parent, index)
        self.depth -= 1
        size = self.sizes.get(id(node))
        if size is None:
            if isinstance(node, yaml.MappingNode):
                kids = [n for pair in node.value for n in pair]
            else:
                kids = node.value if isinstance(node, yaml.SequenceNode) else ()
            size = self.sizes[id(node)] = 1 + sum(self.sizes.get(id(k), 1) for k in kids)
            if size > MAX_YAML_NODES:
                raise SpecError(_mark_pos(self.file, node.start_mark),
                                f"this YAML node expands to more than {MAX_YAML_NODES:,} nodes (through aliases)")
        return node


def load_text(text: str, file: str):
    """Parse YAML text (safely: no Python tags) into LDict / LList / LStr / int / bool / None."""
    try:
        loader = _Composer(text, file)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        pos = _mark_pos(file, mark) if mark else Pos(file, 1, 1)
        problem = e.problem or e.context or "malformed YAML"
        raise SpecError(pos, f"malformed YAML: {problem}") from None
    except yaml.YAMLError as e:
        raise SpecError(Pos(file, 1, 1), f"malformed YAML: {e}") from None
    if node is None:
        return None
    try:
        return _Builder(file, text).build(node)
    except yaml.constructor.ConstructorError as e:
        mark = e.problem_mark or e.context_mark
        raise SpecError(_mark_pos(file, mark) if mark else Pos(file, 1, 1), f"malformed YAML: {e.problem}") from None


def load_file(path: str, shown_as: str | None = None):
    """Load a YAML file; positions name it as `shown_as` (default: the path as given)."""
    name = shown_as or path
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO must not block the open
    except FileNotFoundError:
        raise SpecError(None, f"{name}: no such file") from None
    except IsADirectoryError:
        raise SpecError(None, f"{name}: is a directory, not a YAML file") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise SpecError(None, f"{name}: is a directory, not a YAML file")
        if not stat.S_ISREG(mode):
            raise SpecError(Pos(name, 1, 1), "not a regular file (a device, FIFO or socket is not read)")
        chunks, size = [], 0
        while size <= MAX_FILE_BYTES:
            chunk = os.read(fd, MAX_FILE_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        data = b"".join(chunks)
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:
        raise SpecError(Pos(name, 1, 1), f"the file is larger than {MAX_FILE_BYTES // 2**20} MiB")
    try:
        text = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")  # as text mode reads it
    except UnicodeDecodeError:
        raise SpecError(Pos(name, 1, 1), "not a UTF-8 text file") from None
    if _reused is None:
        return load_text(text, name)
    key = (name, text)
    if key not in _reused:
        _reused[key] = load_text(text, name)
    return _reused[key]


_reused = None  # {(file, text): tree} inside reuse_parses()


@contextlib.contextmanager
def reuse_parses():
    """Within the block a file read again is not parsed again (the same tree comes back; the
    loader only reads trees): an open config loads the same spec once per world."""
    global _reused
    outer = _reused
    _reused = {} if outer is None else outer
    try:
        yield
    finally:
        _reused = outer


def pos_of(container, key, fallback: Pos | None = None) -> Pos | None:
    """Best position for `container[key]`'s value."""
    if isinstance(container, LDict) and key in container.val_pos:
        v = container[key]
        if isinstance(v, LStr):
            return v.pos
        return container.val_pos[key]
    if isinstance(container, LList) and isinstance(key, int) and key < len(container.item_pos):
        return container.item_pos[key]
    return fallback if fallback is not None else getattr(container, "pos", None)


def key_pos(container, key, fallback: Pos | None = None) -> Pos | None:
    if isinstance(container, LDict) and key in container.key_pos:
        return container.key_pos[key]
    return fallback if fallback is not None else getattr(container, "pos", None)


def check_keys(d, allowed, what):
    """Refuse a key of mapping `d` that is not in `allowed`, at the key, with a did-you-mean."""
    if not isinstance(d, dict):
        return
    for k in d:
        if k not in allowed:
            raise SpecError(key_pos(d, k), f"unknown key '{k}' in {what}" + did_you_mean(k, allowed) + f"; allowed: {', '.join(allowed)}")
