"""The spec language: YAML with positions -> checked syntax -> names and types -> generated code.

yamlsrc (positions) -> syntax (allow-list) -> loader (names, types, slot layout) -> compiler
(expressions and statements to Python source) -> runtime (the generated module's globals);
config reads a question (a config file) on top of a spec; interp is an independent interpreter
of the same trees, used only to check the compiler.
"""
