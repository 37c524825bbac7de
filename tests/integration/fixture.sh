#!/usr/bin/env bash
# ctest fixture for the integration tests: `up` brings the sandbox up (scripts/sandbox up) and
# remembers whether it started odp itself; `down` stops the sandbox only in that case, so running
# ctest against a sandbox someone started by hand leaves it running.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ODP_BUILD_DIR=$(realpath -m "${ODP_BUILD_DIR:-$ROOT/build}")
SB=${ODP_SANDBOX_DIR:-$ODP_BUILD_DIR/sandbox}
marker=$SB/.started-by-ctest
case ${1:-} in
  up)
    mkdir -p "$SB"
    was_running=0
    if [[ -s $SB/odp.pid ]] && kill -0 "$(<"$SB/odp.pid")" 2>/dev/null; then was_running=1; fi
    "$ROOT/scripts/sandbox" up
    ((was_running)) || touch "$marker"
    ;;
  down)
    if [[ -f $marker ]]; then
      rm -f "$marker"
      "$ROOT/scripts/sandbox" down
    else
      echo "fixture: sandbox was running before ctest; leaving it up"
    fi
    ;;
  *)
    echo "usage: fixture.sh up|down" >&2
    exit 2
    ;;
esac
