#!/usr/bin/env bash
# Schema migration of a large catalog: N tables of 12 columns, 2 secondary indexes and a
# foreign key each, in MariaDB. Runs side by side, on the same generated schema:
#   mariadb-dump --no-data                 (reading the schema, the peer everyone has)
#   ferry plan --dry-run                   (both catalogs read, mapped, DDL generated)
#   ferry precheck
#   ferry apply (stages = [schema]) into PostgreSQL, and into a second MariaDB
# and prints wall time and peak RSS for each. Figures only; nothing is asserted.
#
#   bench/schema_large_catalog.sh            # 1000 tables
#   TABLES=3000 bench/schema_large_catalog.sh
set -euo pipefail
cd "$(dirname "$0")/.."
tables=${TABLES:-1000}
ferry=$PWD/build/ferry
[ -x "$ferry" ] || scripts/setup
export FERRY_SERVERS_DIR=${FERRY_SERVERS_DIR:-${TMPDIR:-/tmp}/ferry-bench-$(id -u)}
export FERRY_MARIADB_PORT=${FERRY_MARIADB_PORT:-33306} FERRY_MARIADB2_PORT=${FERRY_MARIADB2_PORT:-33307}
export FERRY_PG_PORT=${FERRY_PG_PORT:-35432} FERRY_PG2_PORT=${FERRY_PG2_PORT:-35433}
scripts/servers start >/dev/null
trap 'scripts/servers stop' EXIT
eval "$(scripts/servers env)"
export MYSQL_PWD
MYSQL_PWD=$(cat "$FERRY_TEST_PASSWORD_FILE")
work=$(mktemp -d)

{
  echo "DROP DATABASE IF EXISTS big; CREATE DATABASE big; USE big;"
  echo "CREATE TABLE t0 (id int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY, name varchar(40));"
  for i in $(seq 1 "$tables"); do
    echo "CREATE TABLE t$i (id bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY, parent int unsigned,"
    echo " a int NOT NULL DEFAULT 0, b varchar(100), c decimal(12,2), d datetime(3), e text, f tinyint(1) NOT NULL DEFAULT 0,"
    echo " g enum('x','y'), h json, i double, j date, KEY ka (a, b), KEY kd (d),"
    echo " CONSTRAINT fk$i FOREIGN KEY (parent) REFERENCES t0 (id));"
  done
} >"$work/schema.sql"
mariadb --no-defaults -h127.0.0.1 -P"$FERRY_MARIADB_PORT" -uferry <"$work/schema.sql"

plan() {  # plan NAME DEST_ENDPOINT_BLOCK
  cat >"$work/$1.ferry" <<PLAN
endpoint src {
  engine   = mariadb
  host     = "127.0.0.1"
  port     = $FERRY_MARIADB_PORT
  user     = "ferry"
  password = secret("file:$FERRY_TEST_PASSWORD_FILE")
}
$2
migration m {
  from   = src
  to     = dst
  stages = [schema]
  objects {
    schema big
  }
}
PLAN
}
plan to_pg "endpoint dst {
  engine   = postgres
  host     = \"127.0.0.1\"
  port     = $FERRY_PG_PORT
  database = \"postgres\"
  user     = \"postgres\"
  password = secret(\"file:$FERRY_TEST_PASSWORD_FILE\")
}"
plan to_maria "endpoint dst {
  engine   = mariadb
  host     = \"127.0.0.1\"
  port     = $FERRY_MARIADB2_PORT
  user     = \"ferry\"
  password = secret(\"file:$FERRY_TEST_PASSWORD_FILE\")
}"

measure() {  # measure LABEL command…
  local label=$1
  shift
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/out" 2>&1 || { echo "$label failed:"; tail -5 "$work/out"; }
  read -r secs kb <"$work/time" || true
  awk -v l="$label" -v s="${secs:-0}" -v k="${kb:-0}" 'BEGIN { printf "%-46s %8.2f s %8.1f MB\n", l, s, k / 1024 }'

}

echo "schema of $((tables + 1)) tables ($(wc -c <"$work/schema.sql") bytes of DDL), MariaDB $(mariadb --version | awk '{print $5}')"
printf '%-46s %10s %11s\n' "" "wall" "peak RSS"
measure "mariadb-dump --no-data (peer: read the schema)" \
  mariadb-dump --no-defaults -h127.0.0.1 -P"$FERRY_MARIADB_PORT" -uferry --no-data --databases big
measure "ferry plan --dry-run (MariaDB -> PostgreSQL)" "$ferry" plan "$work/to_pg.ferry" --dry-run
measure "ferry precheck (MariaDB -> PostgreSQL)" "$ferry" precheck "$work/to_pg.ferry"
measure "ferry apply, schema (MariaDB -> PostgreSQL)" "$ferry" apply "$work/to_pg.ferry"
measure "ferry apply, schema (MariaDB -> MariaDB)" "$ferry" apply "$work/to_maria.ferry"
measure "mariadb < dump (peer: replay the dump)" \
  sh -c "mariadb-dump --no-defaults -h127.0.0.1 -P$FERRY_MARIADB_PORT -uferry --no-data big >$work/dump.sql && mariadb --no-defaults -h127.0.0.1 -P$FERRY_MARIADB2_PORT -uferry -e 'CREATE DATABASE big_peer' && mariadb --no-defaults -h127.0.0.1 -P$FERRY_MARIADB2_PORT -uferry big_peer <$work/dump.sql"
rm -rf "$work"
