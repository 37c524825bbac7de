# shellcheck shell=bash
# Sourced by scripts/sandbox: the OceanBase shape of the sandbox (docs/METADATA.md).
#
# State kept in $SB/meta/ (the authority the `oceanbase` tables are written from):
#   leaders   "TABLE PARTITION SERVER_INDEX" per line
#   status    "SERVER_INDEX ACTIVE|INACTIVE" per line
# Every metadata write goes to each live server with sql_log_bin = 0, so all copies are equal and
# nothing of it replicates. Test data is replicated: each server follows every other one.

META_DIR=$SB/meta
TENANT=t1

# Example tables: name, partition function, partition count, key column, key position, OB type.
#   part_of(): the partition a key value falls in, as SQL (used by the 4038 triggers).
# Two-level tables (shipments: RANGE(id) x HASH(region_id), 2 sub-partitions per partition) have a
# leader per sub-partition tablet. The leaders file counts a table's tablets 0, 1, ...: partition N,
# or for a two-level table part_id * subparts + sub_part_id; its tablet_id is tablet_id_of below.
EXAMPLE_TABLES=(orders events regions items accounts tags people devices readings shipments stock)
table_id_of() {
  case $1 in
    orders) echo 500001 ;; events) echo 500002 ;; regions) echo 500003 ;; items) echo 500004 ;;
    accounts) echo 500005 ;; tags) echo 500006 ;; people) echo 500007 ;; devices) echo 500008 ;;
    readings) echo 500009 ;; shipments) echo 500010 ;; stock) echo 500011 ;;
  esac
}
part_count_of() {
  case $1 in
    items) echo 1 ;; accounts) echo 10 ;; tags) echo 16 ;; people) echo 8 ;; devices) echo 6 ;; readings) echo 4 ;;
    *) echo 3 ;;
  esac
}
sub_part_count_of() { case $1 in shipments) echo 2 ;; *) echo 0 ;; esac; }
# The name of tablet N of TABLE: pN, or pXspY for a sub-partition.
tablet_name() { # TABLE N
  local subs
  subs=$(sub_part_count_of "$1")
  if ((subs > 0)); then echo "p$(($2 / subs))sp$(($2 % subs))"; else echo "p$2"; fi
}
# The tablet_id of tablet N of TABLE (N as above): table_id * 100 + N, distinct over all tables.
tablet_id_of() { echo $(($(table_id_of "$1") * 100 + $2)); }
# Tablets: one per partition, or one per sub-partition.
tablet_count_of() {
  local subs
  subs=$(sub_part_count_of "$1")
  if ((subs > 0)); then echo $(($(part_count_of "$1") * subs)); else part_count_of "$1"; fi
}
# The partition of a row (NEW or OLD), as SQL, for the 4038 triggers. KEY tables compute it the way
# OceanBase does (key_hash_sql below).
key_part_sql() { # TABLE ROW
  case $1 in
    accounts) echo "oceanbase.key_part(oceanbase.murmur64a(oceanbase.le64($2.id), 0), 10)" ;;
    tags) echo "oceanbase.key_part(oceanbase.murmur64a($2.tag, 0), 16)" ;;
    people) echo "oceanbase.key_part(oceanbase.general_ci_hash($2.name), 8)" ;;
    # KEY(vendor, serial): the fold goes through the key columns in order, each seeded with the last.
    devices) echo "oceanbase.key_part(oceanbase.murmur64a(oceanbase.le64($2.serial), oceanbase.murmur64a($2.vendor, 0)), 6)" ;;
    # RANGE COLUMNS(site, seq): (10, 100), (10, MAXVALUE), (20, 0), (MAXVALUE, MAXVALUE).
    readings) echo "IF($2.site IS NULL OR $2.seq IS NULL, NULL, CASE WHEN ($2.site, $2.seq) < (10, 100) THEN 0
      WHEN $2.site <= 10 THEN 1 WHEN ($2.site, $2.seq) < (20, 0) THEN 2 ELSE 3 END)" ;;
    # LIST COLUMNS(country, kind): ((1, 1), (1, 2)), ((2, 1)), DEFAULT.
    stock) echo "IF($2.country IS NULL OR $2.kind IS NULL, NULL, CASE WHEN ($2.country, $2.kind) IN ((1, 1), (1, 2))
      THEN 0 WHEN ($2.country, $2.kind) = (2, 1) THEN 1 ELSE 2 END)" ;;
    # RANGE(id) x HASH(region_id) 2: the sub-partition's tablet number.
    shipments) echo "IF($2.id < 1000, 0, IF($2.id < 2000, 1, 2)) * 2 + MOD(ABS($2.region_id), 2)" ;;
    regions) echo "oceanbase.part_of('$1', $2.code)" ;;
    *) echo "oceanbase.part_of('$1', $2.id)" ;;
  esac
}
# Default leaders (server index per partition), wrapped onto the number of servers.
default_leader() { # TABLE PART
  local l
  case $1:$2 in
    orders:0) l=1 ;; orders:1) l=2 ;; orders:2) l=3 ;;
    events:0) l=2 ;; events:1) l=3 ;; events:2) l=1 ;;
    regions:0) l=3 ;; regions:1) l=1 ;; regions:2) l=2 ;;
    items:0) l=2 ;;
    accounts:*) l=$(($2 % 3 + 1)) ;; tags:*) l=$((($2 + 1) % 3 + 1)) ;; people:*) l=$((($2 + 2) % 3 + 1)) ;;
    devices:*) l=$(($2 % 3 + 1)) ;; readings:*) l=$((($2 + 1) % 3 + 1)) ;;
    shipments:*) l=$((($2 + 2) % 3 + 1)) ;; # p0sp0 s3, p0sp1 s1, p1sp0 s2, ...
    stock:*) l=$(($2 % 3 + 1)) ;;
  esac
  echo $(((l - 1) % NSERVERS + 1))
}
server_region() { if ((NSERVERS >= 3 && $1 == NSERVERS)); then echo r2; else echo r1; fi; }
server_idc() { echo "idc$1"; }

