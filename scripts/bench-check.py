#!/usr/bin/env python3
"""Speed of `slipway check` against checkov (and hadolint over the Dockerfiles) on
one generated tree: 1000 Kubernetes manifests, 50 Dockerfiles, 20 compose files,
20 Terraform files and 10 workflows. Every tool runs several rounds in the same
session; the script reports the median wall time and peak RSS of each (from
wait4), and the ratios.

Usage: scripts/bench-check.py [path/to/slipway] [rounds]   (after scripts/setup-test-env.sh)
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SLIPWAY = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.join(ROOT, "target", "release", "slipway")
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 5

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: svc-{i}
spec:
  replicas: {r}
  selector:
    matchLabels: {{ app: svc-{i} }}
  template:
    metadata:
      labels: {{ app: svc-{i} }}
    spec:
      serviceAccountName: svc-{i}
      automountServiceAccountToken: false
      securityContext: {{ runAsNonRoot: true, runAsUser: 10001, seccompProfile: {{ type: RuntimeDefault }} }}
      containers:
        - name: app
          image: registry.example.com/svc-{i}:{tag}
          ports: [{{ containerPort: 8080 }}]
          readinessProbe: {{ httpGet: {{ path: /ready, port: 8080 }}, periodSeconds: 5 }}
          livenessProbe: {{ httpGet: {{ path: /health, port: 8080 }}, periodSeconds: 10 }}
          resources: {{ requests: {{ cpu: 100m, memory: 128Mi }}, limits: {{ memory: 128Mi }} }}
          securityContext: {{ allowPrivilegeEscalation: false, readOnlyRootFilesystem: {ro}, capabilities: {{ drop: [ALL] }} }}
---
apiVersion: v1
kind: Service
metadata:
  name: svc-{i}
spec:
  selector: {{ app: svc-{i} }}
  ports: [{{ port: 80, targetPort: 8080 }}]
"""

DOCKERFILE = """FROM python:3.12-slim-bookworm AS base
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
USER {user}
HEALTHCHECK CMD ["python3", "-c", "print(1)"]
CMD ["python3", "main.py"]
"""

COMPOSE = """services:
  app:
    image: registry.example.com/app-{i}:1.{i}.0
    environment:
      LOG_LEVEL: info
    healthcheck: {{ test: ["CMD", "true"] }}
    deploy: {{ resources: {{ limits: {{ cpus: "0.5", memory: 256M }} }} }}
    pids_limit: 256
    security_opt: ["no-new-privileges:true"]
  db:
    image: postgres:16.4
    volumes: [data:/var/lib/postgresql/data]
volumes:
  data: {{}}
"""

TERRAFORM = """resource "aws_s3_bucket" "b{i}" {{
  bucket = "bucket-{i}"
}}
"""

WORKFLOW = """name: ci-{i}
on: [push]
permissions: {{ contents: read }}
jobs:
  test:
    runs-on: ubuntu-latest
    timeout-minutes: 10
    steps:
      - uses: actions/checkout@v4
      - run: make test
"""


def make_tree(root):
    for i in range(1000):
        d = os.path.join(root, "k8s", f"team{i % 20}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"svc-{i}.yaml"), "w") as f:
            f.write(DEPLOYMENT.format(i=i, r=1 + i % 3, tag="latest" if i % 10 == 0 else f"1.{i}.0", ro="false" if i % 7 == 0 else "true"))
    for i in range(50):
        d = os.path.join(root, "docker", f"svc{i}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "Dockerfile"), "w") as f:
            f.write(DOCKERFILE.format(user="root" if i % 5 == 0 else "10001"))
    for i in range(20):
        d = os.path.join(root, "compose", f"stack{i}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "docker-compose.yaml"), "w") as f:
            f.write(COMPOSE.format(i=i))
    os.makedirs(os.path.join(root, "terraform"), exist_ok=True)
    for i in range(20):
        with open(os.path.join(root, "terraform", f"main{i}.tf"), "w") as f:
            f.write(TERRAFORM.format(i=i))
    os.makedirs(os.path.join(root, ".github", "workflows"), exist_ok=True)
    for i in range(10):
        with open(os.path.join(root, ".github", "workflows", f"ci{i}.yml"), "w") as f:
            f.write(WORKFLOW.format(i=i))


def measure(cmd, cwd):
    start = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(p.pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss / 1024.0


def main():
    with tempfile.TemporaryDirectory() as tree:
        make_tree(tree)
        dockerfiles = [os.path.join(tree, "docker", f"svc{i}", "Dockerfile") for i in range(50)]
        tools = {
            "slipway check": ([SLIPWAY, "check", ".", "--format", "json"], ROUNDS),
            "checkov -d": (["checkov", "-d", ".", "-o", "json", "--quiet", "--compact", "--skip-download"], max(2, ROUNDS // 2)),
            "hadolint (50 Dockerfiles)": (["hadolint", "--no-fail", *dockerfiles], ROUNDS),
        }
        results = {}
        for name, (cmd, rounds) in tools.items():
            runs = [measure(cmd, tree) for _ in range(rounds)]
            results[name] = (statistics.median(r[0] for r in runs), max(r[1] for r in runs), rounds)
            print(f"{name}: median {results[name][0] * 1000:.1f} ms over {rounds} rounds, peak RSS {results[name][1]:.1f} MiB", flush=True)
        s = results["slipway check"][0]
        print(f"ratio checkov / slipway: {results['checkov -d'][0] / s:.0f}x")
        print(f"ratio hadolint / slipway: {results['hadolint (50 Dockerfiles)'][0] / s:.1f}x")


if __name__ == "__main__":
    main()
