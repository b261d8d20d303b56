#!/usr/bin/env bash
# Build slipway's local base images from Debian packages only (no registry).
#
#   slipway-local/debian:bookworm       debootstrap --variant=minbase + docker import
#   slipway-local/debian:bookworm-slim  tag of the above
#   slipway-local/python:3.11           scripts/base-images/python/Dockerfile
#   slipway-local/node:18               scripts/base-images/node/Dockerfile
#   slipway-local/postgres:15           scripts/base-images/postgres/Dockerfile
#   slipway-local/redis:7               scripts/base-images/redis/Dockerfile
#   slipway-local/rabbitmq:3            scripts/base-images/rabbitmq/Dockerfile
#   slipway-local/nats:2                scripts/base-images/nats/Dockerfile
#   slipway-local/nginx:1               scripts/base-images/nginx/Dockerfile
#   slipway-local/mysql:8               scripts/base-images/mysql/Dockerfile
#                                       (Debian's MariaDB, laid out as mysql:8)
#   slipway-local/golang:1.23           scripts/base-images/golang/Dockerfile
#   slipway-local/rust:1                scripts/base-images/rust/Dockerfile, also
#                                       tagged slipway-local/rust:<major.minor>
#                                       of the rustc it holds (e.g. 1.96)
#
# Usage: scripts/build-base-images.sh [debian|python|node|postgres|redis|rabbitmq|nats|nginx|mysql|golang|rust]...
#   (no argument: all of them, in that order)
#
# An image built from a Dockerfile carries the hash of its folder (label
# org.slipway.context): it is skipped while that matches, and rebuilt (with the
# build cache) when a file in the folder changed.
#
# Environment:
#   FORCE=1        rebuild images that already exist, without build cache
#                  (default: skip existing, up-to-date images)
#   DEBIAN_MIRROR  apt mirror for debootstrap and for the images' sources
#                  (default: the first Debian mirror in /etc/apt/sources.list*,
#                  else http://deb.debian.org/debian)
#   DOCKER         docker client (default /usr/bin/docker, Debian's, which has
#                  BuildKit built in; a newer client without buildx can't build)
#
# Every image inherits SSL_CERT_FILE, REQUESTS_CA_BUNDLE, PIP_CERT and
# NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt, which holds this
# host's CA bundle.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CONTEXT_DIR="$SCRIPT_DIR/base-images"
DOCKER="${DOCKER:-/usr/bin/docker}"
FORCE="${FORCE:-0}"
SUITE=bookworm
HOST_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
CA=/etc/ssl/certs/ca-certificates.crt # path inside the images

DEBIAN_IMAGE=slipway-local/debian:bookworm
declare -A IMAGE=(
  [python]=slipway-local/python:3.11
  [node]=slipway-local/node:18
  [postgres]=slipway-local/postgres:15
  [redis]=slipway-local/redis:7
  [rabbitmq]=slipway-local/rabbitmq:3
  [nats]=slipway-local/nats:2
  [nginx]=slipway-local/nginx:1
  [mysql]=slipway-local/mysql:8
  [golang]=slipway-local/golang:1.23
  [rust]=slipway-local/rust:1
)
ALL_TARGETS=(debian python node postgres redis rabbitmq nats nginx mysql golang rust)
RUST_REPO=slipway-local/rust

log() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

image_exists() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }
image_id() { "$DOCKER" image inspect -f '{{.Id}}' "$1" 2>/dev/null || true; }
image_label() {
  "$DOCKER" image inspect -f "{{index .Config.Labels \"$2\"}}" "$1" 2>/dev/null || true
}

# A hash of every file (name, mode and content) in a build context folder.
context_hash() {
  (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z |
    xargs -0 stat -c '%n %a' && find . -type f -print0 | LC_ALL=C sort -z |
    xargs -0 sha256sum) | sha256sum | cut -c1-16
}

# After a rebuild, drop the image the tag used to point at, if nothing uses it.
remove_if_replaced() {
  local old="$1" image="$2"
  if [ -n "$old" ] && [ "$old" != "$(image_id "$image")" ]; then
    "$DOCKER" image rm "$old" >/dev/null 2>&1 || true
  fi
}

# The first Debian (non-security) mirror configured on this host.
detect_mirror() {
  local uri
  uri="$(
    {
      sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null || true
      sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]\+\).*/\2/p' \
        /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true
    } | tr ' ' '\n' | grep -E '^https?://.*/debian/?$' | sed -n 1p
  )" || true
  printf '%s\n' "${uri:-http://deb.debian.org/debian}"
}