server_alive() { # I: running and answering
  local pid
  pid=$(server_pid "$1") || return 1
  [[ $(proc_state "$pid") == alive ]] && server_ping "$1"
}

# ---------------------------------------------------------------------------------------------
# the leader map and server status

init_meta_state() {
  mkdir -p "$META_DIR"
  if [[ ! -s $META_DIR/leaders ]]; then
    local t p n
    : >"$META_DIR/leaders.tmp"
    for t in "${EXAMPLE_TABLES[@]}"; do
      n=$(tablet_count_of "$t")
      for ((p = 0; p < n; ++p)); do echo "$t $p $(default_leader "$t" "$p")" >>"$META_DIR/leaders.tmp"; done
    done
    mv "$META_DIR/leaders.tmp" "$META_DIR/leaders"
  fi
  if [[ ! -s $META_DIR/status ]]; then
    local i
    for ((i = 1; i <= NSERVERS; i++)); do echo "$i ACTIVE"; done >"$META_DIR/status"
  fi
}

leader_of() { awk -v t="$1" -v p="$2" '$1 == t && $2 == p { print $3 }' "$META_DIR/leaders"; }
status_of() { awk -v i="$1" '$1 == i { print $2 }' "$META_DIR/status"; }
set_leader() { # TABLE PART SERVER
  awk -v t="$1" -v p="$2" -v s="$3" '$1 == t && $2 == p { $3 = s } { print }' "$META_DIR/leaders" >"$META_DIR/leaders.tmp"
  mv "$META_DIR/leaders.tmp" "$META_DIR/leaders"
}
set_status() { # SERVER ACTIVE|INACTIVE
  awk -v i="$1" -v st="$2" '$1 == i { $2 = st } { print }' "$META_DIR/status" >"$META_DIR/status.tmp"
  mv "$META_DIR/status.tmp" "$META_DIR/status"
}

# ---------------------------------------------------------------------------------------------
# SQL

# In the oceanbase flavour the metadata names the OBServer-side endpoints, which listen
# SQL_PORT_SHIFT above their MariaDB servers: a server finds its own rows by @@port + the shift.
meta_schema_sql() {
  meta_schema_text | sed "s/sql_port = @@port/sql_port = @@port + $SQL_PORT_SHIFT/g"
}

