#!/usr/bin/env bash
# Memory of `spamgate serve` (issue 6: RSS ≤ 300 MB at 200 concurrent sessions, workers: auto),
# in one run with its references:
#
#   bare node   RSS of `node -e` doing nothing: what every Node process costs before any module
#   idle        each spamgate process after start-up and a short warm-up (primary, workers)
#   idle N      N sessions open and idle after EHLO (bench/idle-sessions.js): anon RSS growth per
#               session (GC-dependent); bench/session-cost.js then measures it after full GCs
#   load N      smtp-source -d -s N, 10 KB DKIM-signed messages, every local check on: peak RSS
#               sampled every 0.1 s (sum over primary + workers, and per process), peak PSS
#               (shared pages — the node binary, libraries — counted once), peak V8 heap (from
#               /metrics, summed over workers), msgs/s and CPU ms per message of the whole tree
#   after       RSS once the load is over (what is kept)
#
# The environment is bench/throughput-full.sh's (bench/throughput-env.js): the shipped config plus
# a loopback DNS server, a redis-server on a free port, smtp-sink as the downstream.
#
# VARIANTS compares Node flags (given to node before the script; cluster workers inherit them as
# process.execArgv; some, e.g. --optimize-for-size, are refused in NODE_OPTIONS) in the same run,
# interleaved ROUNDS times (A B A B …) because the machine's load drifts:
#   VARIANTS='default;--max-semi-space-size=2' ROUNDS=2 bench/memory-sessions.sh auto
# WORKERS_LIST compares worker counts the same way: WORKERS_LIST='1 auto' bench/memory-sessions.sh
#
# Usage: bench/memory-sessions.sh [WORKERS=auto] [SESSIONS=200] [COUNT=3000]
# Needs: smtp-source/smtp-sink (Debian postfix), redis-server, a build (npm run build). Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."

WORKERS=${1:-auto}
SESSIONS=${2:-200}
COUNT=${3:-3000}
VARIANTS=${VARIANTS:-default}
ROUNDS=${ROUNDS:-1}
WORKERS_LIST=${WORKERS_LIST:-$WORKERS}
command -v smtp-source >/dev/null || PATH=$PATH:/usr/sbin
command -v smtp-source >/dev/null || { echo "smtp-source missing: apt-get install -y postfix" >&2; exit 2; }
command -v redis-server >/dev/null || { echo "redis-server missing: apt-get install -y redis-server" >&2; exit 2; }
[ -f dist/cli/main.js ] || npm run build >/dev/null

RUN=$(mktemp -d /tmp/spamgate-bench-mem.XXXXXX)
pids=()
SG_PID=
cleanup() {
  rm -f "$RUN/sampling"
  [ -n "$SG_PID" ] && kill "$SG_PID" 2>/dev/null || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$RUN"
}
trap cleanup EXIT

# Ports, DNS fixture server, redis-server, smtp-sink (shared with the other full-stack bench).
source bench/full-env.sh
# The config is rewritten per worker count below; the environment (DNS, messages) is started once.
node bench/throughput-env.js "$RUN" $HELPER_DIR/dns-server.js $SINK_PORT $PROXY_PORT $ADMIN_PORT $REDIS_PORT auto 10240 > "$RUN/env.log" 2>&1 &
pids+=($!)
for _ in $(seq 200); do grep -q ready "$RUN/env.log" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$RUN/env.log" || { echo "bench environment did not start:"; cat "$RUN/env.log"; exit 1; }
for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done

