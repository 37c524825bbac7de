#!/bin/sh
# ctest systemd_unit_verify: `systemd-analyze verify` on systemd/odp.service.
# The unit names /usr/local/bin/odp, which need not be installed where the tests run, so the check
# runs on a copy whose binary path points at an executable that exists (the build's odp when given,
# else /bin/true); everything else is verified as shipped. Exit 77 (ctest SKIP_RETURN_CODE) when
# systemd-analyze is missing or cannot run here.
# usage: verify.sh [path/to/odp.service] [path/to/built/odp]
set -u
here=$(cd "$(dirname "$0")" && pwd)
unit=${1:-$here/odp.service}
binary=${2:-/bin/true}
if [ -x "$binary" ]; then binary=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary"); else binary=/bin/true; fi

if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "SKIP: systemd-analyze is not installed"
  exit 77
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
# Probe: can systemd-analyze verify anything at all in this environment?
printf '[Service]\nType=oneshot\nExecStart=/bin/true\n' > "$tmp/probe.service"
if ! systemd-analyze verify "$tmp/probe.service" >"$tmp/probe.log" 2>&1; then
  echo "SKIP: systemd-analyze verify does not work here:"
  cat "$tmp/probe.log"
  exit 77
fi
sed "s|/usr/local/bin/odp|$binary|g" "$unit" > "$tmp/odp.service"
if systemd-analyze verify "$tmp/odp.service" >"$tmp/verify.log" 2>&1 && ! grep -q . "$tmp/verify.log"; then
  echo "OK: $unit"
  exit 0
fi
echo "FAIL: systemd-analyze verify $unit"
cat "$tmp/verify.log"
exit 1
