#!/usr/bin/env bash
# Throughput of the bare SMTP proxy (no checks) against Postfix's smtp-sink, measured in one run:
#
#   smtp-source → smtp-sink                      (direct: the reference)
#   smtp-source → spamgate proxy → smtp-sink     (bare proxy: accept-all engine)
#
# 10 KB messages, at 1 and 20 concurrent sessions; prints msgs/s of each and proxy/direct.
# Target (issue 2): the bare proxy reaches ≥ 70 % of the direct sink at 20 sessions.
#
# Needs: smtp-source/smtp-sink (Debian package postfix; postfix need not run), a build (npm run build).
# Run as root (smtp-sink drops to -u nobody). Loopback only.
#
# PIPE=1 measures a plain Node TCP pipe in place of the proxy (no SMTP parsing, same round trips):
# the floor for any Node relay on this machine (see bench/README.md).
#
# Every run also measures the listener alone (bench/proxy-bare.js with LISTENER=1: smtp-server with
# the proxy's options, answering 250 itself, nothing relayed). The proxy does all of that and then
# relays, so the listener's ratio is a ceiling for the proxy's on this machine, measured in the
# same run: when the listener alone is under the target, no relay code built on it can reach it.
#
# Usage: bench/proxy-throughput.sh [MESSAGES] [MODE]
#   MESSAGES  messages per measurement (default 4000)
#   MODE      "persistent" (default): smtp-source -d, many messages per connection;
#             "per-connection": one message per connection (includes smtp-server's fixed 100 ms
#             early-talker pause before the banner, a pregreet test we keep on purpose)
set -euo pipefail
cd "$(dirname "$0")/.."

MESSAGES=${1:-4000}
MODE=${2:-persistent}
SIZE=10240
SINK_PORT=${SINK_PORT:-22525}
PROXY_PORT=${PROXY_PORT:-22526}
LISTENER_PORT=${LISTENER_PORT:-22527}

command -v smtp-source >/dev/null || { echo "smtp-source missing: apt-get install -y postfix" >&2; exit 2; }
command -v smtp-sink >/dev/null || PATH=$PATH:/usr/sbin
[ -f dist/frontends/smtp/smtp-proxy.js ] || npm run build >/dev/null

PERSIST=-d
[ "$MODE" = per-connection ] && PERSIST=

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# smtp-sink: accept everything, backlog 1024.
smtp-sink -u nobody 127.0.0.1:$SINK_PORT 1024 &
pids+=($!)
node bench/proxy-bare.js $PROXY_PORT $SINK_PORT > /tmp/spamgate-bench-proxy.log 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q ready /tmp/spamgate-bench-proxy.log 2>/dev/null && break; sleep 0.1; done
grep -q ready /tmp/spamgate-bench-proxy.log || { echo "proxy did not start:"; cat /tmp/spamgate-bench-proxy.log; exit 1; }
# As many processes as the proxy (WORKERS=N): the ceiling for that proxy.
LISTENER=1 PIPE= node bench/proxy-bare.js $LISTENER_PORT > /tmp/spamgate-bench-listener.log 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q ready /tmp/spamgate-bench-listener.log 2>/dev/null && break; sleep 0.1; done
grep -q ready /tmp/spamgate-bench-listener.log || { echo "listener did not start:"; cat /tmp/spamgate-bench-listener.log; exit 1; }

# CPU time (ms) a process has used so far (utime + stime from /proc, in clock ticks).
TICK_MS=$((1000 / $(getconf CLK_TCK)))
# With WORKERS=N the proxy is a cluster primary: its workers (children) are counted too.
cpu_ms() {
  local total=0 p
  for p in $1 $(pgrep -P "$1" || true); do
    total=$((total + $(awk -v t=$TICK_MS '{ print ($14 + $15) * t }' /proc/$p/stat 2>/dev/null || echo 0)))
  done
  echo $total
}
SINK_PID=${pids[0]}
PROXY_PID=${pids[1]}
LISTENER_PID=${pids[2]}

# rate PORT SESSIONS COUNT [PID] → "msgs/s sink-µs/msg PID-µs/msg" (PID: the process in front of
# the sink, default the proxy)
rate() {
  local port=$1 sessions=$2 count=$3 pid=${4:-$PROXY_PID} t0 t1 s0 s1 p0 p1
  s0=$(cpu_ms $SINK_PID); p0=$(cpu_ms $pid)
  t0=$(date +%s.%N)
  smtp-source $PERSIST -s "$sessions" -m "$count" -l $SIZE -f bench@source.test -t rcpt@sink.test 127.0.0.1:"$port"
  t1=$(date +%s.%N)
  s1=$(cpu_ms $SINK_PID); p1=$(cpu_ms $pid)
  echo "$count $t0 $t1 $((s1 - s0)) $((p1 - p0))" | awk '{ printf "%.0f %.0f %.0f", $1 / ($3 - $2), 1000 * $4 / $1, 1000 * $5 / $1 }'
}

# Warm-up (JIT, connection setup) not counted.
smtp-source -d -s 4 -m 400 -l $SIZE -f w@source.test -t w@sink.test 127.0.0.1:$PROXY_PORT
smtp-source -d -s 4 -m 400 -l $SIZE -f w@source.test -t w@sink.test 127.0.0.1:$LISTENER_PORT

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs (other work on the machine skews msgs/s; CPU µs/msg much less)"
printf '%-10s %-9s %10s %10s %7s   %-41s   %s\n' mode sessions direct/s proxy/s ratio 'CPU µs/msg: sink(direct) | sink+proxy(proxied)' 'listener alone/s, ratio (ceiling) | its CPU µs/msg'
pct() { awk -v p="$1" -v d="$2" 'BEGIN { printf "%.0f", 100 * p / d }'; }
for s in 1 20; do
  n=$MESSAGES
  [ "$MODE" = per-connection ] && [ "$s" = 1 ] && n=$((MESSAGES / 20))
  read -r d ds _ <<<"$(rate $SINK_PORT $s $n)"
  read -r p ps pp <<<"$(rate $PROXY_PORT $s $n)"
  # The listener is measured against the same direct run; it has no sink behind it.
  read -r l _ lp <<<"$(rate $LISTENER_PORT $s $n $LISTENER_PID)"
  printf '%-10s %-9s %10s %10s %6s%%   %-41s   %s\n' "$MODE" "$s" "$d" "$p" "$(pct "$p" "$d")" "$ds | $ps+$pp" "$l, $(pct "$l" "$d")% | $lp"
done
