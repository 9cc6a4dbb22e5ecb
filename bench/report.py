#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turns the guest's raw cells into the benchmark's results.

report.py --raw RAW.jsonl --env ENV.json --json OUT.json --md OUT.md
          [--topology intra|inter] [--plots DIR] [--guest-status N]
          [--guest-result TEXT]

One topology's run: OUT.json holds every raw figure, the medians and
spreads and the ratios to TCP; OUT.md is the table people read; DIR gets
TOPOLOGY-latency.png and TOPOLOGY-throughput.png (gnuplot).  Every expected
cell that has no good figure is listed as missing, with the reason (an
invalid cell, one whose counters say it did not use its path, is listed
as such), and so is every path the guest could not set up.  Exits 1 when
a path of tsor's or TCP's could not be set up, when a cell of a path that
was set up is missing or invalid, or when the guests or a plot failed; 0
otherwise.  SMC-R, the kernel's peer, may be missing without failing, and
no ratio ever fails.
"""
import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

PATHS = ["tcp", "shm", "rdma", "smc"]
PATH_NAMES = {"tcp": "TCP", "shm": "tsor shm", "rdma": "tsor rdma",
              "smc": "SMC-R"}
# Paths that fail the run when they cannot be set up: ours and the baseline.
REQUIRED = ["tcp", "shm", "rdma"]

SETUP = {
    "intra": (
        "Software-emulated, intra-node: one QEMU TCG guest ({cpus} vCPUs, "
        "kernel {kernel}, tsor {commit}) on a 2-core machine shared with "
        "other work; two pod namespaces on a Linux bridge, rxe0 (Soft-RoCE) "
        "on the bridge. tsor rdma is tsor's RDMA path between two pods of "
        "one node (`tsorctl dev set local-path rdma`, rxe0 loopback). "
        "SMC-R runs host-network, on the node's address."),
    "inter": (
        "Software-emulated, inter-node: two QEMU TCG guests ({cpus} vCPU "
        "each, kernel {kernel}, tsor {commit}) on a 2-core machine shared "
        "with other work, joined by a QEMU socket netdev over UDP on eth0; a pod on "
        "each node, the client on node 1's, the server on node 2's, over a "
        "VXLAN overlay as flannel's vxlan backend builds it (TCP); rxe0 "
        "(Soft-RoCE) on each node's eth0 for tsor rdma and SMC-R. SMC-R "
        "runs host-network, between the nodes' own addresses (rxe lives "
        "in the initial namespace only on this kernel), so it skips the "
        "overlay the TCP and tsor cells' handshakes cross."),
}

# workload -> [(metric, label, higher_is_better)]
METRICS = {
    "sockperf-64": [("p50_us", "p50 latency (us)", False),
                    ("p99_us", "p99 latency (us)", False),
                    ("p999_us", "p99.9 latency (us)", False)],
    "sockperf-4k": [("p50_us", "p50 latency (us)", False),
                    ("p99_us", "p99 latency (us)", False),
                    ("p999_us", "p99.9 latency (us)", False)],
    "iperf3-1": [("gbit_s", "throughput (Gbit/s)", True),
                 ("cpu_s_per_gib", "guest CPU s per GiB", False)],
    "iperf3-4": [("gbit_s", "throughput (Gbit/s)", True),
                 ("cpu_s_per_gib", "guest CPU s per GiB", False)],
    "redis-1": [("set_rps", "SET requests/s", True),
                ("get_rps", "GET requests/s", True),
                ("set_p50_us", "SET p50 latency (us)", False),
                ("get_p50_us", "GET p50 latency (us)", False)],
    "redis-50": [("set_rps", "SET requests/s", True),
                 ("get_rps", "GET requests/s", True)],
    "http": [("req_s", "requests/s", True),
             ("p50_us", "p50 latency (us)", False),
             ("p99_us", "p99 latency (us)", False),
             ("cpu_s_per_gib", "guest CPU s per GiB", False)],
    "connrate": [("conn_s", "connections/s", True),
                 ("paired_pct", "connections over the path (%)", True)],
}
WORKLOAD_NAMES = {
    "sockperf-64": "sockperf ping-pong 64 B",
    "sockperf-4k": "sockperf ping-pong 4 KiB",
    "iperf3-1": "iperf3, 1 stream",
    "iperf3-4": "iperf3, 4 streams",
    "redis-1": "redis-benchmark, 1 client",
    "redis-50": "redis-benchmark, 50 clients",
    "http": "Node.js HTTP 64 KiB, wrk 8 conns",
    "connrate": "connect+accept+close (connrate)",
}

# Issue 4's targets for tsor shm against TCP: (workload, metric, op, bound)
TARGETS = [
    ("redis-1", "set_rps", ">=", 2.5), ("redis-1", "get_rps", ">=", 2.5),
    ("redis-50", "set_rps", ">=", 2.5), ("redis-50", "get_rps", ">=", 2.5),
    ("sockperf-64", "p50_us", "<=", 0.35),
    ("iperf3-1", "gbit_s", ">=", 3.0),
]


def load_raw(path):
    cells = []
    if not os.path.exists(path):
        return cells
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                cells.append(json.loads(line))
            except json.JSONDecodeError:
                pass    # a line cut short by a dying guest
    return cells


def derive(cell):
    """Adds figures computed from others (CPU seconds per GiB)."""
    m = cell.get("metrics")
    if not isinstance(m, dict):
        return
    # wrk records no latency for requests past its 2 s timeout (counted
    # as socket errors): with none under it, its percentiles read 0,
    # which is no figure.
    if cell.get("workload") == "http" and not m.get("p50_us") and \
            not m.get("p99_us"):
        m["p50_us"] = m["p99_us"] = None
    # connrate over tsor or SMC-R: how many of its connections the
    # counters saw take the path (the others fell back to TCP).
    proof = cell.get("proof") or {}
    paired = proof.get("conn_paired", proof.get("smcr_conns"))
    if cell.get("workload") == "connrate" and m.get("conns") and \
            paired is not None:
        m["paired_pct"] = min(100.0, 100.0 * paired / m["conns"])
    cpu = cell.get("cpu_busy_s")
    if cpu is not None and m.get("bytes"):
        m["cpu_s_per_gib"] = cpu / (m["bytes"] / 2**30)


def summarize(cells, workloads, paths):
    summary = {}
    for wl in workloads:
        for metric, _, _ in METRICS.get(wl, []):
            for p in paths:
                vals = [c["metrics"][metric] for c in cells
                        if c["workload"] == wl and c["path"] == p and c["ok"]
                        and isinstance(c.get("metrics"), dict)
                        and c["metrics"].get(metric) is not None]
                if not vals:
                    continue
                med = statistics.median(vals)
                summary.setdefault(wl, {}).setdefault(metric, {})[p] = {
                    "median": med, "min": min(vals), "max": max(vals),
                    "n": len(vals), "values": vals,
                    "spread_pct": (100.0 * (max(vals) - min(vals)) / med
                                   if med else None),
                }
    return summary


def ratios(summary):
    out = {}
    for wl, metrics in summary.items():
        for metric, per_path in metrics.items():
            base = per_path.get("tcp", {}).get("median")
            if not base:
                continue
            for p, s in per_path.items():
                if p != "tcp":
                    out.setdefault(wl, {}).setdefault(metric, {})[p] = \
                        s["median"] / base
    return out


def paired_ratios(cells, summary):
    """Per repetition, path / TCP of the cells measured side by side: under
    a load that drifts during the run these say more than the ratio of the
    medians alone."""
    out = {}
    for wl, metrics in summary.items():
        for metric, per_path in metrics.items():
            for p in per_path:
                if p == "tcp":
                    continue
                rs = []
                for c in cells:
                    if c["workload"] != wl or c["path"] != p or not c["ok"]:
                        continue
                    base = [t for t in cells if t["workload"] == wl and
                            t["path"] == "tcp" and t["rep"] == c["rep"] and
                            t["ok"]]
                    if not base:
                        continue
                    b = base[0]["metrics"].get(metric)
                    v = c["metrics"].get(metric)
                    if b and v is not None:
                        rs.append(v / b)
                if rs:
                    out.setdefault(wl, {}).setdefault(metric, {})[p] = rs
    return out


def fmt(v):
    if v is None:
        return "-"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    if abs(v) >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def markdown(env, summary, rat, pr, missing, paths, workloads, guest):
    # A path this boot could not set up gets no columns: "Missing" says why.
    # (one that stopped part-way keeps what it measured).
    shown = [p for p in paths if p != "tcp" and
             (p not in env.get("missing", {}) or
              any(p in per for m in summary.values() for per in m.values()))]
    lines = []
    started = env.get("started", "?")
    topo = env.get("topology", "intra")
    lines.append(f"# tsor benchmark: {topo}-node, {started}")
    lines.append("")
    lines.append(
        SETUP.get(topo, SETUP["intra"]).format(
            cpus=env.get("cpus", "?"), kernel=env.get("kernel", "?"),
            commit=env.get("commit", "?")) +
        " Absolute figures say nothing about real hardware; only "
        "the ratios between paths measured in this same boot mean "
        "something. Each figure is the median of "
        f"{env.get('reps', '?')} repetitions of {env.get('seconds', '?')} s, "
        "± half their range ((max - min) / 2 / median), paths interleaved "
        "cell by cell. "
        "Ratios are path / TCP: above 1 is better for throughput, below 1 "
        "for latency and CPU; \"per repetition\" gives the ratio of each "
        "repetition's two cells, measured one right after the other. "
        "sockperf latency is its one-way figure (round trip / 2). "
        "Every tsor cell was checked against tsor's counters (its bytes "
        "went over the path it claims, none over TCP, no fallback; "
        "connrate moves no byte and shows the share of its connections "
        "that took the path), every SMC-R cell against SMC's; a cell that "
        "failed the check is listed as invalid under Missing, not counted.")
    lines.append("")
    head = "| workload | metric | TCP |"
    sep = "|---|---|---|"
    for p in shown:
        head += (f" {PATH_NAMES[p]} | {PATH_NAMES[p]} / TCP |"
                 " per repetition |")
        sep += "---|---|---|"
    lines += [head, sep]
    for wl in workloads:
        for metric, label, _ in METRICS.get(wl, []):
            per = summary.get(wl, {}).get(metric, {})

            def cellstr(p):
                s = per.get(p)
                if not s and metric == "paired_pct" and p == "tcp":
                    return "n/a"
                if not s:
                    return "missing"
                sp = s["spread_pct"]
                return fmt(s["median"]) + (f" ±{sp / 2:.0f}%"
                                           if sp is not None and s["n"] > 1
                                           else "")
            row = f"| {WORKLOAD_NAMES.get(wl, wl)} | {label} | {cellstr('tcp')} |"
            for p in shown:
                r = rat.get(wl, {}).get(metric, {}).get(p)
                row += f" {cellstr(p)} | " + (f"**{r:.2f}x**" if r else "-") + " |"
                reps = pr.get(wl, {}).get(metric, {}).get(p, [])
                row += " " + (", ".join(f"{x:.2f}" for x in reps) or "-") + " |"
            lines.append(row)
    lines.append("")

    if "shm" in paths:
        lines.append("## Issue 4 targets (tsor shm / TCP, same boot)")
        lines.append("")
        lines.append("| figure | target | measured | met |")
        lines.append("|---|---|---|---|")
        for wl, metric, op, bound in TARGETS:
            if wl not in workloads:
                continue
            r = rat.get(wl, {}).get(metric, {}).get("shm")
            label = dict((m, l) for m, l, _ in METRICS[wl])[metric]
            if r is None:
                met, meas = "missing", "-"
            else:
                ok = r >= bound if op == ">=" else r <= bound
                met, meas = ("yes" if ok else "no"), f"{r:.2f}x"
            lines.append(f"| {WORKLOAD_NAMES[wl]}: {label} | {op} {bound}x "
                         f"| {meas} | {met} |")
        lines.append("")

    if missing:
        lines.append("## Missing")
        lines.append("")
        for m in missing:
            lines.append(f"- {m}")
        lines.append("")
    if guest:
        lines.append(f"Guest: {guest}")
        lines.append("")
    return "\n".join(lines)


def gnuplot(script, workdir):
    if not shutil.which("gnuplot"):
        return "gnuplot is not installed"
    r = subprocess.run(["gnuplot"], input=script.encode(), cwd=workdir,
                       capture_output=True)
    err = r.stderr.decode(errors="replace").strip()
    return err or "gnuplot failed" if r.returncode else None


def plots(summary, rat, paths, workloads, outdir, env):
    """latency.png: sockperf percentiles per path; throughput.png: each
    throughput figure of each path relative to TCP."""
    errors = []
    outdir = os.path.abspath(outdir)
    topo = env.get("topology", "intra")
    title_env = (f"software-emulated, {topo}-node, "
                 f"{env.get('started', '')[:10]}")
    with tempfile.TemporaryDirectory() as tmp:
        lat = [(wl, m) for wl in ("sockperf-64", "sockperf-4k") if wl in workloads
               for m in ("p50_us", "p99_us", "p999_us")]
        have = [p for p in paths if any(summary.get(wl, {}).get(m, {}).get(p)
                                        for wl, m in lat)]
        if lat and have:
            with open(os.path.join(tmp, "lat.dat"), "w") as f:
                for wl, m in lat:
                    label = ("64B" if wl.endswith("64") else "4KiB") + "-" + \
                        {"p50_us": "p50", "p99_us": "p99", "p999_us": "p99.9"}[m]
                    vals = [summary.get(wl, {}).get(m, {}).get(p, {}).get("median")
                            for p in have]
                    f.write(label + " " + " ".join("-" if v is None else f"{v:g}"
                                                   for v in vals) + "\n")
            cols = ", ".join(
                f"'lat.dat' using {i + 2}:xtic(1) title '{PATH_NAMES[p]}'"
                for i, p in enumerate(have))
            err = gnuplot(f"""
