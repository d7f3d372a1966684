#!/usr/bin/env bash
# Where a checksum's CPU goes: `ferry verify --mode checksum` of a plan that
# `KEEP_SERVERS=1 bench/full_load.sh` left (its m2p.ferry, m2m.ferry or p2p.ferry), with the CPU
# of Ferry and of each of the benchmark's servers meanwhile, read from /proc. Given several
# ferry binaries, runs them alternately (REPEAT times each, default 3), so that the machine's
# noise falls on all of them alike. Figures only; nothing is asserted.
#
#   KEEP_SERVERS=1 PAIRS=m2p ROWS=4500000 bench/full_load.sh   # prints the plans' folder
#   bench/verify_cpu.sh /tmp/tmp.XXXX/m2p.ferry                  # build/ferry
#   REPEAT=5 bench/verify_cpu.sh /tmp/tmp.XXXX/m2p.ferry old/ferry build/ferry
set -euo pipefail
cd "$(dirname "$0")/.."
plan=${1:?usage: bench/verify_cpu.sh PLAN [FERRY_BINARY...]}
shift
binaries=("$@")
((${#binaries[@]})) || binaries=("$PWD/build/ferry")
dir=${FERRY_SERVERS_DIR:-${TMPDIR:-/tmp}/ferry-bench-load-$(id -u)}
tick=$(getconf CLK_TCK)
# A server's CPU so far in ticks: its own threads (MariaDB) and the children it reaped
# (PostgreSQL's backends, which end with their connections).
ticks() { awk '{ print $14 + $15 + $16 + $17 }' "/proc/$1/stat"; }
servers=()
for name in mariadb mariadb_plain postgres postgres_plain; do
  pid=""
  if [ -f "$dir/$name/postmaster.pid" ]; then pid=$(head -1 "$dir/$name/postmaster.pid")
  elif [ -f "$dir/$name.pid" ]; then pid=$(cat "$dir/$name.pid"); fi
  [ -n "$pid" ] && [ -d "/proc/$pid" ] && servers+=("$name:$pid")
done
((${#servers[@]})) || { echo "no benchmark servers run in $dir (KEEP_SERVERS=1 bench/full_load.sh first)" >&2; exit 2; }
for run in $(seq 1 "${REPEAT:-3}"); do
  for bin in "${binaries[@]}"; do
    declare -A before=()
    for s in "${servers[@]}"; do before[$s]=$(ticks "${s#*:}"); done
    /usr/bin/time -f "%e %U %S" -o "$dir/verify_cpu.time" "$bin" verify "$plan" --mode checksum >/dev/null || true
    read -r wall user sys <"$dir/verify_cpu.time"
    line=$(printf "%-28s wall %6.2f s  ferry %5.2f s" "$(basename "$(dirname "$bin")")/$(basename "$bin")" "$wall" "$(echo "$user + $sys" | bc)")
    for s in "${servers[@]}"; do
      used=$(( $(ticks "${s#*:}") - ${before[$s]} ))
      line+=$(printf "  %s %5.2f s" "${s%%:*}" "$(echo "$used / $tick" | bc -l)")
    done
    echo "$line"
  done
done
