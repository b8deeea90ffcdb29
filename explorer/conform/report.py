"""Reading the guest's TAP back and comparing it with the model's predictions.

The program prints, per case, one TAP line per step and a note for every observation or outcome
that differs from the prediction; the predictions themselves are in the cases, so the host counts
every check, agreeing or not, per case, per action and per observation.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict

_CASE = re.compile(r"^(not ok|ok) (\d+) - (\S+)")
_STEP = re.compile(r"^    (not ok|ok) (\d+) - (.*)$")
_OBS = re.compile(r"^    # obs step (\d+) (.+) predicted (\d) observed (\d)$")
_OUT = re.compile(r"^    # outcome step (\d+) (.+): (\S.*)$")
_RACE = re.compile(r"^    # race step (\d+) (hit after|never hit in) (\d+) attempts")
_START = re.compile(r"^    # case (\S+)$")


def parse(text: str) -> dict:
    """case name -> {ok, steps: {n: ok}, obs: {(n, label): (pred, got)}, outcomes: {n: what}, race}"""
    out, cur = {}, None
    for line in text.splitlines():
        line = line.rstrip("\r")
        if m := _START.match(line):
            cur = out.setdefault(m.group(1), {"ok": None, "steps": {}, "obs": {}, "outcomes": {}, "race": None})
        elif cur is not None and (m := _STEP.match(line)):
            cur["steps"][int(m.group(2))] = m.group(1) == "ok"
        elif cur is not None and (m := _OBS.match(line)):
            cur["obs"][(int(m.group(1)), m.group(2))] = (int(m.group(3)), int(m.group(4)))
        elif cur is not None and (m := _OUT.match(line)):
            cur["outcomes"].setdefault(int(m.group(1)), m.group(3))
        elif cur is not None and (m := _RACE.match(line)):
            cur["race"] = {"hit": m.group(2) == "hit after", "attempts": int(m.group(3))}
        elif m := _CASE.match(line):
            if m.group(3) in out:
                out[m.group(3)]["ok"] = m.group(1) == "ok"
    return out


def agreement(cases, observed: dict) -> dict:
    """Per case / action / observation: checks made and checks that agreed, and every disagreement."""
    per_action, per_obs = defaultdict(Counter), defaultdict(Counter)
    rows, disagreements, races = [], [], []
    for case in cases:
        got = observed.get(case.name)
        if got is None or got["ok"] is None:
            rows.append((case.name, "no result"))
            disagreements.append({"case": case.name, "origin": case.origin, "what": "no result (the case did not finish)",
                                  "world": case.world, "steps": [lb for _, _, lb in case.steps]})
            continue
        if got["race"] is not None:
            races.append({"case": case.name, "origin": case.origin, **got["race"]})
            rows.append((case.name, "race hit" if got["race"]["hit"] else "race never hit"))
            continue
        bad = []
        labels = ["initial"] + [a for a, _, _ in case.steps]
        for n, ok in sorted(got["steps"].items()):
            k = n - 1
            if k >= len(case.predictions):
                continue
            action = labels[k]
            done = n not in got["outcomes"]
            per_action[action]["steps"] += 1
            per_action[action]["agree"] += done
            if not done:
                bad.append((n, case.steps[k - 1][2] if k else "initial", "outcome", "done", got["outcomes"][n]))
                continue
            for label, name, _, value in case.predictions[k]:
                if not isinstance(value, bool):
                    continue
                res = got["obs"].get((n, label))
                per_obs[name]["checks"] += 1
                per_obs[name]["agree"] += res is None
                per_action[action]["checks"] += 1
                per_action[action]["checks_agree"] += res is None
                if res is not None:
                    bad.append((n, case.steps[k - 1][2] if k else "initial", label, res[0], res[1]))
        rows.append((case.name, "agree" if not bad else "disagree"))
        if bad:
            disagreements.append({"case": case.name, "origin": case.origin, "world": case.world,
                                  "steps": [lb for _, _, lb in case.steps],
                                  "differences": [{"step": n - 1, "after": s, "observation": o, "predicted": p, "observed": g}
                                                  for n, s, o, p, g in bad]})
    return {"cases": len(cases), "agree": sum(1 for _, r in rows if r == "agree"), "rows": rows,
            "per_action": {k: dict(v) for k, v in sorted(per_action.items())},
            "per_observation": {k: dict(v) for k, v in sorted(per_obs.items())},
            "disagreements": disagreements, "races": races}


def text(kernel_name: str, label: str, rep: dict) -> str:
    lines = [f"kernel {kernel_name} (label {label}): {rep['agree']} of {rep['cases']} cases agree"
             + (f", {len(rep['races'])} races" if rep["races"] else "")]
    lines.append("  per action: " + ", ".join(
        f"{a} {c.get('checks_agree', 0)}/{c.get('checks', 0)}" + ("" if c.get("agree") == c.get("steps") else f" (outcome {c.get('agree', 0)}/{c.get('steps', 0)})")
        for a, c in rep["per_action"].items()))
    lines.append("  per observation: " + ", ".join(f"{o} {c['agree']}/{c['checks']}" for o, c in rep["per_observation"].items()))
    for r in rep["races"]:
        lines.append(f"  race {r['case']} ({r['origin']}): " + (f"hit after {r['attempts']} attempts" if r["hit"] else f"never hit in {r['attempts']} attempts"))
    for d in rep["disagreements"][:20]:
        lines.append(f"  DISAGREE {d['case']} ({d['origin']}): world {d['world']['FILE']} {d['world']['VMAS']}")
        lines.append("    steps: " + "; ".join(d["steps"]))
        for x in d.get("differences", []):
            lines.append(f"    after step {x['step']} {x['after']}: {x['observation']} predicted {x['predicted']} observed {x['observed']}")
        if "what" in d:
            lines.append("    " + d["what"])
    if len(rep["disagreements"]) > 20:
        lines.append(f"  ... {len(rep['disagreements']) - 20} more disagreements (see --json)")
    return "\n".join(lines)
