#!/bin/sh
# As the official image's script: add `listen [::]:80;` to the stock
# default.conf when it can, and say why not when it cannot (a read-only root
# filesystem, or a default.conf that is not the stock one). Never fails.
set -e

ME=$(basename "$0")
FILE=etc/nginx/conf.d/default.conf

if [ ! -f "/$FILE" ]; then
  exit 0
fi
if ! touch "/$FILE" 2>/dev/null; then
  echo "$ME: info: can not modify /$FILE (read-only file system?)"
  exit 0
fi
if [ ! -f /proc/net/if_inet6 ]; then
  echo "$ME: info: ipv6 not available"
  exit 0
fi
if ! grep -q 'server_name  localhost;' "/$FILE" || grep -q 'listen  *\[::\]' "/$FILE"; then
  echo "$ME: info: /$FILE is not the stock file or already listens on IPv6"
  exit 0
fi
sed -i -E 's,listen       80;,listen       80;\n    listen  [::]:80;,' "/$FILE"
echo "$ME: info: Enabled listen on IPv6 in /$FILE"
