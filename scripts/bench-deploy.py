#!/usr/bin/env python3
"""`slipway status` and `slipway drift` on a deployment of 20 services, beside
`docker compose ps` on the same project, for BENCHMARKS.md (issue 5).

Deploys 20 copies of fixtures/deploy/hello (one stdlib Python service each) with the
compose runtime on the real Docker Engine, then times each command ROUNDS times in
the same run and prints median and max wall time, and how many times faster each
command is than `docker-compose ps`.
Needs the test setup (Docker, local base images): scripts/setup-test-env.sh.

    usage: scripts/bench-deploy.py [SLIPWAY_BIN] [ROUNDS] [SERVICES]
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/release/slipway"))
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 11
SERVICES = int(sys.argv[3]) if len(sys.argv) > 3 else 20
PROJECT = f"benchdeploy{os.getpid()}"
PY = "python:3.11-slim-bookworm=slipway-local/python:3.11"
ENV = dict(os.environ, PATH="/usr/bin:" + os.environ.get("PATH", ""))


def sh(args, **kw):
    return subprocess.run(args, env=ENV, capture_output=True, text=True, **kw)


def timed(args, cwd, rounds):
    """Median and max wall time in ms of `args`, after one warm-up run."""
    sh(args, cwd=cwd)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        out = sh(args, cwd=cwd)
        times.append((time.perf_counter() - start) * 1000)
        if out.returncode not in (0, 1):
            sys.exit(f"{' '.join(args)} exited {out.returncode}:\n{out.stderr}")
    return statistics.median(times), max(times), out


def cleanup(work):
    ids = sh(["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={PROJECT}"])
    for cid in ids.stdout.split():
        sh(["docker", "rm", "-f", cid])
    sh(["docker", "network", "rm", f"{PROJECT}_default"])
    names = sh(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", f"reference={PROJECT}/*"])
    for name in names.stdout.split():
        if not name.endswith(":<none>"):
            sh(["docker", "rmi", name])
    shutil.rmtree(work, ignore_errors=True)


def main():
    work = tempfile.mkdtemp(prefix="slipway-bench-deploy-")
    try:
        shutil.copytree(os.path.join(ROOT, "fixtures/deploy/hello/app"), os.path.join(work, "app"))
        lines = [f"name: {PROJECT}", "environments: [prod]", "services:"]
        for i in range(1, SERVICES + 1):
            lines += [
                f"  s{i:02}:",
                "    path: ./app",
                "    port: 8000",
                "    publish: false",
                "    health: /health",
                "    env:",
                f"      GREETING: hello-{i}",
            ]
        with open(os.path.join(work, "slipway.yaml"), "w") as f:
            f.write("\n".join(lines) + "\n")
        ENV["SLIPWAY_DATABASE_URL"] = f"sqlite://{work}/state.db"
        start = time.perf_counter()
        out = sh([BIN, "deploy", "--env", "prod", "--image-map", PY, "--deployment-id", "bench20",
                  "--health-timeout", "180"], cwd=work)
        if out.returncode != 0:
            sys.exit(f"deploy failed:\n{out.stdout}\n{out.stderr}")
        deploy_s = time.perf_counter() - start
        compose_dir = os.path.join(work, "infrastructure/compose")
        files = ["-f", "docker-compose.yaml", "-f", "docker-compose.prod.yaml"]
        rows = [
            ("slipway status bench20", [BIN, "status", "bench20"], work),
            ("slipway status bench20 --format json", [BIN, "status", "bench20", "--format", "json"], work),
            ("slipway drift bench20", [BIN, "drift", "bench20"], work),
            ("docker-compose ps (v1, Debian)", ["docker-compose", "-p", PROJECT, *files, "ps"], compose_dir),
        ]
        if sh(["docker", "compose", "version"]).returncode == 0:
            rows.append(("docker compose ps (v2)", ["docker", "compose", "-p", PROJECT, *files, "ps"], compose_dir))
        results = []
        for name, args, cwd in rows:
            med, peak, last = timed(args, cwd, ROUNDS)
            results.append((name, med, peak, last))
        drift = [r for r in results if r[0].startswith("slipway drift")][0][3]
        if drift.returncode != 0:
            sys.exit(f"drift found something on a fresh deployment:\n{drift.stdout}")
        base = [r for r in results if r[0].startswith("docker-compose ps")][0][1]
        print(f"machine: {os.uname().machine}, {os.cpu_count()} cores; {SERVICES} services; "
              f"{ROUNDS} rounds after one warm-up; deploy took {deploy_s:.0f} s")
        print("| command | median | max | docker-compose ps time ÷ this |")
        print("|---|---:|---:|---:|")
        for name, med, peak, _ in results:
            print(f"| `{name}` | {med:.0f} ms | {peak:.0f} ms | {base / med:.1f}× |")
    finally:
        cleanup(work)


if __name__ == "__main__":
    main()
