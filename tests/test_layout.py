"""The layout of explorer/: imports point down the layers of docs/architecture.md, and no module
reaches into another package's private names."""

import ast
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PKG = os.path.join(ROOT, "explorer")

# bottom to top; a module may import from its own unit and from units below it
LAYERS = [("errors", "types", "version", "machine"), ("model",), ("lang",), ("checker",), ("analysis",), ("result",),
          ("api",), ("report",), ("render",), ("review",), ("conform",), ("cli",)]
RANK = {unit: r for r, units in enumerate(LAYERS) for unit in units}
TOP = len(LAYERS)  # explorer/__init__.py and __main__.py: the public facade


def modules():
    for dirpath, _, files in os.walk(PKG):
        for f in files:
            if f.endswith(".py"):
                path = os.path.join(dirpath, f)
                rel = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
                yield path, rel[:-len(".__init__")] if rel.endswith(".__init__") else rel


def unit_of(mod):
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 else None


def rank_of(mod):
    u = unit_of(mod)
    return TOP if u in (None, "__main__") else RANK[u]


def imports(path, mod):
    """(line, imported module, names) of every import in a file, lazy ones included."""
    is_pkg = path.endswith("__init__.py")
    pkg = mod.split(".") if is_pkg else mod.split(".")[:-1]
    tree = ast.parse(open(path).read())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg[:len(pkg) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target == "explorer" or target.startswith("explorer."):
                names = [a.name for a in node.names]
                # `from . import x` names a module when x is one
                for n in names:
                    sub = f"{target}.{n}"
                    if os.path.exists(os.path.join(ROOT, *sub.split(".")) + ".py") or \
                            os.path.isdir(os.path.join(ROOT, *sub.split("."))):
                        yield node.lineno, sub, []
                    else:
                        yield node.lineno, target, [n]
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("explorer"):
                    yield node.lineno, a.name, []


def test_every_unit_has_a_layer():
    units = {unit_of(m) for _, m in modules()} - {None, "__main__"}
    assert units <= set(RANK), f"units without a layer: {units - set(RANK)}"


def test_imports_point_down():
    bad = []
    for path, mod in modules():
        r = rank_of(mod)
        for line, target, _ in imports(path, mod):
            if target == "explorer":
                if r != TOP:
                    bad.append(f"{mod}:{line} imports the facade explorer")
                continue
            if unit_of(target) != unit_of(mod) and rank_of(target) > r:
                bad.append(f"{mod}:{line} imports {target} from a layer above")
    assert not bad, "\n".join(bad)


def test_no_private_names_across_packages():
    bad = []
    for path, mod in modules():
        for line, target, names in imports(path, mod):
            if unit_of(target) == unit_of(mod) and unit_of(mod) is not None:
                continue
            if any(part.startswith("_") and part != "__init__" for part in target.split(".")):
                bad.append(f"{mod}:{line} imports the private module {target}")
            bad += [f"{mod}:{line} imports the private name {target}.{n}" for n in names
                    if n.startswith("_") and n != "__version__"]
    assert not bad, "\n".join(bad)


def test_the_layer_table_is_the_one_in_the_docs():
    doc = open(os.path.join(ROOT, "docs", "architecture.md")).read()
    block = doc.split("```")[1]
    named = re.findall(r"explorer/([a-z_]+)", block)
    order = []
    for n in named:
        if n in RANK and n not in order:
            order.append(n)
    # the docs draw the layers top to bottom
    assert [RANK[n] for n in order] == sorted((RANK[n] for n in order), reverse=True), order
    assert set(order) == set(RANK), set(RANK) - set(order)