meta_schema_text() {
  cat <<'EOF'
CREATE DATABASE IF NOT EXISTS oceanbase;
CREATE TABLE IF NOT EXISTS oceanbase.DBA_OB_SERVERS (svr_ip VARCHAR(46) NOT NULL, svr_port INT NOT NULL,
  sql_port INT NOT NULL, zone VARCHAR(128), status VARCHAR(32), start_service_time BIGINT NULL, stop_time BIGINT NULL,
  PRIMARY KEY (svr_ip, svr_port));
CREATE TABLE IF NOT EXISTS oceanbase.DBA_OB_ZONES (zone VARCHAR(128) PRIMARY KEY, status VARCHAR(32),
  region VARCHAR(128), idc VARCHAR(128), type VARCHAR(32));
CREATE TABLE IF NOT EXISTS oceanbase.DBA_OB_TENANTS (tenant_id BIGINT PRIMARY KEY, tenant_name VARCHAR(128),
  tenant_type VARCHAR(16), primary_zone VARCHAR(128), locality VARCHAR(256), status VARCHAR(32));
DROP TABLE IF EXISTS oceanbase.__all_virtual_proxy_schema, oceanbase.__all_virtual_proxy_partition_info,
  oceanbase.__all_virtual_proxy_partition, oceanbase.__all_virtual_proxy_sub_partition,
  oceanbase.__all_virtual_tablet_to_ls;
CREATE TABLE oceanbase.__all_virtual_proxy_schema (tenant_name VARCHAR(128) NOT NULL,
  database_name VARCHAR(128) NOT NULL, table_name VARCHAR(256) NOT NULL, tablet_id BIGINT NOT NULL,
  svr_ip VARCHAR(46) NOT NULL, sql_port BIGINT NOT NULL, table_id BIGINT NOT NULL, role BIGINT NOT NULL,
  part_num BIGINT NOT NULL, replica_num BIGINT NOT NULL, table_type BIGINT NOT NULL, schema_version BIGINT NOT NULL,
  replica_type BIGINT NOT NULL DEFAULT 0, dup_replica_type BIGINT NOT NULL DEFAULT 0,
  memstore_percent BIGINT NOT NULL DEFAULT 100, spare1 BIGINT NOT NULL DEFAULT 0, spare2 BIGINT NOT NULL DEFAULT 0,
  spare3 BIGINT NOT NULL DEFAULT 0, spare4 VARCHAR(512) NOT NULL DEFAULT '', spare5 VARCHAR(512) NOT NULL DEFAULT '',
  spare6 VARCHAR(512) NOT NULL DEFAULT '', complex_table_type BIGINT NOT NULL DEFAULT 0,
  level1_decoded_db_name VARCHAR(128) NOT NULL DEFAULT '', level1_decoded_table_name VARCHAR(256) NOT NULL DEFAULT '',
  level2_decoded_db_name VARCHAR(128) NOT NULL DEFAULT '', level2_decoded_table_name VARCHAR(256) NOT NULL DEFAULT '',
  PRIMARY KEY (tenant_name, database_name, table_name, tablet_id, svr_ip, sql_port));
CREATE TABLE oceanbase.__all_virtual_proxy_partition_info (tenant_name VARCHAR(128) NOT NULL,
  table_id BIGINT NOT NULL, part_level BIGINT NOT NULL, all_part_num BIGINT NOT NULL DEFAULT 0,
  template_num BIGINT NOT NULL DEFAULT 0, part_id_rule_ver BIGINT NOT NULL DEFAULT 0, part_type BIGINT NOT NULL,
  part_num BIGINT NOT NULL, is_column_type BIGINT NOT NULL DEFAULT 0, part_space BIGINT NOT NULL DEFAULT 0,
  part_expr VARCHAR(512) NOT NULL DEFAULT '', part_expr_bin VARCHAR(512) NOT NULL DEFAULT '',
  part_range_type VARCHAR(512) NOT NULL DEFAULT '', part_interval VARCHAR(512) NOT NULL DEFAULT '',
  part_interval_bin VARCHAR(512) NOT NULL DEFAULT '', interval_start VARCHAR(512) NOT NULL DEFAULT '',
  interval_start_bin VARCHAR(512) NOT NULL DEFAULT '', sub_part_type BIGINT NULL, sub_part_num BIGINT NOT NULL DEFAULT 0,
  is_sub_column_type BIGINT NOT NULL DEFAULT 0, sub_part_space BIGINT NOT NULL DEFAULT 0,
  sub_part_expr VARCHAR(512) NOT NULL DEFAULT '', sub_part_expr_bin VARCHAR(512) NOT NULL DEFAULT '',
  sub_part_range_type VARCHAR(512) NOT NULL DEFAULT '', def_sub_part_interval VARCHAR(512) NOT NULL DEFAULT '',
  def_sub_part_interval_bin VARCHAR(512) NOT NULL DEFAULT '', def_sub_interval_start VARCHAR(512) NOT NULL DEFAULT '',
  def_sub_interval_start_bin VARCHAR(512) NOT NULL DEFAULT '', part_key_num BIGINT NOT NULL,
  part_key_name VARCHAR(128) NOT NULL, part_key_type BIGINT NOT NULL, part_key_idx BIGINT NOT NULL,
  part_key_level BIGINT NOT NULL, part_key_extra VARCHAR(512) NOT NULL DEFAULT '',
  part_key_collation_type BIGINT NOT NULL, part_key_rowkey_idx BIGINT NOT NULL DEFAULT -1,
  part_key_expr VARCHAR(512) NOT NULL DEFAULT '', part_key_length BIGINT NOT NULL DEFAULT 0,
  part_key_precision BIGINT NOT NULL DEFAULT 0, part_key_scale BIGINT NOT NULL DEFAULT 0,
  spare1 BIGINT NOT NULL DEFAULT 0, spare2 BIGINT NOT NULL DEFAULT 0, spare3 BIGINT NOT NULL DEFAULT 0,
  spare4 VARCHAR(512) NOT NULL DEFAULT '', spare5 VARCHAR(512) NOT NULL DEFAULT '',
  spare6 VARCHAR(512) NOT NULL DEFAULT '', PRIMARY KEY (tenant_name, table_id, part_key_name));
DROP TABLE IF EXISTS oceanbase.__all_virtual_proxy_partition;
CREATE TABLE oceanbase.__all_virtual_proxy_partition (tenant_name VARCHAR(128) NOT NULL,
  table_id BIGINT NOT NULL, part_id BIGINT NOT NULL, part_name VARCHAR(128) NOT NULL DEFAULT '',
  status BIGINT NOT NULL DEFAULT 0, low_bound_val VARCHAR(1024) NOT NULL DEFAULT '',
  low_bound_val_bin VARCHAR(1024) NOT NULL DEFAULT '', high_bound_val VARCHAR(1024) NOT NULL DEFAULT '',
  high_bound_val_bin VARBINARY(1024) NOT NULL DEFAULT '', part_position BIGINT NULL, tablet_id BIGINT NOT NULL,
  sub_part_num BIGINT NOT NULL DEFAULT 0, sub_part_space BIGINT NOT NULL DEFAULT 0,
  sub_part_interval VARCHAR(1024) NOT NULL DEFAULT '', sub_part_interval_bin VARCHAR(1024) NOT NULL DEFAULT '',
  sub_interval_start VARCHAR(1024) NOT NULL DEFAULT '', sub_interval_start_bin VARCHAR(1024) NOT NULL DEFAULT '',
  spare1 BIGINT NOT NULL DEFAULT 0, spare2 BIGINT NOT NULL DEFAULT 0, spare3 BIGINT NOT NULL DEFAULT 0,
  spare4 VARCHAR(512) NOT NULL DEFAULT '', spare5 VARCHAR(512) NOT NULL DEFAULT '',
  spare6 VARCHAR(512) NOT NULL DEFAULT '', PRIMARY KEY (tenant_name, table_id, part_id));
DROP TABLE IF EXISTS oceanbase.__all_virtual_proxy_sub_partition;
CREATE TABLE oceanbase.__all_virtual_proxy_sub_partition (tenant_name VARCHAR(128) NOT NULL,
  table_id BIGINT NOT NULL, part_id BIGINT NOT NULL, sub_part_id BIGINT NOT NULL,
  part_name VARCHAR(128) NOT NULL DEFAULT '', status BIGINT NOT NULL DEFAULT 0,
  low_bound_val VARCHAR(1024) NOT NULL DEFAULT '', low_bound_val_bin VARCHAR(1024) NOT NULL DEFAULT '',
  high_bound_val VARCHAR(1024) NOT NULL DEFAULT '', high_bound_val_bin VARBINARY(1024) NOT NULL DEFAULT '',
  sub_part_position BIGINT NULL, tablet_id BIGINT NOT NULL, spare1 BIGINT NOT NULL DEFAULT 0,
  spare2 BIGINT NOT NULL DEFAULT 0, spare3 BIGINT NOT NULL DEFAULT 0, spare4 VARCHAR(512) NOT NULL DEFAULT '',
  spare5 VARCHAR(512) NOT NULL DEFAULT '', spare6 VARCHAR(512) NOT NULL DEFAULT '',
  PRIMARY KEY (tenant_name, table_id, part_id, sub_part_id));
CREATE TABLE oceanbase.__all_virtual_tablet_to_ls (tenant_id BIGINT NOT NULL, tablet_id BIGINT NOT NULL,
  gmt_create TIMESTAMP(6) NULL DEFAULT CURRENT_TIMESTAMP(6), gmt_modified TIMESTAMP(6) NULL DEFAULT CURRENT_TIMESTAMP(6),
  ls_id BIGINT NOT NULL, table_id BIGINT NOT NULL, transfer_seq BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, tablet_id));
