#!/bin/bash
# Subset of the official rabbitmq image's entrypoint: started as root (the
# default), it chowns what is not rabbitmq's in the data folder and drops to
# rabbitmq (the official image uses gosu; setpriv is in util-linux). The
# `*_FILE` variables the official image refuses are refused here too.
set -euo pipefail

if [[ "$1" == rabbitmq* ]] && [ "$(id -u)" = 0 ]; then
  if [ "$1" = rabbitmq-server ]; then
    find /var/lib/rabbitmq \! -user rabbitmq -exec chown rabbitmq '{}' +
  fi
  exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups "${BASH_SOURCE[0]}" "$@"
fi

deprecated=(
  RABBITMQ_DEFAULT_PASS_FILE RABBITMQ_DEFAULT_USER_FILE
  RABBITMQ_SSL_CACERTFILE RABBITMQ_SSL_CERTFILE RABBITMQ_SSL_KEYFILE
  RABBITMQ_VM_MEMORY_HIGH_WATERMARK
)
old_env=
for v in "${deprecated[@]}"; do
  if [ -n "${!v:-}" ]; then
    echo >&2 "error: $v is set but deprecated"
    old_env=1
  fi
done
if [ -n "$old_env" ]; then
  echo >&2 'error: deprecated environment variables detected; use a configuration file instead'
  exit 1
fi

# Long node names when the host name is a fully qualified one.
if [ -z "${RABBITMQ_USE_LONGNAME:-}" ] && [ "$(hostname)" != "$(hostname -s)" ]; then
  export RABBITMQ_USE_LONGNAME=true
fi

exec "$@"
