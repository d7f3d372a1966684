#!/usr/bin/env bash
# The full load beside the tools a user would pick instead, on one generated dataset, in one
# run (compare ratios: the machine is shared and noisy). Prints wall time, rows/s, MB/s and
# peak RSS for each, with Ferry's ratio to each peer, and `ferry verify` (checksum and count)
# over the data just loaded, beside the load. Figures only; nothing is asserted.
#
#   bench/full_load.sh                 # ROWS=1000000 (the issue's figure is 4.5M: ROWS=4500000)
#   WORKERS=4 ROWS=4500000 bench/full_load.sh
#   PAIRS="m2m m2p" bench/full_load.sh  # some of the pairs only (m2m, p2p, m2p)
#   KEEP_SERVERS=1 bench/full_load.sh   # leave the servers and the dataset up to profile against
#   HUGE_PAGES=1 bench/full_load.sh     # PostgreSQL on huge pages, as production servers run (root)
#   REPEAT=3 bench/full_load.sh         # the pairs 3 times over, interleaved; medians at the end
#
# Peers (installed from Debian's packages when missing): mydumper/myloader, pg_dump|pg_restore,
# pgcopydb, pgloader, and a raw COPY TO | COPY FROM pipe.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${ROWS:-1000000}
workers=${WORKERS:-2}
repeat=${REPEAT:-1}
pairs=" ${PAIRS:-m2m p2p m2p} "
ferry=$PWD/build/ferry
[ -x "$ferry" ] || scripts/setup
sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
missing=()
for p in mydumper pgcopydb pgloader; do command -v "$p" >/dev/null || missing+=("$p"); done
if ((${#missing[@]})); then
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
export FERRY_SERVERS_DIR=${FERRY_SERVERS_DIR:-${TMPDIR:-/tmp}/ferry-bench-load-$(id -u)}
export FERRY_MARIADB_PORT=${FERRY_MARIADB_PORT:-34306} FERRY_MARIADB2_PORT=${FERRY_MARIADB2_PORT:-34307}
export FERRY_PG_PORT=${FERRY_PG_PORT:-34432} FERRY_PG2_PORT=${FERRY_PG2_PORT:-34433}
# HUGE_PAGES=1 reserves 2 MB pages for the two PostgreSQL servers before they start (their
# default huge_pages=try then takes them), as the PostgreSQL manual advises for production.
# Without them every backend maps shared_buffers 4 KB at a time: a reader whose scan goes
# through the whole buffer pool (an index range, as Ferry's chunks read) pays a page fault per
# 4 KB it touches, where a sequential scan (pg_dump) cycles through a 256 KB ring.
old_huge=""
if [ -n "${HUGE_PAGES:-}" ]; then
  old_huge=$(cat /proc/sys/vm/nr_hugepages)
  # 256 MB of shared_buffers and the rest of the shared memory, per server, in 2 MB pages.
  $sudo sysctl -q -w vm.nr_hugepages=$((old_huge + 2 * 150))
fi
cleanup() {
  [ -n "${KEEP_SERVERS:-}" ] || scripts/servers stop
  [ -z "$old_huge" ] || [ -n "${KEEP_SERVERS:-}" ] || $sudo sysctl -q -w vm.nr_hugepages="$old_huge"
}
trap cleanup EXIT
scripts/servers start >/dev/null
eval "$(scripts/servers env)"
pw=$(cat "$FERRY_TEST_PASSWORD_FILE")
export MYSQL_PWD=$pw PGPASSWORD=$pw
work=$(mktemp -d)
m1=(mariadb --no-defaults --default-character-set=utf8mb4 -h127.0.0.1 -P"$FERRY_MARIADB_PORT" -uferry)
m2=(mariadb --no-defaults --default-character-set=utf8mb4 -h127.0.0.1 -P"$FERRY_MARIADB2_PORT" -uferry)
p1=(psql -q -h 127.0.0.1 -p "$FERRY_PG_PORT" -U postgres)
p2=(psql -q -h 127.0.0.1 -p "$FERRY_PG2_PORT" -U postgres)

# The dataset: 4 tables, ~110 bytes a row, mixed types; the same rows in MariaDB and PostgreSQL.
per=$((rows / 4))
"${m1[@]}" <<SQL
DROP DATABASE IF EXISTS bench; CREATE DATABASE bench; USE bench;
CREATE TABLE orders (id bigint unsigned NOT NULL PRIMARY KEY, customer int NOT NULL, total decimal(12,2), status varchar(10),
  created datetime(3), note varchar(60), KEY (customer), KEY (created));
CREATE TABLE customers (id int NOT NULL PRIMARY KEY, email varchar(80), name varchar(60), vip tinyint(1), born date, KEY (email));
CREATE TABLE events (id bigint NOT NULL PRIMARY KEY, kind varchar(16), payload json, at timestamp(6) NULL, KEY (kind, at));
CREATE TABLE order_lines (order_id bigint NOT NULL, line int NOT NULL, sku varchar(20), qty int, price double, PRIMARY KEY (order_id, line));
INSERT INTO orders SELECT seq, seq % 100000, (seq % 100000) / 100, ELT(1 + seq % 3, 'new', 'paid', 'shipped'),
  '2024-01-01' + INTERVAL seq SECOND, REPEAT(CHAR(97 + seq % 26), 20 + seq % 40) FROM seq_1_to_$per;
INSERT INTO customers SELECT seq, CONCAT('c', seq, '@example.com'), CONCAT('Customer ', seq), seq % 13 = 0,
  '1970-01-01' + INTERVAL (seq % 20000) DAY FROM seq_1_to_$per;
INSERT INTO events SELECT seq, ELT(1 + seq % 4, 'click', 'view', 'buy', 'leave'),
  JSON_OBJECT('n', seq, 'tag', CHAR(97 + seq % 26)), '2024-01-01' + INTERVAL seq SECOND FROM seq_1_to_$per;
INSERT INTO order_lines SELECT 1 + seq DIV 4, seq % 4, CONCAT('SKU-', seq % 9973), 1 + seq % 9, (seq % 10000) / 7 FROM seq_0_to_$((per - 1));
SQL
"${p1[@]}" -d postgres -c 'DROP DATABASE IF EXISTS bench' -c 'CREATE DATABASE bench'
"${p1[@]}" -d bench <<SQL
CREATE TABLE orders (id bigint PRIMARY KEY, customer int NOT NULL, total numeric(12,2), status varchar(10), created timestamp(3), note varchar(60));
CREATE TABLE customers (id int PRIMARY KEY, email varchar(80), name varchar(60), vip boolean, born date);
CREATE TABLE events (id bigint PRIMARY KEY, kind varchar(16), payload jsonb, at timestamptz(6));
CREATE TABLE order_lines (order_id bigint, line int, sku varchar(20), qty int, price double precision, PRIMARY KEY (order_id, line));
INSERT INTO orders SELECT g, g % 100000, (g % 100000) / 100.0, (ARRAY['new','paid','shipped'])[1 + g % 3],
  '2024-01-01'::timestamp + g * interval '1 second', repeat(chr(97 + g % 26), 20 + g % 40) FROM generate_series(1, $per) g;
INSERT INTO customers SELECT g, 'c' || g || '@example.com', 'Customer ' || g, g % 13 = 0, '1970-01-01'::date + g % 20000 FROM generate_series(1, $per) g;
INSERT INTO events SELECT g, (ARRAY['click','view','buy','leave'])[1 + g % 4], jsonb_build_object('n', g, 'tag', chr(97 + g % 26)),
  '2024-01-01'::timestamptz + g * interval '1 second' FROM generate_series(1, $per) g;
INSERT INTO order_lines SELECT 1 + g / 4, g % 4, 'SKU-' || g % 9973, 1 + g % 9, (g % 10000) / 7.0 FROM generate_series(0, $per - 1) g;
CREATE INDEX ON orders (customer); CREATE INDEX ON orders (created); CREATE INDEX ON customers (email); CREATE INDEX ON events (kind, at);
VACUUM ANALYZE;
SQL
"${m1[@]}" -e 'ANALYZE TABLE bench.orders, bench.customers, bench.events, bench.order_lines' >/dev/null
mb=$("${m1[@]}" -N -e "SELECT ROUND(SUM(DATA_LENGTH) / 1048576) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'bench'")

plan() {  # plan FILE FROM TO DSTDB
  local src dst
  case $2 in
    maria) src="engine = mariadb\n  host = \"127.0.0.1\"\n  port = $FERRY_MARIADB_PORT\n  user = \"ferry\"" ;;
    pg) src="engine = postgres\n  host = \"127.0.0.1\"\n  port = $FERRY_PG_PORT\n  database = \"bench\"\n  user = \"postgres\"" ;;
  esac
  case $3 in
    maria) dst="engine = mariadb\n  host = \"127.0.0.1\"\n  port = $FERRY_MARIADB2_PORT\n  user = \"ferry\"" ;;
    pg) dst="engine = postgres\n  host = \"127.0.0.1\"\n  port = $FERRY_PG2_PORT\n  database = \"$4\"\n  user = \"postgres\"" ;;
  esac
  local schema=bench
  [ "$2" = pg ] && schema=public
  printf "endpoint src {\n  $src\n  password = secret(\"file:$FERRY_TEST_PASSWORD_FILE\")\n}\nendpoint dst {\n  $dst\n  password = secret(\"file:$FERRY_TEST_PASSWORD_FILE\")\n}\nmigration m {\n  from = src\n  to = dst\n  stages = [schema, full]\n  workers = $workers\n  objects {\n    schema $schema -> ferry_copy\n  }\n}\n" >"$1"
}

