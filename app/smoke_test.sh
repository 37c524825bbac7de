#!/bin/bash
# ctest odp_smoke: the binary's outside contract without a database. Flags and exit codes,
# --check-config on etc/odp.toml and on a broken file, start-up on free ports, /healthz and
# /metrics, "port in use" as one line and exit 1, SIGHUP with a broken file (kept running) and with a
# restart-only change (reported), SIGTERM drain to exit 0.
# usage: app/smoke_test.sh path/to/odp [source dir]
set -u
odp=${1:?usage: smoke_test.sh path/to/odp [source dir]}
src=${2:-$(cd "$(dirname "$0")/.." && pwd)}
tmp=$(mktemp -d) || exit 1
pid=
cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

# Waits up to $2 seconds (default 10) for the shell condition $1, polling every 50 ms.
wait_for() {
  local deadline=$((SECONDS + ${2:-10}))
  while [ $SECONDS -le $deadline ]; do
    eval "$1" && return 0
    sleep 0.05
  done
  return 1
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
    echo $((20000 + RANDOM % 40000))
}

# GET $2 from 127.0.0.1:$1 with bash's /dev/tcp (no curl needed); prints the whole response.
http_get() {
  local out
  exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
  printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3
  out=$(timeout 5 cat <&3)
  exec 3>&-
  printf '%s' "$out"
}

# --- flags ---
"$odp" --version | grep -q '^odp ' && pass "--version" || fail "--version"
"$odp" --help | grep -q -- '--check-config' && pass "--help" || fail "--help"
"$odp" --bogus 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && pass "unknown flag: exit 2, one line" || fail "unknown flag rc=$rc"

# --- check-config ---
out=$("$odp" --check-config "$src/etc/odp.toml"); rc=$?
[ $rc -eq 0 ] && [ "$out" = "$src/etc/odp.toml: OK" ] && pass "check-config etc/odp.toml" || fail "check-config: rc=$rc $out"
printf '[listen]\nworkerz = 1\n[cluster.c]\nrootservice_list = ["127.0.0.1:1"]\n[limits]\nmax_packet_bytes = 1\n' >"$tmp/bad.toml"
"$odp" --check-config "$tmp/bad.toml" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q "bad.toml:2: unknown key 'listen.workerz'" "$tmp/err" && grep -q "bad.toml:6: limits.max_packet_bytes" "$tmp/err" &&
  pass "check-config errors with lines" || { fail "check-config bad: rc=$rc"; cat "$tmp/err"; }
"$odp" --config "$tmp/bad.toml" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 2 ] && pass "bad config: exit 1" || fail "bad config rc=$rc"

# --- run ---
sql_port=$(free_port)
http_port=$(free_port)
while [ "$http_port" = "$sql_port" ]; do http_port=$(free_port); done
write_config() {
  cat >"$tmp/odp.toml" <<EOF
[listen]
address = "127.0.0.1:$1"
admin_http = "127.0.0.1:$http_port"
workers = 1
drain_timeout_ms = 5000
[cluster.c]
rootservice_list = ["127.0.0.1:1"]
server_mode = "mysql"
meta_user = "proxyro"
[log]
dir = "$tmp/logs"
EOF
}
write_config "$sql_port"
"$odp" --config "$tmp/odp.toml" >"$tmp/stdout" 2>"$tmp/stderr" &
pid=$!
if wait_for "grep -q ' ready ' '$tmp/logs/odp.log' 2>/dev/null"; then
  pass "started on 127.0.0.1:$sql_port, log in log.dir"
else
  fail "did not become ready"; cat "$tmp/stderr" "$tmp/logs/odp.log" 2>/dev/null; exit 1
fi
http_get "$http_port" /healthz | grep -q $'^HTTP/1.1 200 OK\r' && pass "/healthz 200" || fail "/healthz"
metrics=$(http_get "$http_port" /metrics)
echo "$metrics" | grep -q '^odp_up 1' && echo "$metrics" | grep -q '^# TYPE odp_client_connections gauge' &&
  echo "$metrics" | grep -q '^odp_build_info{version=' && pass "/metrics" || fail "/metrics"
http_get "$http_port" /nope | grep -q '^HTTP/1.1 404' && pass "404" || fail "404"

# A second instance on the same SQL port (admin HTTP off), then on the same admin port: each time
# one line and exit 1. (SO_REUSEPORT must not let a second process share the SQL port.)
sed 's/^admin_http = .*/admin_http = ""/' "$tmp/odp.toml" >"$tmp/second.toml"
timeout 10 "$odp" --config "$tmp/second.toml" >/dev/null 2>"$tmp/err2"; rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <"$tmp/err2")" -eq 1 ] && grep -q 'Address already in use' "$tmp/err2" &&
  pass "SQL port in use: $(cat "$tmp/err2")" || { fail "SQL port in use: rc=$rc"; cat "$tmp/err2"; }
sed "s/^address = .*/address = \"127.0.0.1:$(free_port)\"/" "$tmp/odp.toml" >"$tmp/third.toml"
timeout 10 "$odp" --config "$tmp/third.toml" >/dev/null 2>"$tmp/err3"; rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <"$tmp/err3")" -eq 1 ] && grep -q 'admin_http .*Address already in use' "$tmp/err3" &&
  pass "admin port in use: $(cat "$tmp/err3")" || { fail "admin port in use: rc=$rc"; cat "$tmp/err3"; }

# SIGHUP with a broken file: errors logged, still running.
cp "$tmp/odp.toml" "$tmp/good.toml"
printf '[limits]\nclient_max_connections = -1\n' >>"$tmp/odp.toml"
kill -HUP $pid
wait_for "grep -q 'running config is unchanged' '$tmp/logs/odp.log'" && kill -0 $pid 2>/dev/null &&
  pass "SIGHUP with errors keeps running" || fail "SIGHUP with errors"
# SIGHUP with a restart-only change: reported, not ignored.
write_config $((sql_port == 65535 ? sql_port - 1 : sql_port + 1))
kill -HUP $pid
wait_for "grep -q 'listen.address differs from the running value' '$tmp/logs/odp.log'" &&
  pass "SIGHUP reports restart-only keys" || fail "SIGHUP restart keys"

metrics=$(http_get "$http_port" /metrics)
echo "$metrics" | grep -q '^odp_config_reloads_total{result="failure"} 1' &&
  echo "$metrics" | grep -q '^odp_config_restart_pending_keys [1-9]' && pass "reload metrics" || fail "reload metrics"

# SIGTERM: drain and exit 0.
kill -TERM $pid
if wait_for "! kill -0 $pid 2>/dev/null" 15; then
  wait $pid; rc=$?
  pid=
  [ $rc -eq 0 ] && pass "SIGTERM: exit 0" || fail "SIGTERM exit status $rc"
else
  fail "still running 15 s after SIGTERM"
fi
grep -q 'drain' "$tmp/logs/odp.log" && pass "drain logged" || fail "drain not logged"

[ $failures -eq 0 ] && echo "PASS" || echo "$failures FAILED"
[ $failures -eq 0 ]