build_debian() {
  if image_exists "$DEBIAN_IMAGE" && [ "$FORCE" != 1 ]; then
    log "$DEBIAN_IMAGE exists, skipping (FORCE=1 to rebuild)"
  else
    [ -r "$HOST_CA_BUNDLE" ] || die "$HOST_CA_BUNDLE not found"
    command -v debootstrap >/dev/null || die "debootstrap is not installed"
    local mirror rootfs security old
    old="$(image_id "$DEBIAN_IMAGE")"
    mirror="${DEBIAN_MIRROR:-$(detect_mirror)}"
    mirror="${mirror%/}"
    security="${mirror%/debian}/debian-security"
    rootfs="$(mktemp -d /var/tmp/slipway-rootfs.XXXXXX)"
    # shellcheck disable=SC2064 # expand $rootfs now
    trap "umount -R '$rootfs/proc' '$rootfs/sys' 2>/dev/null || true; rm -rf '$rootfs'" EXIT

    log "debootstrap $SUITE from $mirror"
    debootstrap --variant=minbase --include=ca-certificates \
      "$SUITE" "$rootfs" "$mirror" >"$rootfs.debootstrap.log" 2>&1 \
      || { tail -n 30 "$rootfs.debootstrap.log" >&2; die "debootstrap failed"; }
    rm -f "$rootfs.debootstrap.log"

    # apt sources like the official image's (main + updates + security).
    rm -f "$rootfs/etc/apt/sources.list"
    cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $mirror
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES

    # The host's CA bundle. Also dropped into /usr/local/share/ca-certificates
    # so that update-ca-certificates (run by any later apt install of
    # ca-certificates) keeps the host's extra CAs in the regenerated bundle.
    install -m 0644 "$HOST_CA_BUNDLE" "$rootfs$CA"
    install -m 0644 "$HOST_CA_BUNDLE" "$rootfs/usr/local/share/ca-certificates/slipway-host-bundle.crt"

    # Container niceties, as in the official debian image.
    cat >"$rootfs/usr/sbin/policy-rc.d" <<'POLICY'
#!/bin/sh
# Never start services from package scripts inside an image build.
exit 101
POLICY
    chmod 0755 "$rootfs/usr/sbin/policy-rc.d"
    cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'APTCLEAN'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APTCLEAN
    printf 'Acquire::Languages "none";\n' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
    printf 'Acquire::GzipIndexes "true";\nAcquire::CompressionTypes::Order:: "gz";\n' \
      >"$rootfs/etc/apt/apt.conf.d/docker-gzip-indexes"

    # "slim": no docs, man pages or translations, now or from later installs.
    cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'SLIM'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
SLIM
    find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
    rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/groff/* "$rootfs"/usr/share/info/* \
      "$rootfs"/usr/share/lintian/* "$rootfs"/usr/share/linda/*
    find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf '{}' +
    # Some packages' scripts (e.g. Java's) expect this directory to exist.
    mkdir -p "$rootfs/usr/share/man/man1"

    # Keep it small; docker provides these at run time.
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* \
      "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/* "$rootfs"/tmp/* "$rootfs"/var/tmp/*
    : >"$rootfs/etc/resolv.conf"
    : >"$rootfs/etc/hostname"

    log "docker import $DEBIAN_IMAGE"
    tar --numeric-owner --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' \
      -C "$rootfs" -c . |
      "$DOCKER" import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change "ENV SSL_CERT_FILE=$CA" \
        --change "ENV REQUESTS_CA_BUNDLE=$CA" \
        --change "ENV PIP_CERT=$CA" \
        --change "ENV NODE_EXTRA_CA_CERTS=$CA" \
        --change 'CMD ["bash"]' \
        --message "debootstrap --variant=minbase $SUITE $mirror" \
        - "$DEBIAN_IMAGE" >/dev/null
    rm -rf "$rootfs"
    trap - EXIT
  fi
  "$DOCKER" tag "$DEBIAN_IMAGE" slipway-local/debian:bookworm-slim
  [ -z "${old:-}" ] || remove_if_replaced "$old" "$DEBIAN_IMAGE"
}

build_derived() {
  local name="$1" image="${IMAGE[$1]}" old hash
  hash="$(context_hash "$CONTEXT_DIR/$name")"
  if image_exists "$image" && [ "$FORCE" != 1 ]; then
    if [ "$(image_label "$image" org.slipway.context)" = "$hash" ]; then
      log "$image is up to date, skipping (FORCE=1 to rebuild)"
      return
    fi
    log "$image: base-images/$name changed since it was built"
  fi
  image_exists "$DEBIAN_IMAGE" || die "$DEBIAN_IMAGE missing: build 'debian' first"
  old="$(image_id "$image")"
  log "docker build $image"
  # No '# syntax=' line in these Dockerfiles: that would pull a frontend image.
  local cache_opt=()
  [ "$FORCE" != 1 ] || cache_opt=(--no-cache)
  DOCKER_BUILDKIT=1 "$DOCKER" build --progress=plain "${cache_opt[@]}" -t "$image" \
    --label "org.slipway.context=$hash" \
    "$CONTEXT_DIR/$name" >"/var/tmp/slipway-build-$name.log" 2>&1 \
    || { tail -n 40 "/var/tmp/slipway-build-$name.log" >&2; die "building $image failed (log: /var/tmp/slipway-build-$name.log)"; }
  rm -f "/var/tmp/slipway-build-$name.log"
  remove_if_replaced "$old" "$image"
}

# slipway-local/rust:<major.minor> of the rustc in the image, for the
# rust:<rust-version>-slim-bookworm that generated Dockerfiles ask for.
rust_version_tag() {
  local version
  version="$("$DOCKER" run --rm --entrypoint rustc "${IMAGE[rust]}" --version)" \
    || die "rustc --version failed in ${IMAGE[rust]}"
  # "rustc 1.96.0 (ac68faa20 2026-05-25) (built from a source tarball)"
  version="$(sed -n 's/^rustc \([0-9]\+\.[0-9]\+\)\..*/\1/p' <<<"$version")"
  [ -n "$version" ] || die "can't parse the rustc version of ${IMAGE[rust]}"
  printf '%s:%s\n' "$RUST_REPO" "$version"
}