# Each tool starts from the same state: the servers' dirty pages written out (the dataset just
# generated, the previous tool's writes), so that no tool pays for another's checkpoint, and
# PostgreSQL's tables vacuumed, so that no autovacuum of what the previous tool wrote runs
# beside the next one (it did, beside the verify that follows a load).
settle() {
  for port in "$FERRY_PG_PORT" "$FERRY_PG2_PORT"; do
    vacuumdb --all --quiet -h 127.0.0.1 -p "$port" -U postgres
  done
  "${p1[@]}" -d postgres -c CHECKPOINT
  "${p2[@]}" -d postgres -c CHECKPOINT
  for m in "${m1[*]}" "${m2[*]}"; do
    $m -N -e "SET GLOBAL innodb_max_dirty_pages_pct = 0" >/dev/null
    for _ in $(seq 1 30); do
      [ "$($m -N -e "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'INNODB_BUFFER_POOL_PAGES_DIRTY'")" -lt 100 ] && break
      sleep 1
    done
    $m -N -e "SET GLOBAL innodb_max_dirty_pages_pct = DEFAULT" >/dev/null
  done
}

declare -A secs rss runs
labels=() compared=()
measure() {  # measure LABEL command…
  local label=$1
  shift
  settle
  if /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/out" 2>&1; then
    read -r s k <"$work/time"
  else
    echo "  ($label failed: $(tail -2 "$work/out" | tr '\n' ' '))"
    s=0 k=0
  fi
  [ -n "${runs[$label]:-}" ] || labels+=("$label")
  secs[$label]=$s
  rss[$label]=$k
  runs[$label]+=" $s"
  awk -v l="$label" -v s="$s" -v k="$k" -v r="$rows" -v m="$mb" \
    'BEGIN { printf "%-44s %8.2f s %11.0f rows/s %8.1f MB/s %8.1f MB RSS\n", l, s, (s > 0 ? r / s : 0), (s > 0 ? m / s : 0), k / 1024 }'
}
ratio() {
  [[ " ${compared[*]} " == *" $1|$2 "* ]] || compared+=("$1|$2")
  awk -v a="${secs[$1]}" -v b="${secs[$2]}" -v n1="$1" -v n2="$2" 'BEGIN { if (a > 0 && b > 0) printf "  %s is %.2fx the speed of %s\n", n1, b / a, n2 }'
}
median() { tr ' ' '\n' <<<"$1" | { grep -v '^0*$' || true; } | sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2); else print 0 }'; }