set terminal pngcairo size 900,500 noenhanced
set output '{os.path.join(outdir, topo + '-latency.png')}'
set title 'sockperf ping-pong one-way latency, median ({title_env})'
set ylabel 'microseconds (log scale)'
set logscale y
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set datafile missing '-'
set key top left
set grid ytics
plot {cols}
""", tmp)
            if err:
                errors.append(f"{topo}-latency.png: " + err)

        thr = [(wl, m) for wl in workloads for m, _, hib in METRICS.get(wl, [])
               if hib and m != "paired_pct"]
        others = [p for p in paths if p != "tcp" and any(
            rat.get(wl, {}).get(m, {}).get(p) for wl, m in thr)]
        if thr and others:
            with open(os.path.join(tmp, "thr.dat"), "w") as f:
                for wl, m in thr:
                    label = wl + (":" + m.split("_")[0] if wl.startswith("redis")
                                  else "")
                    vals = [rat.get(wl, {}).get(m, {}).get(p) for p in others]
                    f.write(label + " " + " ".join("-" if v is None else f"{v:g}"
                                                   for v in vals) + "\n")
            cols = ", ".join(
                f"'thr.dat' using {i + 2}:xtic(1) title '{PATH_NAMES[p]}'"
                for i, p in enumerate(others))
            err = gnuplot(f"""