TICK_MS=$((1000 / $(getconf CLK_TCK)))
tree() { echo "$1" $(pgrep -P "$1" || true); }
kb() { awk -v k="$2" '$1 == k":" { print $2; f=1 } END { if (!f) print 0 }' "$1" 2>/dev/null || echo 0; }
rss_of() { kb /proc/$1/status VmRSS; }
sum() { local t=0 p; for p in $(tree "$1"); do t=$((t + $($2 "$p"))); done; echo $t; }
anon_of() { kb /proc/$1/status RssAnon; }
file_of() { kb /proc/$1/status RssFile; }
pss_of() { kb /proc/$1/smaps_rollup Pss; }
cpu_ms() { local t=0 p; for p in $(tree "$1"); do t=$((t + $(awk -v t=$TICK_MS '{ print ($14 + $15) * t }' /proc/$p/stat 2>/dev/null || echo 0))); done; echo $t; }
mb() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
# "primary|w1|w2" RSS in MB
per_proc() { local out="" p; for p in $(tree "$1"); do out="$out|$(mb "$(rss_of "$p")")"; done; echo "${out#|}"; }
# V8 heap of the workers (or the single process), summed by the primary's /metrics, in MB:
# "total used new old large external" (new/old/large: committed size of those heap spaces).
heap() {
  curl -s "http://127.0.0.1:$ADMIN_PORT/metrics" | awk '
    function m(x) { return sprintf("%.0f", x / 1048576) }
    $1 == "spamgate_nodejs_heap_size_total_bytes" { t = $2 } $1 == "spamgate_nodejs_heap_size_used_bytes" { u = $2 }
    $1 == "spamgate_nodejs_external_memory_bytes" { e = $2 }
    $1 == "spamgate_nodejs_heap_space_size_total_bytes{space=\"new\"}" { n = $2 }
    $1 == "spamgate_nodejs_heap_space_size_total_bytes{space=\"old\"}" { o = $2 }
    $1 == "spamgate_nodejs_heap_space_size_total_bytes{space=\"large_object\"}" { l = $2 }
    END { print m(t), m(u), m(n), m(o), m(l), m(e) }'
}

# Peak of the tree's RSS sum, PSS sum, per-process RSS, and the V8 heap, while $RUN/sampling exists.
sample() {
  local pid=$1 max=0 maxp=0 maxh=0 now per="" h hp="0/0 0|0|0 0" i=0
  while [ -e "$RUN/sampling" ]; do
    now=$(sum "$pid" rss_of)
    if [ "$now" -gt "$max" ]; then max=$now; per=$(per_proc "$pid"); maxp=$(sum "$pid" pss_of); fi
    # /metrics asks every worker over IPC: once a second is enough.
    if [ $((i % 10)) = 0 ]; then
      read -r t u n o l e <<<"$(heap)"
      if [ -n "$t" ] && [ "$t" -gt "$maxh" ]; then maxh=$t; hp="$u/$t $n|$o|$l $e"; fi
    fi
    i=$((i + 1))
    sleep 0.1
  done
  echo "$(mb $max) $(mb $maxp) $per $hp" > "$RUN/peak"
}

ref_bare() {
  # The process itself says when it is up (a loaded machine may take seconds to start node).
  node -e 'console.log("up"); setTimeout(() => {}, 5000)' > "$RUN/bare.out" & local p=$!
  for _ in $(seq 100); do grep -q up "$RUN/bare.out" 2>/dev/null && break; sleep 0.1; done
  sleep 0.5
  local st; st=$(cat /proc/$p/status)
  echo "$(mb "$(awk '$1 == "VmRSS:" { print $2 }' <<<"$st")") $(mb "$(awk '$1 == "RssAnon:" { print $2 }' <<<"$st")") $(mb "$(awk '$1 == "RssFile:" { print $2 }' <<<"$st")") $(mb "$(pss_of $p)")"
  kill $p; wait $p 2>/dev/null || true
}

set_workers() {
  node -e "
    const fs = require('fs'); const YAML = require('yaml'); const f = '$RUN/spamgate.yaml';
    const c = YAML.parse(fs.readFileSync(f, 'utf8')); c.workers = '$1' === 'auto' ? 'auto' : Number('$1');
    fs.writeFileSync(f, YAML.stringify(c));"
}

start_spamgate() {
  local opts=$1 want
  [ "$opts" = default ] && opts=
  # shellcheck disable=SC2086  # $opts: several flags
  SPAMGATE_DNS_LOOPBACK_ONLY=1 node $opts bin/spamgate.js serve --config "$RUN/spamgate.yaml" > "$RUN/spamgate.log" 2>&1 &
  SG_PID=$!
  for _ in $(seq 300); do curl -sf "http://127.0.0.1:$ADMIN_PORT/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
  curl -sf "http://127.0.0.1:$ADMIN_PORT/readyz" >/dev/null || { echo "spamgate did not get ready:"; tail -20 "$RUN/spamgate.log"; exit 1; }
  want=$(grep -c '"worker started"' "$RUN/spamgate.log" || true)
  for _ in $(seq 100); do [ "$(grep -c '"worker listening"' "$RUN/spamgate.log" || true)" -ge "$want" ] && break; sleep 0.1; done
}