# Verify over the data the load just wrote: checksum and count, beside the load's time.
verify_figures() {  # verify_figures LABEL PAIR
  measure "ferry verify --mode checksum ($2)" "$ferry" verify "$work/$2.ferry" --mode checksum
  measure "ferry verify --mode count ($2)" "$ferry" verify "$work/$2.ferry" --mode count
  ratio "ferry verify --mode checksum ($2)" "ferry ($1)"
}

huge=$(awk '/^HugePages_(Total|Free|Rsvd)/ { v[$1] = $2 } /^Hugepagesize/ { kb = $2 }
  END { printf "%d", (v["HugePages_Total:"] - v["HugePages_Free:"] + v["HugePages_Rsvd:"]) * kb / 1024 }' /proc/meminfo)
echo "dataset: $rows rows in 4 tables, ~$mb MB of MariaDB data; workers/threads = $workers; $(nproc) cores; huge pages in use: $huge MB"

for run in $(seq 1 "$repeat"); do
[ "$repeat" = 1 ] || printf "\n== run %d of %d\n" "$run" "$repeat"
if [[ $pairs == *" m2m "* ]]; then
echo
echo "MariaDB -> MariaDB"
plan "$work/m2m.ferry" maria maria
"${m2[@]}" -e 'DROP DATABASE IF EXISTS ferry_copy; DROP DATABASE IF EXISTS ferry_meta'
measure "ferry (MariaDB -> MariaDB)" "$ferry" apply "$work/m2m.ferry"
verify_figures "MariaDB -> MariaDB" "m2m"
"${m2[@]}" -e 'DROP DATABASE IF EXISTS bench'
measure "mydumper + myloader" sh -c "mydumper -h 127.0.0.1 -P $FERRY_MARIADB_PORT -u ferry -p '$pw' -B bench -t $workers -o $work/dump >/dev/null && myloader -h 127.0.0.1 -P $FERRY_MARIADB2_PORT -u ferry -p '$pw' -B bench -t $workers -d $work/dump -o"
files=$FERRY_SERVERS_DIR/mariadb.files
"${m2[@]}" -e 'DROP DATABASE IF EXISTS peer_load; CREATE DATABASE peer_load'
# The peer's schema goes first and is not timed; its indexes are built during the load.
mariadb-dump --no-defaults -h127.0.0.1 -P"$FERRY_MARIADB_PORT" -uferry --no-data bench | "${m2[@]}" peer_load
cat >"$work/outfile.sh" <<SH
one() {
  mariadb --no-defaults -h127.0.0.1 -P$FERRY_MARIADB_PORT -uferry -e "SELECT * INTO OUTFILE '$files/\$1.tsv' FROM bench.\$1" &&
    mariadb --no-defaults --local-infile=1 -h127.0.0.1 -P$FERRY_MARIADB2_PORT -uferry peer_load -e "LOAD DATA LOCAL INFILE '$files/\$1.tsv' INTO TABLE \$1"
}
rm -f $files/*.tsv
# $workers tables at a time
n=0
for t in orders customers events order_lines; do
  one \$t &
  n=\$((n + 1))
  [ \$((n % $workers)) = 0 ] && wait
done
wait
SH
measure "SELECT INTO OUTFILE + LOAD DATA" sh "$work/outfile.sh"
ratio "ferry (MariaDB -> MariaDB)" "mydumper + myloader"
ratio "ferry (MariaDB -> MariaDB)" "SELECT INTO OUTFILE + LOAD DATA"
fi
if [[ $pairs == *" p2p "* ]]; then
echo
echo "PostgreSQL -> PostgreSQL"
plan "$work/p2p.ferry" pg pg ferry_p2p
"${p2[@]}" -d postgres -c 'DROP DATABASE IF EXISTS ferry_p2p' -c 'CREATE DATABASE ferry_p2p'
measure "ferry (PostgreSQL -> PostgreSQL)" "$ferry" apply "$work/p2p.ferry"
verify_figures "PostgreSQL -> PostgreSQL" "p2p"
"${p2[@]}" -d postgres -c 'DROP DATABASE IF EXISTS dump_p2p' -c 'CREATE DATABASE dump_p2p'
measure "pg_dump -Fd -Z0 -j + pg_restore -j" sh -c "rm -rf $work/pgd && pg_dump -h 127.0.0.1 -p $FERRY_PG_PORT -U postgres -Fd -Z0 -j $workers -f $work/pgd bench && pg_restore -h 127.0.0.1 -p $FERRY_PG2_PORT -U postgres -j $workers -d dump_p2p $work/pgd"
"${p2[@]}" -d postgres -c 'DROP DATABASE IF EXISTS copydb' -c 'CREATE DATABASE copydb'
measure "pgcopydb clone" sh -c "rm -rf $work/pgcopydb && pgcopydb clone --dir $work/pgcopydb --table-jobs $workers --index-jobs $workers --source 'postgres://postgres:$pw@127.0.0.1:$FERRY_PG_PORT/bench' --target 'postgres://postgres:$pw@127.0.0.1:$FERRY_PG2_PORT/copydb'"
"${p2[@]}" -d postgres -c 'DROP DATABASE IF EXISTS rawcopy' -c 'CREATE DATABASE rawcopy'
pg_dump -h 127.0.0.1 -p "$FERRY_PG_PORT" -U postgres -s bench | "${p2[@]}" -d rawcopy >/dev/null
measure "raw binary COPY TO | COPY FROM" sh -c "for t in orders customers events order_lines; do psql -h 127.0.0.1 -p $FERRY_PG_PORT -U postgres -d bench -c \"COPY \$t TO STDOUT (FORMAT binary)\" | psql -h 127.0.0.1 -p $FERRY_PG2_PORT -U postgres -d rawcopy -c \"COPY \$t FROM STDIN (FORMAT binary)\" & done; wait"
ratio "ferry (PostgreSQL -> PostgreSQL)" "pg_dump -Fd -Z0 -j + pg_restore -j"
ratio "ferry (PostgreSQL -> PostgreSQL)" "pgcopydb clone"
ratio "ferry (PostgreSQL -> PostgreSQL)" "raw binary COPY TO | COPY FROM"
fi
if [[ $pairs == *" m2p "* ]]; then
echo
echo "MariaDB -> PostgreSQL"
plan "$work/m2p.ferry" maria pg ferry_m2p
"${p2[@]}" -d postgres -c 'DROP DATABASE IF EXISTS ferry_m2p' -c 'CREATE DATABASE ferry_m2p'
measure "ferry (MariaDB -> PostgreSQL)" "$ferry" apply "$work/m2p.ferry"
verify_figures "MariaDB -> PostgreSQL" "m2p"
"${p2[@]}" -d postgres -c 'DROP DATABASE IF EXISTS loader' -c 'CREATE DATABASE loader'
cat >"$work/pgloader.load" <<LOAD
LOAD DATABASE FROM mysql://ferry:$pw@127.0.0.1:$FERRY_MARIADB_PORT/bench
  INTO postgresql://postgres:$pw@127.0.0.1:$FERRY_PG2_PORT/loader
  WITH workers = $workers, concurrency = 1
  CAST type datetime to timestamptz drop default drop not null using zero-dates-to-null,
       type timestamp to timestamptz drop default drop not null using zero-dates-to-null;
LOAD
measure "pgloader" pgloader --dynamic-space-size 4096 "$work/pgloader.load"
ratio "ferry (MariaDB -> PostgreSQL)" "pgloader"
fi
done
if [ "$repeat" != 1 ]; then
  printf "\nMedians of %d runs (failed runs left out), with the fastest and the slowest\n" "$repeat"
  for l in "${labels[@]}"; do
    read -r lo hi < <(tr ' ' '\n' <<<"${runs[$l]}" | { grep -v '^0*$' || true; } | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo + 0, hi + 0 }')
    awk -v l="$l" -v s="$(median "${runs[$l]}")" -v lo="${lo:-0}" -v hi="${hi:-0}" -v r="$rows" -v m="$mb" \
      'BEGIN { printf "%-44s %8.2f s %11.0f rows/s %8.1f MB/s   (%.2f-%.2f s)\n", l, s, (s > 0 ? r / s : 0), (s > 0 ? m / s : 0), lo, hi }'
  done
  for c in "${compared[@]}"; do
    secs[${c%%|*}]=$(median "${runs[${c%%|*}]}")
    secs[${c#*|}]=$(median "${runs[${c#*|}]}")
    ratio "${c%%|*}" "${c#*|}"
  done
fi
if [ -n "${KEEP_SERVERS:-}" ]; then echo "plans and dumps kept in $work; servers: eval \"\$(scripts/servers env)\" with FERRY_SERVERS_DIR=$FERRY_SERVERS_DIR"; else rm -rf "$work"; fi