DROP FUNCTION IF EXISTS oceanbase.part_of;
CREATE FUNCTION oceanbase.part_of(tbl VARCHAR(64), k BIGINT) RETURNS BIGINT DETERMINISTIC
  RETURN CASE tbl
    WHEN 'orders' THEN ABS(MOD(k, 3))
    WHEN 'events' THEN IF(k < 1000, 0, IF(k < 2000, 1, 2))
    WHEN 'regions' THEN IF(k IN (1, 2, 3), 0, IF(k IN (4, 5, 6), 1, 2))
    ELSE 0 END;
DROP PROCEDURE IF EXISTS oceanbase.check_leader;
DELIMITER //
CREATE PROCEDURE oceanbase.check_leader(tbl VARCHAR(64), tablet BIGINT) SQL SECURITY DEFINER
BEGIN
  IF tablet IS NOT NULL AND NOT EXISTS (SELECT 1 FROM oceanbase.__all_virtual_proxy_schema WHERE tenant_name = 't1'
                 AND database_name = 'test' AND table_name = tbl AND tablet_id = tablet AND role = 1
                 AND sql_port = @@port) THEN
    SIGNAL SQLSTATE 'HY000' SET MYSQL_ERRNO = 4038, MESSAGE_TEXT = 'Not master';
  END IF;
END//
DELIMITER ;
EOF
  key_hash_sql
}

# OceanBase's KEY partitioning in SQL (OB-VECTORS.md section 4), for the 4038 triggers of the KEY
# tables: murmurhash64A with 64-bit products taken modulo 2^64 in DECIMAL, integers as 8 bytes LE,
# utf8mb4_general_ci as its weights (WEIGHT_STRING, big-endian, swapped to LE) in 128-byte chunks.
key_hash_sql() {
  cat <<'EOF'
DROP FUNCTION IF EXISTS oceanbase.mul64;
CREATE FUNCTION oceanbase.mul64(a BIGINT UNSIGNED, b BIGINT UNSIGNED) RETURNS BIGINT UNSIGNED DETERMINISTIC
  RETURN CAST(MOD(CAST(a AS DECIMAL(65,0)) * CAST(b AS DECIMAL(65,0)), 18446744073709551616) AS UNSIGNED);
DROP FUNCTION IF EXISTS oceanbase.le64;
CREATE FUNCTION oceanbase.le64(v BIGINT) RETURNS VARBINARY(8) DETERMINISTIC
  RETURN REVERSE(UNHEX(LPAD(HEX(v), 16, '0')));
DROP FUNCTION IF EXISTS oceanbase.key_part;
CREATE FUNCTION oceanbase.key_part(h BIGINT UNSIGNED, n INT) RETURNS BIGINT DETERMINISTIC
  RETURN IF(h IS NULL, NULL, MOD(IF(h >= 9223372036854775808, 18446744073709551616 - CAST(h AS DECIMAL(65,0)), h), n));
DROP FUNCTION IF EXISTS oceanbase.murmur64a;
DELIMITER //
CREATE FUNCTION oceanbase.murmur64a(data VARBINARY(1024), seed BIGINT UNSIGNED) RETURNS BIGINT UNSIGNED DETERMINISTIC
BEGIN
  DECLARE m BIGINT UNSIGNED DEFAULT 14313749767032793493;
  DECLARE len INT DEFAULT LENGTH(data);
  DECLARE i INT DEFAULT 0;
  DECLARE k BIGINT UNSIGNED;
  DECLARE h BIGINT UNSIGNED;
  IF data IS NULL THEN RETURN NULL; END IF;
  SET h = seed ^ oceanbase.mul64(len, m);
  WHILE i + 8 <= len DO
    SET k = CAST(CONV(HEX(REVERSE(SUBSTRING(data, i + 1, 8))), 16, 10) AS UNSIGNED);
    SET k = oceanbase.mul64(k, m);
    SET k = k ^ (k >> 47);
    SET k = oceanbase.mul64(k, m);
    SET h = oceanbase.mul64(h ^ k, m);
    SET i = i + 8;
  END WHILE;
  IF len > i THEN
    SET k = CAST(CONV(HEX(REVERSE(SUBSTRING(data, i + 1))), 16, 10) AS UNSIGNED);
    SET h = oceanbase.mul64(h ^ k, m);
  END IF;
  SET h = h ^ (h >> 47);
  SET h = oceanbase.mul64(h, m);
  RETURN h ^ (h >> 47);
END//
DROP FUNCTION IF EXISTS oceanbase.general_ci_hash//
CREATE FUNCTION oceanbase.general_ci_hash(s VARCHAR(1024) CHARACTER SET utf8mb4) RETURNS BIGINT UNSIGNED DETERMINISTIC
BEGIN
  DECLARE w VARBINARY(4096);
  DECLARE le VARBINARY(4096) DEFAULT '';
  DECLARE i INT DEFAULT 1;
  DECLARE h BIGINT UNSIGNED DEFAULT 0;
  IF s IS NULL THEN RETURN NULL; END IF;
  SET w = WEIGHT_STRING(TRIM(TRAILING ' ' FROM s) COLLATE utf8mb4_general_ci);
  WHILE i < LENGTH(w) DO
    SET le = CONCAT(le, SUBSTRING(w, i + 1, 1), SUBSTRING(w, i, 1));
    SET i = i + 2;
  END WHILE;
  SET i = 1;
  WHILE i <= LENGTH(le) DO
    SET h = oceanbase.murmur64a(SUBSTRING(le, i, 128), h);
    SET i = i + 128;
  END WHILE;
  RETURN h;
END//
DELIMITER ;
EOF
}

