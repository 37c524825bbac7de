#!/usr/bin/env bash
# OceanBase mode beside mysql mode, by hand (BENCHMARKS.md, issue 9): sysbench oltp_point_select
# (prepared statements, 8 threads, 1 table x 10,000 rows) in alternating rounds over five paths,
# then odp's own CPU per query in each mode. Needs both sandbox flavours up side by side, e.g.
#   ODP_SANDBOX_DIR=/tmp/sbx-ob ODP_SANDBOX_PORT_BASE=3810 ODP_PORT=3890 ODP_ADMIN_PORT=3891 scripts/sandbox up --oceanbase
#   ODP_SANDBOX_DIR=/tmp/sbx-me ODP_SANDBOX_PORT_BASE=3710 ODP_PORT=3790 ODP_ADMIN_PORT=3791 scripts/sandbox up
# and then: OB_DIR=/tmp/sbx-ob OB_BASE=3810 OB_ODP=3890 MY_DIR=/tmp/sbx-me MY_BASE=3710 MY_ODP=3790 $0
set -euo pipefail
OB_DIR=${OB_DIR:?} OB_BASE=${OB_BASE:?} OB_ODP=${OB_ODP:?} MY_DIR=${MY_DIR:?} MY_BASE=${MY_BASE:?} MY_ODP=${MY_ODP:?}
ROUNDS=${ROUNDS:-2} SECS=${SECS:-10}
sb() {
  sysbench oltp_point_select --db-driver=mysql --mysql-host=127.0.0.1 --mysql-user=app --mysql-password=app \
    --mysql-db=test_obbench --tables=1 --table-size=10000 --mysql-ssl=off "$@"
}
for p in $((OB_BASE + 1)) $((MY_BASE + 1)); do
  mariadb --no-defaults --skip-ssl -h127.0.0.1 -P"$p" -uapp -papp \
    -e "DROP DATABASE IF EXISTS test_obbench; CREATE DATABASE test_obbench"
  sb --mysql-port="$p" prepare >/dev/null
done
sleep 3  # replication
declare -A name=([$((OB_BASE + 1))]="MariaDB s1 direct (oceanbase sandbox)"
  [$((OB_BASE + 51))]="the endpoint's plain relay alone"
  [$OB_ODP]="odp oceanbase mode -> endpoint (OB 2.0)"
  [$((MY_BASE + 1))]="MariaDB s1 direct (mysql sandbox)" [$MY_ODP]="odp mysql mode -> MariaDB")
paths="$((OB_BASE + 1)) $((OB_BASE + 51)) $OB_ODP $((MY_BASE + 1)) $MY_ODP"
for p in $paths; do sb --mysql-port="$p" --threads=8 --time=2 run >/dev/null 2>&1 || true; done  # warm-up
for ((round = 1; round <= ROUNDS; round++)); do
  for p in $paths; do
    q=$(sb --mysql-port="$p" --threads=8 --time="$SECS" run 2>&1 | awk '/queries:/ {gsub(/\(/, "", $3); print $3; exit}')
    echo "round $round | ${name[$p]} | $q QPS"
  done
done
tick=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
for ((round = 1; round <= ROUNDS; round++)); do
  for mode in "oceanbase:$OB_ODP:$OB_DIR" "mysql:$MY_ODP:$MY_DIR"; do
    IFS=: read -r m port dir <<<"$mode"
    pid=$(cat "$dir/odp.pid")
    c0=$(cpu "$pid")
    q=$(sb --mysql-port="$port" --threads=8 --time="$SECS" run 2>&1 | awk '/queries:/ {print $2; exit}')
    c1=$(cpu "$pid")
    echo "round $round | odp $m mode | $q queries | $(((c1 - c0) * 1000000 / tick / q)) us CPU per query"
  done
done
# Logins (issue 12): connect + SELECT 1 + close with build/odp_churn_client, one after the other and
# over 32 threads, on the same five paths; then odp's CPU per login in each mode. In oceanbase mode
# every login is a proxy login of its own on the server (the server checks the client's token).
churn=${CHURN_CLIENT:-$(dirname "$0")/../../build/odp_churn_client}
if [[ -x $churn ]]; then
  for ((round = 1; round <= ROUNDS; round++)); do
    for kind in "sequential:500:1" "32 parallel:960:32"; do
      IFS=: read -r k n par <<<"$kind"
      for p in $paths; do
        r=$("$churn" --host 127.0.0.1 --port "$p" --user app --password app --db test --count "$n" --parallel "$par" |
          tail -1 | grep -oE "errors=[0-9]+|median_us=[0-9.]+|cycles_per_s=[0-9.]+" | tr '\n' ' ')
        echo "round $round | logins $k | ${name[$p]} | $r"
      done
    done
    for mode in "oceanbase:$OB_ODP:$OB_DIR" "mysql:$MY_ODP:$MY_DIR"; do
      IFS=: read -r m port dir <<<"$mode"
      pid=$(cat "$dir/odp.pid")
      c0=$(cpu "$pid")
      "$churn" --host 127.0.0.1 --port "$port" --user app --password app --db test --count 500 >/dev/null
      c1=$(cpu "$pid")
      echo "round $round | odp $m mode | $(((c1 - c0) * 1000000 / tick / 500)) us CPU per login (500 logins)"
    done
  done
fi
for p in $((OB_BASE + 1)) $((MY_BASE + 1)); do
  mariadb --no-defaults --skip-ssl -h127.0.0.1 -P"$p" -uapp -papp -e "DROP DATABASE IF EXISTS test_obbench"
done
