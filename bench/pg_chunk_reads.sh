#!/usr/bin/env bash
# What a PostgreSQL source pays for reading a table by key ranges, as Ferry's chunks do, against
# one sequential COPY of it, as pg_dump does: the backend's CPU (user, kernel) and its minor
# page faults, read from /proc. Runs against the servers and dataset that
# `KEEP_SERVERS=1 bench/full_load.sh` leaves up; one session reads the 4 tables each way,
# twice, in binary, to /dev/null. Figures only; nothing is asserted.
#
#   KEEP_SERVERS=1 PAIRS=p2p ROWS=4500000 bench/full_load.sh && bench/pg_chunk_reads.sh
#   CHUNKS=96 bench/pg_chunk_reads.sh     # chunks over the 4 tables (default: 24 a table)
set -euo pipefail
cd "$(dirname "$0")/.."
export FERRY_SERVERS_DIR=${FERRY_SERVERS_DIR:-${TMPDIR:-/tmp}/ferry-bench-load-$(id -u)}
export FERRY_PG_PORT=${FERRY_PG_PORT:-34432}
[ -f "$FERRY_SERVERS_DIR/password" ] || { echo "no servers in $FERRY_SERVERS_DIR: run KEEP_SERVERS=1 bench/full_load.sh first" >&2; exit 2; }
PGPASSWORD=$(cat "$FERRY_SERVERS_DIR/password")
export PGPASSWORD
per_table=$(( ${CHUNKS:-96} / 4 ))
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
psql=(psql -X -q -h 127.0.0.1 -p "$FERRY_PG_PORT" -U postgres -d bench)

read_tables() {  # read_tables MODE: one session; prints the backend's figures
  local mode=$1
  {
    echo "SELECT pg_backend_pid() \\g $work/pid"
    for t in orders customers events order_lines; do
      local k=id
      [ $t = order_lines ] && k=order_id
      if [ "$mode" = whole ]; then
        echo "COPY (SELECT * FROM public.$t) TO STDOUT (FORMAT binary);"
        continue
      fi
      local lo hi
      read -r lo hi < <("${psql[@]}" -At -F ' ' -c "SELECT min($k), max($k) FROM public.$t")
      local step=$(( (hi - lo + per_table) / per_table ))
      for ((b = lo - 1; b < hi; b += step)); do
        echo "COPY (SELECT * FROM public.$t WHERE $k > $b AND $k <= $((b + step))) TO STDOUT (FORMAT binary);"
      done
    done
    echo "\\! cat /proc/\$(sed -n 3p $work/pid | tr -d ' ')/stat > $work/stat"
  } >"$work/$mode.sql"
  local start end
  start=$(date +%s.%N)
  "${psql[@]}" -f "$work/$mode.sql" >/dev/null
  end=$(date +%s.%N)
  # /proc/PID/stat after the command name: minflt is field 10, utime 14, stime 15 (clock ticks).
  sed 's/.*) //' "$work/stat" | awk -v m="$mode" -v s="$start" -v e="$end" -v hz="$(getconf CLK_TCK)" \
    '{ printf "%-28s %6.2f s wall   backend: user %5.2f s  kernel %5.2f s  minor faults %7d\n", m, e - s, $12 / hz, $13 / hz, $8 }'
}

huge=$(awk '/^HugePages_(Total|Free|Rsvd)/ { v[$1] = $2 } END { print v["HugePages_Total:"] - v["HugePages_Free:"] + v["HugePages_Rsvd:"] }' /proc/meminfo)
echo "shared_buffers $("${psql[@]}" -Atc 'SHOW shared_buffers'); huge pages in use: $huge"
for _ in 1 2; do
  read_tables "$per_table key ranges a table"
  read_tables whole
done