# The example tables (real MariaDB partitioning), seed rows and the 4038 triggers.
example_tables_sql() {
  cat <<'EOF'
DROP TABLE IF EXISTS test.orders, test.events, test.regions, test.items, test.accounts, test.tags, test.people,
  test.devices, test.readings, test.shipments, test.stock;
CREATE TABLE test.orders (id BIGINT PRIMARY KEY, customer VARCHAR(64), amount DECIMAL(12,2))
  PARTITION BY HASH(id) PARTITIONS 3;
CREATE TABLE test.events (id BIGINT PRIMARY KEY, kind VARCHAR(32), at DATETIME)
  PARTITION BY RANGE (id) (PARTITION p0 VALUES LESS THAN (1000), PARTITION p1 VALUES LESS THAN (2000),
                           PARTITION p2 VALUES LESS THAN MAXVALUE);
CREATE TABLE test.regions (code INT, id BIGINT, name VARCHAR(64), PRIMARY KEY (code, id))
  PARTITION BY LIST (code) (PARTITION p0 VALUES IN (1, 2, 3), PARTITION p1 VALUES IN (4, 5, 6), PARTITION p2 DEFAULT);
CREATE TABLE test.items (id BIGINT PRIMARY KEY, name VARCHAR(64));
CREATE TABLE test.accounts (id BIGINT PRIMARY KEY, owner VARCHAR(64));
CREATE TABLE test.tags (tag VARBINARY(64) PRIMARY KEY, note VARCHAR(64));
CREATE TABLE test.people (name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci PRIMARY KEY, age INT);
CREATE TABLE test.devices (vendor VARBINARY(32), serial BIGINT, note VARCHAR(64), PRIMARY KEY (vendor, serial))
  PARTITION BY KEY (vendor, serial) PARTITIONS 6;
CREATE TABLE test.readings (site BIGINT, seq BIGINT, val INT, PRIMARY KEY (site, seq))
  PARTITION BY RANGE COLUMNS (site, seq) (PARTITION p0 VALUES LESS THAN (10, 100),
    PARTITION p1 VALUES LESS THAN (10, MAXVALUE), PARTITION p2 VALUES LESS THAN (20, 0),
    PARTITION p3 VALUES LESS THAN (MAXVALUE, MAXVALUE));
CREATE TABLE test.stock (country INT, kind INT, qty INT, PRIMARY KEY (country, kind))
  PARTITION BY LIST COLUMNS (country, kind) (PARTITION p0 VALUES IN ((1, 1), (1, 2)), PARTITION p1 VALUES IN ((2, 1)),
    PARTITION p2 DEFAULT);
CREATE TABLE test.shipments (id BIGINT, region_id BIGINT, what VARCHAR(64), PRIMARY KEY (id, region_id))
  PARTITION BY RANGE (id) SUBPARTITION BY HASH (region_id) SUBPARTITIONS 2
  (PARTITION p0 VALUES LESS THAN (1000), PARTITION p1 VALUES LESS THAN (2000), PARTITION p2 VALUES LESS THAN MAXVALUE);
INSERT INTO test.orders VALUES (0, 'ann', 10.00), (1, 'bob', 11.50), (2, 'cid', 12.25), (3, 'dee', 13.00),
  (4, 'eve', 14.75), (5, 'fay', 15.10);
INSERT INTO test.events VALUES (10, 'boot', '2026-01-01 00:00:00'), (1500, 'tick', '2026-01-02 00:00:00'),
  (5000, 'stop', '2026-01-03 00:00:00');
INSERT INTO test.regions VALUES (1, 1, 'north'), (5, 1, 'south'), (9, 1, 'elsewhere');
INSERT INTO test.items VALUES (1, 'widget'), (2, 'gadget');
EOF
  local t base
  for t in "${EXAMPLE_TABLES[@]}"; do
    base=$(tablet_id_of "$t" 0)
    cat <<EOF
CREATE TRIGGER test.${t}_leader_bi BEFORE INSERT ON test.$t FOR EACH ROW
  CALL oceanbase.check_leader('$t', $base + ($(key_part_sql "$t" NEW)));
DELIMITER //
CREATE TRIGGER test.${t}_leader_bu BEFORE UPDATE ON test.$t FOR EACH ROW
BEGIN
  CALL oceanbase.check_leader('$t', $base + ($(key_part_sql "$t" OLD)));
  CALL oceanbase.check_leader('$t', $base + ($(key_part_sql "$t" NEW)));
END//
DELIMITER ;
CREATE TRIGGER test.${t}_leader_bd BEFORE DELETE ON test.$t FOR EACH ROW
  CALL oceanbase.check_leader('$t', $base + ($(key_part_sql "$t" OLD)));
EOF
  done
}

# One partition_info row per key column: TID LEVEL PART_NUM TYPE KEY_NUM NAME KEY_TYPE KEY_IDX KEY_LEVEL EXPR
# COLLATION [SUB_PART_NUM SUB_TYPE SUB_EXPR] (types as OceanBase numbers them, docs/METADATA.md).
part_info_row() {
  echo "INSERT INTO oceanbase.__all_virtual_proxy_partition_info (tenant_name, table_id, part_level, part_num, part_type,
  part_key_num, part_key_name, part_key_type, part_key_idx, part_key_level, part_expr, part_key_collation_type,
  sub_part_num, sub_part_type, sub_part_expr) VALUES ('$TENANT', $1, $2, $3, $4, $5, '$6', $7, $8, $9, '${10}', ${11},
  ${12:-0}, ${13:-NULL}, '${14:-}');"
}