stop_spamgate() {
  kill -TERM "$SG_PID"; wait "$SG_PID" 2>/dev/null || true; SG_PID=
}

source_run() { # SESSIONS COUNT
  smtp-source -d -s "$1" -m "$2" -F "$RUN/msg-10240.eml" -M mail.bench-sender.test \
    -f news@bench-sender.test -t rcpt@bench-rcpt.test 127.0.0.1:$PROXY_PORT 2> "$RUN/source.err" ||
    echo "smtp-source failed: $(head -3 "$RUN/source.err")" >&2
}

read -r bare_rss bare_anon bare_file bare_pss <<<"$(ref_bare)"
echo "$(nproc) CPUs; node $(node --version); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "reference: bare node -e process: RSS $bare_rss MB (anon $bare_anon, file-backed $bare_file), PSS $bare_pss MB"
echo
FMT='%-5s %-30s | %-20s %-24s | %-7s | %-20s %-5s %-24s %-6s %-6s | %s\n'
# shellcheck disable=SC2059
printf "$FMT" workers 'node flags' 'idle RSS MB' 'idle heap MB' "idle $SESSIONS" "load $SESSIONS: peak RSS MB" 'PSS' 'heap MB at peak' msgs/s CPU 'after'
# shellcheck disable=SC2059
printf "$FMT" '' '' 'sum (primary|workers)' 'used/total new|old|lo ext' 'KB/sess' 'sum (primary|workers)' 'MB' 'used/total new|old|lo ext' '' 'ms/msg' 'RSS MB'
for _r in $(seq "$ROUNDS"); do
  for w in $WORKERS_LIST; do
    set_workers "$w"
    IFS=';' read -ra vs <<<"$VARIANTS"
    for v in "${vs[@]}"; do
      start_spamgate "$v"
      # Warm-up (JIT, DNS cache, Redis keys) not counted, then let the heap settle.
      source_run 4 200
      sleep 2
      idle=$(mb "$(sum $SG_PID rss_of)"); idle_per=$(per_proc $SG_PID)
      read -r t u n o l e <<<"$(heap)"; heap="$u/$t $n|$o|$l $e"

      # N idle sessions: RSS growth per session (anon pages: heap, buffers).
      a0=$(sum $SG_PID anon_of)
      node bench/idle-sessions.js $PROXY_PORT "$SESSIONS" > "$RUN/idle.out" 2> "$RUN/idle.err" & ip=$!
      for _ in $(seq 300); do grep -q ready "$RUN/idle.out" 2>/dev/null && break; sleep 0.1; done
      sleep 1
      a1=$(sum $SG_PID anon_of)
      per_session=$(awk -v a="$a0" -v b="$a1" -v n="$SESSIONS" 'BEGIN { printf "%.1f", (b - a) / n }')
      grep -q ready "$RUN/idle.out" || per_session="failed: $(head -1 "$RUN/idle.err")"
      kill -TERM $ip; wait $ip 2>/dev/null || true
      sleep 1

      c0=$(cpu_ms $SG_PID); t0=$(date +%s.%N)
      touch "$RUN/sampling"; sample $SG_PID & sp=$!
      source_run "$SESSIONS" "$COUNT"
      t1=$(date +%s.%N); c1=$(cpu_ms $SG_PID)
      rm -f "$RUN/sampling"; wait $sp
      read -r peak peakp peak_per peakh peakh_sp peakh_ext < "$RUN/peak"
      sleep 2
      after=$(mb "$(sum $SG_PID rss_of)")
      rate=$(awk -v n="$COUNT" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
      cpu=$(awk -v n="$COUNT" -v c="$((c1 - c0))" 'BEGIN { printf "%.2f", c / n }')
      # shellcheck disable=SC2059
      printf "$FMT" "$w" "$v" "$idle ($idle_per)" "$heap" "$per_session" "$peak ($peak_per)" "$peakp" \
        "$peakh $peakh_sp $peakh_ext" "$rate" "$cpu" "$after"
      stop_spamgate
    done
  done
done
# One idle session in bytes, precisely: the daemon in one process with --expose-gc (full GC before
# each reading), N sessions after EHLO from a child process.
SPAMGATE_DNS_LOOPBACK_ONLY=1 node --expose-gc bench/session-cost.js "$RUN/spamgate.yaml" "$SESSIONS"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
