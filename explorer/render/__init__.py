"""Counterexamples and state graphs a reviewer can look at.

Its commands and check options live in explorer.cli.render_cmds:

- `check` options --trace-out FILE (.svg/.png/.pdf/.dot), --trace-json FILE, --itf FILE,
  --html FILE and --all-vars;
- `mm-explorer trace FILE.json [-o out.svg | --html out.html | --itf out.itf.json | --format mail]`;
- `mm-explorer graph CONFIG -o graph.svg [--project VAR,...] [--max-nodes N] [--params]`.

Everything renders from a result's plain data (see view.py), so a saved JSON re-renders the
same way. The whole-state graph is drawn from the networkx graph of explorer.graph.
"""