set terminal pngcairo size 1000,500 noenhanced
set output '{os.path.join(outdir, topo + '-throughput.png')}'
set title 'throughput relative to TCP, median ({title_env})'
set ylabel 'path / TCP'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set datafile missing '-'
set xtics rotate by -30
set key top left
set grid ytics
set yrange [0:*]
plot {cols}, 1 with lines lw 2 lc rgb 'black' title 'TCP'
""", tmp)
            if err:
                errors.append(f"{topo}-throughput.png: " + err)
    return errors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--env", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--md", required=True)
    ap.add_argument("--plots")
    ap.add_argument("--topology")
    ap.add_argument("--guest-status", type=int, default=0)
    ap.add_argument("--guest-result", default="")
    a = ap.parse_args()

    env = {}
    if os.path.exists(a.env):
        with open(a.env) as f:
            env = json.load(f)
    if a.topology:
        env.setdefault("topology", a.topology)
    env.setdefault("started",
                   datetime.datetime.now(datetime.timezone.utc)
                   .strftime("%Y-%m-%dT%H:%M:%SZ"))
    cells = load_raw(a.raw)
    for c in cells:
        derive(c)
    paths = env.get("paths") or PATHS
    workloads = env.get("workloads") or list(METRICS)
    reps = env.get("reps", 3)

    # Paths this boot could not set up are reported, but are no failure of
    # the benchmark: a cell of a path that was set up and did not measure is.
    missing, failures = [], []
    if not env:
        failures.append("everything: the guest never reported its setup "
                        f"({a.guest_result or 'no env.json'})")
    for p, why in sorted(env.get("missing", {}).items()):
        if p in REQUIRED and p in paths:
            failures.append(f"path {PATH_NAMES.get(p, p)}: {why}")
        else:
            missing.append(f"path {PATH_NAMES.get(p, p)}: {why}")
    live = [p for p in paths if p not in env.get("missing", {})]
    for wl in workloads:
        for p in live:
            got = [c for c in cells if c["workload"] == wl and c["path"] == p]
            good = [c for c in got if c["ok"]]
            bad = [c for c in got if c.get("invalid")]
            if bad:
                failures.append(
                    f"{WORKLOAD_NAMES.get(wl, wl)} over {PATH_NAMES.get(p, p)}: "
                    f"{len(bad)} invalid cell(s), their counters disagree "
                    f"with the path: " +
                    "; ".join(sorted({c.get("error") or "?" for c in bad})))
            if len(good) < reps:
                errs = sorted({c.get("error") or "?" for c in got
                               if not c["ok"] and not c.get("invalid")})
                why = ("; ".join(errs) if errs else
                       "the others invalid" if bad else
                       "not measured (the run stopped)")
                failures.append(f"{WORKLOAD_NAMES.get(wl, wl)} over "
                               f"{PATH_NAMES.get(p, p)}: {len(good)}/{reps} "
                               f"repetitions ({why})")

    summary = summarize(cells, workloads, paths)
    rat = ratios(summary)
    pr = paired_ratios(cells, summary)
    guest = "" if a.guest_status == 0 else (a.guest_result or
                                            f"status {a.guest_status}")
    if guest:
        failures.append(f"the guest did not finish cleanly: {guest}")

    if a.plots:
        os.makedirs(a.plots, exist_ok=True)
        failures += plots(summary, rat, paths, workloads, a.plots, env)
    missing += failures

    result = {"env": env, "cells": cells, "summary": summary,
              "ratios_to_tcp": rat, "ratios_per_repetition": pr,
              "missing": missing}
    with open(a.json, "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
        f.write("\n")
    md = markdown(env, summary, rat, pr, missing, paths, workloads, guest)
    with open(a.md, "w") as f:
        f.write(md + "\n")
    print(md)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