# The partitioning of one example table: partition_info rows, then per partition its bound/list.
part_info_sql() { # TABLE TID
  local t=$1 tid=$2
  case $t in
    orders) part_info_row "$tid" 1 3 0 1 id 5 0 1 id 63 ;;
    events) part_info_row "$tid" 1 3 3 1 id 5 0 1 id 63 ;;
    regions) part_info_row "$tid" 1 3 5 1 code 4 0 1 code 63 ;;
    items) part_info_row "$tid" 0 1 0 0 '' 0 -1 0 '' 0 ;;
    accounts) part_info_row "$tid" 1 10 1 1 id 5 0 1 id 63 ;;
    tags) part_info_row "$tid" 1 16 1 1 tag 22 0 1 tag 63 ;;
    people) part_info_row "$tid" 1 8 1 1 name 22 0 1 name 45 ;;
    devices)
      part_info_row "$tid" 1 6 1 2 vendor 22 0 1 'vendor, serial' 63
      part_info_row "$tid" 1 6 1 2 serial 5 1 1 'vendor, serial' 63
      ;;
    readings)
      part_info_row "$tid" 1 4 4 2 site 5 0 1 'site, seq' 63
      part_info_row "$tid" 1 4 4 2 seq 5 1 1 'site, seq' 63
      ;;
    stock)
      part_info_row "$tid" 1 3 6 2 country 4 0 1 'country, kind' 63
      part_info_row "$tid" 1 3 6 2 kind 4 1 1 'country, kind' 63
      ;;
    shipments)
      part_info_row "$tid" 2 3 3 1 id 5 0 1 id 63 2 0 region_id
      part_info_row "$tid" 2 3 3 1 region_id 5 1 2 id 63 2 0 region_id
      ;;
  esac
}

# high_bound_val of partition P as an SQL literal: OceanBase 4.x writes a RANGE partition's bound
# and a LIST partition's values there (no list_val column); '' for HASH/KEY.
part_bounds() { # TABLE P
  local high="''"
  case $1:$2 in
    events:0 | shipments:0) high="'1000'" ;; events:1 | shipments:1) high="'2000'" ;;
    events:2 | shipments:2) high="'MAXVALUE'" ;;
    readings:*) high="''" ;;  # from high_bound_val_bin alone (part_bound_bin)
    regions:0) high="'1,2,3'" ;; regions:1) high="'4,5,6'" ;; regions:2) high="'DEFAULT'" ;;
    stock:0) high="'(1,1),(1,2)'" ;; stock:1) high="'(2,1)'" ;; stock:2) high="'DEFAULT'" ;;
  esac
  echo "$high"
}

# high_bound_val_bin of a RANGE partition P as an SQL literal: OceanBase's serialised ObRowkey
# (routing/bound_bin.h): vi64 count, then per value the meta `type cs_level cs_type scale` and the
# value (Int 5: vi64; MAXVALUE: Extend 25 holding -2). readings leaves its text bound empty: its
# bounds come from these bytes alone, which the routing tests then prove end to end.
part_bound_bin() { # TABLE P
  local values
  case $1:$2 in
    events:0 | shipments:0) values="1000" ;; events:1 | shipments:1) values="2000" ;;
    events:2 | shipments:2) values="MAXVALUE" ;;
    readings:0) values="10 100" ;; readings:1) values="10 MAXVALUE" ;; readings:2) values="20 0" ;;
    readings:3) values="MAXVALUE MAXVALUE" ;;
    *) echo "''" && return ;;
  esac
  local hex v n=0 out=""
  vi64() { # non-negative N -> hex of its 7-bit groups, low first
    local x=$1 s=""
    while ((x >= 128)); do
      s+=$(printf '%02X' $(((x & 127) | 128)))
      x=$((x >> 7))
    done
    printf '%s%02X' "$s" "$x"
  }
  for v in $values; do
    n=$((n + 1))
    if [[ $v == MAXVALUE ]]; then
      out+="190700FF""FEFFFFFFFFFFFFFFFF01"
    else
      out+="05053FFF$(vi64 "$v")"
    fi
  done
  hex="$(vi64 "$n")$out"
  echo "X'$hex'"
}

# One __all_virtual_proxy_schema row: TENANT DATABASE TABLE TABLE_ID SERVER SQL_PORT ROLE PART_NUM
# REPLICA_NUM [TABLET_ID] (full replicas of a user table, schema version 1), appended to SCHEMA_ROWS:
# one INSERT of them all (a kill's rewrite holds up the clients of the killed server).
schema_row() {
  SCHEMA_ROWS+="${SCHEMA_ROWS:+,}('$1', '$2', '$3', ${10:-$4}, '127.0.0.1', $6, $4, $7, $8, $9, 3, 1, 0)"
}
schema_rows_sql() {
  echo "INSERT INTO oceanbase.__all_virtual_proxy_schema (tenant_name, database_name, table_name, tablet_id, svr_ip,
  sql_port, table_id, role, part_num, replica_num, table_type, schema_version, replica_type) VALUES $SCHEMA_ROWS;"
}

