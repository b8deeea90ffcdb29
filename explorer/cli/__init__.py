"""The mm-explorer command line: main (check, list, lint), the trace and graph commands of the
rendering layer (render_cmds) and the diff command of the review layer (diff_cmd)."""
