#!/usr/bin/env bash
# The agent's HTTP figures for BENCHMARKS.md: wrk (from Debian) against GET /healthz
# and GET /status/{id} of a deployed example, on 127.0.0.1, with the release build.
# Needs the test setup (Docker, local base images): scripts/setup-test-env.sh.
#   usage: scripts/bench-agent.sh [SECONDS] [CONNECTIONS]
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
secs="${1:-20}"
conns="${2:-64}"
export PATH="/usr/bin:$PATH"
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
cargo build --release --quiet -p slipway_cli
bin="$PWD/target/release/slipway"

work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
app_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
token="bench-token-0123456789abcdef"
project="benchagent$$"
cp -r fixtures/deploy/hello "$work/app"
sed -i "s/name: hello/name: $project/; s/host_port: 18080/host_port: $app_port/" "$work/app/slipway.yaml"

SLIPWAY_AGENT_TOKENS="bench deploy $token" SLIPWAY_DATABASE_URL="sqlite://$work/state.db" \
  "$bin" serve --listen "127.0.0.1:$port" --data-dir "$work/data" --spec-root "$work" \
  >"$work/agent.log" 2>&1 &
agent=$!
cleanup() {
  kill "$agent" 2>/dev/null || true
  docker ps -aq --filter "label=com.docker.compose.project=$project" | xargs -r docker rm -f >/dev/null
  docker network rm "${project}_default" >/dev/null 2>&1 || true
  docker images --format '{{.Repository}}:{{.Tag}}' "$project/app" | grep -v ':<none>$' | xargs -r docker rmi >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done

auth=(-H "Authorization: Bearer $token" -H "Content-Type: application/json")
curl -fsS "${auth[@]}" -d "{\"deployment_id\":\"bench-1\",\"environment\":\"prod\",\"template_spec\":\"$work/app/slipway.yaml\",\"parameters\":{\"image_map\":{\"python:3.11-slim-bookworm\":\"slipway-local/python:3.11\"}}}" \
  "http://127.0.0.1:$port/generate" >/dev/null
curl -fsS "${auth[@]}" -d '{"deployment_id":"bench-1"}' "http://127.0.0.1:$port/deploy" >/dev/null
for _ in $(seq 1 240); do
  phase="$(curl -fsS "${auth[@]}" "http://127.0.0.1:$port/status/bench-1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["operation"]["phase"])')"
  case "$phase" in succeeded) break ;; failed|rolled_back) echo "deploy $phase" >&2; exit 1 ;; esac
  sleep 1
done

run() { # name, path
  local out rps p99
  out="$(wrk -t2 -c"$conns" -d"${secs}s" --latency -H "Authorization: Bearer $token" "http://127.0.0.1:$port$2")"
  rps="$(awk '/^Requests\/sec/ {print $2}' <<<"$out")"
  p99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
  echo "| $1 | $rps | $p99 |"
}
echo "agent: $(uname -m), $(nproc) cores, wrk -t2 -c$conns -d${secs}s, the agent and wrk on the same machine"
echo "| endpoint | requests/s | p99 |"
echo "|---|---|---|"
run "GET /healthz" /healthz
run "GET /status/{id} (deployed, healthy)" /status/bench-1
echo "agent peak RSS: $(awk '/VmHWM/ {print $2, $3}' "/proc/$agent/status")"