# Servers, zones, tenants, partitioning and every replica, from the state files.
meta_rows_sql() {
  local i t p s n subs l tid role now tablet ls_rows=""
  SCHEMA_ROWS=""
  now=$(($(date +%s) * 1000000))
  # Leaders read once (a fork per tablet made a rewrite take seconds under load).
  local -A leaders=()
  local lt lp ls
  while read -r lt lp ls; do leaders["$lt/$lp"]=$ls; done <"$META_DIR/leaders"
  echo "START TRANSACTION;"
  echo "DELETE FROM oceanbase.DBA_OB_SERVERS; DELETE FROM oceanbase.DBA_OB_ZONES; DELETE FROM oceanbase.DBA_OB_TENANTS;"
  echo "DELETE FROM oceanbase.__all_virtual_proxy_schema; DELETE FROM oceanbase.__all_virtual_proxy_partition_info;"
  echo "DELETE FROM oceanbase.__all_virtual_proxy_partition; DELETE FROM oceanbase.__all_virtual_proxy_sub_partition;"
  echo "DELETE FROM oceanbase.__all_virtual_tablet_to_ls;"
  for ((i = 1; i <= NSERVERS; i++)); do
    local st
    st=$(status_of "$i")
    echo "INSERT INTO oceanbase.DBA_OB_SERVERS VALUES ('127.0.0.1', $((2882 + i * 10)), $(sql_port_of "$i"), 'z$i', '$st', $now, NULL);"
    echo "INSERT INTO oceanbase.DBA_OB_ZONES VALUES ('z$i', 'ACTIVE', '$(server_region "$i")', '$(server_idc "$i")', 'READWRITE');"
    for t in sys $TENANT; do
      schema_row "$t" oceanbase __all_dummy 1 "$i" "$(sql_port_of "$i")" 1 1 "$NSERVERS"
    done
  done
  local zones="z1" z
  for ((z = 2; z <= NSERVERS; z++)); do zones+="$([[ $z == 2 ]] && echo ';' || echo ',')z$z"; done
  echo "INSERT INTO oceanbase.DBA_OB_TENANTS VALUES (1, 'sys', 'SYS', '$zones', 'FULL{1}', 'NORMAL'), (1002, '$TENANT', 'USER', '$zones', 'FULL{1}', 'NORMAL');"
  for t in "${EXAMPLE_TABLES[@]}"; do
    tid=$(table_id_of "$t")
    n=$(part_count_of "$t")
    subs=$(sub_part_count_of "$t")
    part_info_sql "$t" "$tid"
    ((n > 1 || subs > 0)) && for ((p = 0; p < n; ++p)); do
      if ((subs > 0)); then
        # A partition with sub-partitions has no tablet of its own; each sub-partition has one.
        echo "INSERT INTO oceanbase.__all_virtual_proxy_partition (tenant_name, table_id, part_id, part_name, high_bound_val, high_bound_val_bin, tablet_id, sub_part_num) VALUES ('$TENANT', $tid, $p, 'p$p', $(part_bounds "$t" "$p"), $(part_bound_bin "$t" "$p"), 0, $subs);"
        for ((s = 0; s < subs; ++s)); do
          echo "INSERT INTO oceanbase.__all_virtual_proxy_sub_partition (tenant_name, table_id, part_id, sub_part_id, part_name, sub_part_position, tablet_id) VALUES ('$TENANT', $tid, $p, $s, 'p${p}sp$s', $s, $((tid * 100 + p * subs + s)));"
        done
      else
        echo "INSERT INTO oceanbase.__all_virtual_proxy_partition (tenant_name, table_id, part_id, part_name, high_bound_val, high_bound_val_bin, part_position, tablet_id) VALUES ('$TENANT', $tid, $p, 'p$p', $(part_bounds "$t" "$p"), $(part_bound_bin "$t" "$p"), $p, $((tid * 100 + p)));"
      fi
    done
    # Replicas: one row per replica of each tablet (partition, or sub-partition of a two-level
    # table), and the table entry (tablet_id = 0, which OceanBase answers with the first tablet's
    # replicas: a stored table must hold those rows under 0 for the WHERE to find them).
    local tablets
    tablets=$(tablet_count_of "$t")
    # Arithmetic inline, no subshell a row: a kill's rewrite holds up the clients of the killed server.
    for ((p = 0; p < tablets; ++p)); do
      tablet=$((tid * 100 + p)) # tablet_id_of
      l=${leaders["$t/$p"]:-}
      ls_rows+="${ls_rows:+,}(1002, $tablet, 1001, $tid)"
      for ((i = 1; i <= NSERVERS; i++)); do
        role=2
        [[ $i == "$l" ]] && role=1
        schema_row "$TENANT" test "$t" "$tid" "$i" "$((PORT_BASE + SQL_PORT_SHIFT + i))" "$role" "$n" "$NSERVERS" "$tablet"
        if ((p == 0)); then
          schema_row "$TENANT" test "$t" "$tid" "$i" "$((PORT_BASE + SQL_PORT_SHIFT + i))" "$role" "$n" "$NSERVERS" 0
        fi
      done
    done
  done
  schema_rows_sql
  echo "INSERT INTO oceanbase.__all_virtual_tablet_to_ls (tenant_id, tablet_id, ls_id, table_id) VALUES $ls_rows;"
  echo "COMMIT;"
}

# Rewrites the metadata on one live server.
write_meta_to() {
  server_sql "$1" "SET sql_log_bin = 0; $(meta_rows_sql)" || die "s$1: writing the metadata failed"
}

write_meta_everywhere() {
  local i sql
  sql=$(meta_rows_sql)  # once: every server gets the same rows
  for ((i = 1; i <= NSERVERS; i++)); do
    if server_alive "$i"; then
      server_sql "$i" "SET sql_log_bin = 0; $sql" || die "s$i: writing the metadata failed"
    fi
  done
  return 0
}

start_replication() { # I: follow every other server
  local i=$1 k sql="SET sql_log_bin = 0;"
  for ((k = 1; k <= NSERVERS; k++)); do
    ((k == i)) && continue
    sql+=" CHANGE MASTER 's$k' TO MASTER_HOST = '127.0.0.1', MASTER_PORT = $(server_port "$k"), MASTER_USER = 'repl',
      MASTER_PASSWORD = 'repl', MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1;"
  done
  ((NSERVERS > 1)) || return 0
  server_sql "$i" "$sql START ALL SLAVES;" || die "s$i: starting replication failed"
}

# First `up` of a datadir set: schema, tables, seed rows, triggers, metadata, replication. Later
# `up`s only make sure the metadata matches the state files and replication runs.
# Bumped when the shape changes (tables, metadata columns): a sandbox made by an older version is
# set up again on its next `up` (example tables re-created, default leaders).
SHAPE_VERSION=6
((OCEANBASE)) && SHAPE_VERSION=6-ob