# All the tags of one image in $RUST_REPO except :1, e.g. "slipway-local/rust:1.96".
rust_other_tags() {
  local id="$1"
  [ -n "$id" ] || return 0
  "$DOCKER" image ls --format '{{.Repository}}:{{.Tag}} {{.ID}}' "$RUST_REPO" |
    while read -r ref ref_id; do
      [ "$ref" = "${IMAGE[rust]}" ] || [[ "$id" != sha256:"$ref_id"* ]] || printf '%s\n' "$ref"
    done
}

build_rust() {
  local old stale tag ref
  old="$(image_id "${IMAGE[rust]}")"
  stale="$(rust_other_tags "$old")"
  build_derived rust
  tag="$(rust_version_tag)"
  "$DOCKER" tag "${IMAGE[rust]}" "$tag"
  # After a rebuild: untag the old image's other version tag (a newer rustc)
  # and drop the old image, which build_derived couldn't while it was tagged.
  for ref in $stale; do
    [ "$ref" = "$tag" ] || "$DOCKER" image rm "$ref" >/dev/null 2>&1 || true
  done
  remove_if_replaced "$old" "${IMAGE[rust]}"
  log "rust: ${IMAGE[rust]} = $tag"
}

main() {
  [ "$(id -u)" -eq 0 ] || die "must run as root"
  "$DOCKER" info >/dev/null 2>&1 || die "docker daemon not reachable via $DOCKER (run scripts/setup-test-env.sh)"

  local targets=("$@") t t0 total0
  [ "${#targets[@]}" -gt 0 ] || targets=("${ALL_TARGETS[@]}")
  total0="$(date +%s)"
  for t in "${targets[@]}"; do
    t0="$(date +%s)"
    case "$t" in
      debian) build_debian ;;
      python | node | postgres | redis | rabbitmq | nats | nginx | mysql | golang) build_derived "$t" ;;
      rust) build_rust ;;
      *) die "unknown image '$t' (expected: ${ALL_TARGETS[*]})" ;;
    esac
    log "$t: $(($(date +%s) - t0)) s"
  done
  log "done in $(($(date +%s) - total0)) s"
  "$DOCKER" image ls --format 'table {{.Repository}}:{{.Tag}}\t{{.ID}}\t{{.Size}}' 'slipway-local/*'
}

main "$@"
