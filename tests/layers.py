#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""tests/layers.py [BUILD]: the architecture rules of docs/HACKING.md, checked.

- every module in helper/ belongs to a layer of the table below;
- a file includes headers of its own layer or of layers below, never above;
- no two modules depend on each other, by include or (with BUILD, the dir of
  the objects) by the symbols their objects take from each other;
- only the commands layer includes log.h or verbs.h: nothing below logs or
  knows exit codes;
- files stay under 600 lines, functions under 80.
Prints one line per violation and exits 1 if there is any.
"""
import os
import re
import subprocess
import sys

LAYERS = {
    "support": ["util", "env", "fallback", "strv", "text", "json", "dlib", "log", "kapi"],
    "primitives": ["safedir", "saferm", "overlay", "lock", "ns", "caps", "mounttab", "mountsrc", "image", "loopdev"],
    "scanning": ["mntns", "mntns_proc", "mntns_pids", "mntns_table", "procfs", "holders", "holders_any", "loops", "swaps", "probe", "probe_class", "probe_many", "probe_pass", "watch", "image_users", "image_users_procs"],
    "engine": ["config", "config_file", "config_util", "config_values",
               "inst", "engine", "engine_status", "kind", "kind_overlay", "overlay_target",
               "overlay_setup", "overlay_teardown", "state", "image_layer", "image_setup", "image_teardown"],
    "commands": ["main", "cli", "report", "verbs", "cmd_lifecycle", "cmd_status", "cmd_probe",
                 "probe_output", "generator"],
}
ORDER = list(LAYERS)
LAYER_OF = {m: ORDER.index(layer) for layer, mods in LAYERS.items() for m in mods}
COMMANDS_ONLY = {"log", "verbs"}
MAX_FILE_LINES = 600
MAX_FUNCTION_LINES = 80

HELPER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "helper")
problems = []


def module(name):
    """A module is a .c and its .h; NAME_internal.h, shared by a module's own
    files, belongs to it."""
    mod = os.path.splitext(name)[0]
    return mod[:-len("_internal")] if mod.endswith("_internal") else mod


def find_cycle(graph):
    """Returns a list of modules forming a cycle, or None."""
    state = {}

    def visit(node, path):
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if state.get(nxt) is None:
                found = visit(nxt, path + [nxt])
                if found:
                    return found
        state[node] = 2
        return None

    for node in sorted(graph):
        if state.get(node) is None:
            found = visit(node, [node])
            if found:
                return found
    return None


def check_sources():
    graph = {}
    for name in sorted(os.listdir(HELPER)):
        if not name.endswith((".c", ".h")):
            continue
        mod = module(name)
        if mod not in LAYER_OF:
            problems.append(f"helper/{name}: module '{mod}' is in no layer (tests/layers.py)")
            continue
        with open(os.path.join(HELPER, name), encoding="utf-8") as f:
            text = f.read()
        lines = text.split("\n")
        if len(lines) > MAX_FILE_LINES:
            problems.append(f"helper/{name}: {len(lines)} lines (limit {MAX_FILE_LINES})")
        if not lines[0].startswith("/* SPDX-License-Identifier: LGPL-2.1-or-later */"):
            problems.append(f"helper/{name}: first line is not the SPDX line")
        start = None
        for i, line in enumerate(lines):
            if line == "{":
                start = i
            elif line == "}" and start is not None:
                if i - start - 1 > MAX_FUNCTION_LINES:
                    problems.append(f"helper/{name}:{start}: function of {i - start - 1} lines "
                                    f"(limit {MAX_FUNCTION_LINES})")
                start = None
        for inc in re.findall(r'^#include "([a-z_]+)\.h"', text, re.M):
            inc = module(inc)
            if inc == mod:
                continue
            if inc not in LAYER_OF:
                problems.append(f"helper/{name}: includes {inc}.h, which is in no layer")
                continue
            if LAYER_OF[inc] > LAYER_OF[mod]:
                problems.append(f"helper/{name} ({ORDER[LAYER_OF[mod]]}) includes {inc}.h "
                                f"({ORDER[LAYER_OF[inc]]}): an upward import")
            if inc in COMMANDS_ONLY and LAYER_OF[mod] != ORDER.index("commands"):
                problems.append(f"helper/{name} includes {inc}.h: only the commands layer logs "
                                f"and knows exit codes")
            graph.setdefault(mod, set()).add(inc)
    cycle = find_cycle(graph)
    if cycle:
        problems.append("include cycle: " + " -> ".join(cycle))


def check_objects(build):
    defined, undefined = {}, {}
    for name in sorted(os.listdir(build)):
        if not name.endswith(".o"):
            continue
        mod = module(name)
        out = subprocess.run(["nm", "--defined-only", "-g", os.path.join(build, name)],
                             capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3:
                defined[parts[2]] = mod
        out = subprocess.run(["nm", "-u", os.path.join(build, name)],
                             capture_output=True, text=True, check=True).stdout
        undefined[mod] = {line.split()[-1] for line in out.splitlines() if line.strip()}
    graph = {}
    for mod, syms in undefined.items():
        for sym in syms:
            other = defined.get(sym)
            if other and other != mod:
                graph.setdefault(mod, set()).add(other)
                if other in LAYER_OF and mod in LAYER_OF and LAYER_OF[other] > LAYER_OF[mod]:
                    problems.append(f"{mod}.o ({ORDER[LAYER_OF[mod]]}) uses {sym} of {other}.o "
                                    f"({ORDER[LAYER_OF[other]]}): an upward call")
    cycle = find_cycle(graph)
    if cycle:
        problems.append("link cycle: " + " -> ".join(cycle))


check_sources()
if len(sys.argv) > 1:
    check_objects(sys.argv[1])
for p in problems:
    print(p)
sys.exit(1 if problems else 0)