setup_cluster_shape() {
  local i fresh=0
  for ((i = 1; i <= NSERVERS; i++)); do
    [[ $(cat "$(server_dir "$i")/.cluster" 2>/dev/null) == "$SHAPE_VERSION" ]] || fresh=1
  done
  ((fresh)) && rm -f "$META_DIR/leaders"
  init_meta_state
  if ((fresh)); then
    log "setting up the cluster shape (metadata, example tables, replication)"
    for ((i = 1; i <= NSERVERS; i++)); do
      server_sql "$i" "STOP ALL SLAVES; RESET SLAVE ALL;" >/dev/null 2>&1 || true
      server_sql "$i" "SET sql_log_bin = 0; $(meta_schema_sql)
GRANT SELECT ON oceanbase.* TO 'proxyro'@'%'; GRANT SELECT ON oceanbase.* TO 'proxyro'@'localhost';
GRANT SELECT ON oceanbase.* TO 'proxyro'@'127.0.0.1';
GRANT SELECT ON oceanbase.* TO 'app'@'%'; GRANT SELECT ON oceanbase.* TO 'app'@'localhost';
GRANT SELECT ON oceanbase.* TO 'app'@'127.0.0.1';
$(example_tables_sql)" || die "s$i: creating the cluster schema failed"
      write_meta_to "$i"
    done
    for ((i = 1; i <= NSERVERS; i++)); do start_replication "$i"; done
    for ((i = 1; i <= NSERVERS; i++)); do echo "$SHAPE_VERSION" >"$(server_dir "$i")/.cluster"; done
  else
    write_meta_everywhere
    for ((i = 1; i <= NSERVERS; i++)); do server_sql "$i" "START ALL SLAVES;" >/dev/null 2>&1 || true; done
  fi
}

# ---------------------------------------------------------------------------------------------
# verbs

server_roles() { # I: "orders.p0 events.p2 shipments.p1sp0" (what it leads)
  [[ -s $META_DIR/leaders ]] || { echo "-"; return; }
  local out="" t p l
  while read -r t p l; do
    [[ $l == "$1" ]] && out+="${out:+ }$t.$(tablet_name "$t" "$p")"
  done <"$META_DIR/leaders"
  echo "${out:--}"
}

replication_state() { # I STATE: "repl: s2 ok 0s, s3 ok 0s"
  [[ $2 == alive* ]] || return 0
  ((NSERVERS > 1)) || return 0
  local rows
  # Columns by name: the layout of SHOW ALL SLAVES STATUS differs between versions.
  rows=$("${CLIENT[@]}" -uroot --socket="$(server_dir "$1")/mysqld.sock" -B -e "SHOW ALL SLAVES STATUS" 2>/dev/null |
    awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
                 { print $c["Connection_name"], $c["Slave_IO_Running"], $c["Slave_SQL_Running"], $c["Seconds_Behind_Master"] }') ||
    return 0
  [[ -n $rows ]] || { echo "[repl: none]"; return; }
  echo "[repl: $(awk '{ printf "%s%s %s/%s lag=%ss", (n++ ? ", " : ""), $1, $2, $3, $4 }' <<<"$rows")]"
}

on_server_killed() { # I: like an OceanBase election, the partitions it led move to a live server
  local i=$1 t p l k moved=""
  init_meta_state
  set_status "$i" INACTIVE
  # Which servers live, asked once: a ping per moved tablet made a kill take seconds (its clients
  # wait for the rewrite).
  local -A alive=()
  for ((k = 1; k <= NSERVERS; k++)); do
    ((k != i)) && server_alive "$k" && alive[$k]=1
  done
  while read -r t p l; do
    [[ $l == "$i" ]] || continue
    for ((k = 1; k <= NSERVERS; k++)); do
      local c=$(((i + k - 1) % NSERVERS + 1))
      ((c == i)) && continue
      if [[ -n ${alive[$c]:-} ]]; then
        set_leader "$t" "$p" "$c"
        moved+=" $t.p$p->s$c"
        break
      fi
    done
  done <"$META_DIR/leaders"
  write_meta_everywhere
  log "s$i marked INACTIVE;${moved:- no leadership to move}"
}

on_server_started() { # I: ACTIVE again, metadata rewritten, replication running
  local i=$1
  init_meta_state
  set_status "$i" ACTIVE
  write_meta_everywhere
  ((NSERVERS > 1)) && server_sql "$i" "START ALL SLAVES;" >/dev/null 2>&1
  log "s$i marked ACTIVE (leaders stay where they are)"
}

cmd_switch_leader() { # TABLE PARTITION NAME
  local table=${1:-} part=${2:-} name=${3:-} to from pos
  [[ -n $table && -n $part && -n $name ]] || die "usage: sandbox switch-leader TABLE PARTITION NAME (e.g. orders p1 s2)"
  table=${table#test.}
  part=${part#p}
  if [[ $part =~ ^([0-9]+)sp([0-9]+)$ ]] && (($(sub_part_count_of "$table") > 0)); then
    # A sub-partition by name: its tablet number.
    ((BASH_REMATCH[2] < $(sub_part_count_of "$table"))) || die "no sub-partition '$2' in '$table'"
    part=$((BASH_REMATCH[1] * $(sub_part_count_of "$table") + BASH_REMATCH[2]))
  fi
  [[ $part =~ ^[0-9]+$ ]] || die "bad partition '$2' (p0, p1, ... or 0, 1, ...; p0sp1 ... for sub-partitions)"
  to=$(server_index "$name") || die "unknown server '$name' (have: $(server_names | tr '\n' ' '))"
  init_meta_state
  from=$(leader_of "$table" "$part")
  [[ -n $from ]] || die "no partition p$part of table '$table' (tables: ${EXAMPLE_TABLES[*]})"
  server_alive "$to" || die "$name is not running"
  if [[ $from != "$to" ]] && server_alive "$from"; then
    # The new leader must have applied everything the old one wrote before it takes over.
    pos=$(server_sql "$from" "SELECT @@gtid_binlog_pos")
    if [[ -n $pos ]]; then
      local r
      r=$(server_sql "$to" "SELECT MASTER_GTID_WAIT('$pos', 10)")
      [[ $r == 0 ]] || log "warning: $name did not catch up with s$from within 10 s (MASTER_GTID_WAIT=$r)"
    fi
  fi
  set_leader "$table" "$part" "$to"
  write_meta_everywhere
  log "$table.$(tablet_name "$table" "$part"): leader s$from -> $name"
}
