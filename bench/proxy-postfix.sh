#!/usr/bin/env bash
# The bare SMTP proxy in front of a real Postfix (which offers CHUNKING, RFC 3030), BDAT against
# DATA to the downstream, measured in one run:
#
#   smtp-source → Postfix                                          (direct: the reference)
#   smtp-source → spamgate proxy (downstream.chunking: true)  → Postfix   (BDAT <n> LAST, no 354)
#   smtp-source → spamgate proxy (downstream.chunking: false) → Postfix   (DATA, 354, final dot)
#
# 10 KB messages, persistent sessions (smtp-source -d), at 1 and 20 concurrent sessions, ROUNDS
# rounds; the two proxies run side by side and alternate which is measured first in a round
# (the one measured first came out worse in earlier interleaved runs, bench/README.md). Prints
# msgs/s, the ratio to direct, CPU µs/msg of the proxy, of Postfix's smtpd and cleanup processes
# and of the whole Postfix instance (queue manager and discard delivery included), then the
# command counts from Postfix's disconnect lines (bdat=/data=), which show what each proxy used.
#
# Postfix: a private instance under a temp dir, set up as test/helpers/postfix-instance.ts does
# (own config_directory, queue_directory, data_directory, maillog_file via postlogd, loopback
# listeners on its own ports, no DNS), but every message is discarded after it is queued
# (default_transport = discard): the queue file is written and removed, real Postfix cost,
# nothing piles up. Three smtpd listeners, one per path (syslog_name postfix/direct, /bdat,
# /data), each trusting XFORWARD from loopback as the after-filter smtpd of Postfix's
# SMTPD_PROXY_README does. Stopped and removed on exit.
#
# Needs: Debian package postfix (3.4+ for CHUNKING; smtp-source), a build (npm run build). Run as
# root (Postfix's master binds its ports and drops to mail_owner). Loopback only.
#
# Usage: bench/proxy-postfix.sh [MESSAGES] [ROUNDS]
#   MESSAGES  messages per measurement (default 2000)
#   ROUNDS    rounds of direct / BDAT / DATA per session count (default 4; keep it even)
# Environment: IN_FLOW_DELAY (Postfix in_flow_delay, default Postfix's 1s); TMPDIR=/dev/shm puts
# the queue on tmpfs (no disk flush per message); KEEP=1 keeps the temp dir (config, maillog).
set -euo pipefail
cd "$(dirname "$0")/.."

MESSAGES=${1:-2000}
ROUNDS=${2:-4}
SIZE=10240
PF_DIRECT=${PF_DIRECT:-22531}
PF_BDAT=${PF_BDAT:-22532}
PF_DATA=${PF_DATA:-22533}
PROXY_BDAT=${PROXY_BDAT:-22536}
PROXY_DATA=${PROXY_DATA:-22537}
PATH=$PATH:/usr/sbin

command -v smtp-source >/dev/null && command -v postfix >/dev/null || { echo "Postfix missing: apt-get install -y postfix" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "run as root: a private Postfix's master binds ports and drops to mail_owner" >&2; exit 2; }
id -u postfix >/dev/null || { echo "the postfix user (mail_owner) does not exist" >&2; exit 2; }
[ -f dist/frontends/smtp/smtp-proxy.js ] || npm run build >/dev/null

# TMPDIR=/dev/shm puts the queue on tmpfs: no disk flush per message (Postfix fsyncs each queue file).
DIR=$(mktemp -d "${TMPDIR:-/tmp}/spamgate-bench-postfix.XXXXXX")
# Postfix daemons (as mail_owner) must reach data_directory and the queue below this dir.
chmod 755 "$DIR"
mkdir "$DIR/etc" "$DIR/spool" "$DIR/data"
chown postfix:postfix "$DIR/data"
SPOOL=$DIR/spool
LOG=$DIR/maillog

pids=()
pf_started=
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "$pf_started" ]; then postfix -c "$DIR/etc" stop >/dev/null 2>&1 || postfix -c "$DIR/etc" abort >/dev/null 2>&1 || true; fi
  if [ "${KEEP:-}" = 1 ]; then echo "kept $DIR"; else rm -rf "$DIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# main.cf: the parameters of test/helpers/postfix-instance.ts, except that nothing is relayed:
# every recipient domain goes to the discard transport (no relayhost, no sink).
known=$(postconf -d | cut -d' ' -f1)
{
  cat <<EOF
compatibility_level = 3.6
queue_directory = $SPOOL
data_directory = $DIR/data
maillog_file = $LOG
maillog_file_prefixes = $DIR
myhostname = pf.bench.example
mydomain = bench.example
myorigin = \$myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
relay_domains =
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
local_header_rewrite_clients =
biff = no
smtpd_banner = \$myhostname ESMTP Postfix
default_transport = discard:spamgate bench
local_transport = discard:spamgate bench
relay_transport = discard:spamgate bench
smtpd_authorized_xforward_hosts = 127.0.0.0/8
in_flow_delay = ${IN_FLOW_DELAY:-1s}
# Keep the smtpd/cleanup processes alive for the whole run, so that their CPU can be read from
# /proc before and after each measurement (an exited child's CPU only shows in master's cutime).
max_idle = 3600s
max_use = 1000000
EOF
  # As the test helper: Postfix ≥ 3.9 defaults (backported, off, to 3.7.x), here on too.
  if grep -qx smtpd_forbid_bare_newline <<<"$known"; then
    echo 'smtpd_forbid_bare_newline = reject'
    echo 'smtpd_forbid_bare_newline_exclusions ='
  fi
  grep -qx smtpd_forbid_unauth_pipelining <<<"$known" && echo 'smtpd_forbid_unauth_pipelining = yes'
} >"$DIR/etc/main.cf"

# master.cf: one smtpd per path (its own syslog_name, so the disconnect lines tell the paths apart),
# and the internal services of the test helper (Debian's master.cf without chroot).
{
  for l in direct:$PF_DIRECT bdat:$PF_BDAT data:$PF_DATA; do
    printf '127.0.0.1:%s inet n - n - - smtpd\n  -o syslog_name=postfix/%s\n' "${l#*:}" "${l%%:*}"
  done
  cat <<'EOF'
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
tlsmgr unix - - n 1000? 1 tlsmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
EOF
} >"$DIR/etc/master.cf"

# `start` runs `postfix check` first (creates the queue directories, checks the config).
postfix -c "$DIR/etc" start >/dev/null 2>&1 || { echo "postfix start failed:"; cat "$LOG" 2>/dev/null; exit 1; }
pf_started=1
for _ in $(seq 100); do [ -s "$SPOOL/pid/master.pid" ] && break; sleep 0.1; done
MASTER_PID=$(tr -d ' ' <"$SPOOL/pid/master.pid")

node bench/proxy-bare.js $PROXY_BDAT $PF_BDAT >"$DIR/proxy-bdat.log" 2>&1 &
pids+=($!)
CHUNKING=0 node bench/proxy-bare.js $PROXY_DATA $PF_DATA >"$DIR/proxy-data.log" 2>&1 &
pids+=($!)
for f in proxy-bdat proxy-data; do
  for _ in $(seq 100); do grep -q ready "$DIR/$f.log" 2>/dev/null && break; sleep 0.1; done
  grep -q ready "$DIR/$f.log" || { echo "$f did not start:"; cat "$DIR/$f.log"; exit 1; }
done
PROXY_PID_BDAT=${pids[0]}
PROXY_PID_DATA=${pids[1]}

TICK_MS=$((1000 / $(getconf CLK_TCK)))
# CPU time (ms) a process has used so far (utime + stime from /proc, in clock ticks).
cpu_ms() { awk -v t=$TICK_MS '{ print ($14 + $15) * t }' /proc/"$1"/stat 2>/dev/null || echo 0; }
# Postfix CPU (ms) so far → "all smtpd cleanup": all = master + its live children + the children
# it has reaped (cutime + cstime of master), so a daemon that exited mid-run is still counted;
# smtpd and cleanup from the live processes of that name (max_use/max_idle keep them alive).
pf_cpu_ms() {
  local all smtpd=0 cleanup=0 p c v
  all=$(awk -v t=$TICK_MS '{ print ($14 + $15 + $16 + $17) * t }' /proc/$MASTER_PID/stat)
  for p in $(pgrep -P $MASTER_PID); do
    c=$(cat /proc/$p/comm 2>/dev/null) || continue
    v=$(cpu_ms $p)
    all=$((all + v))
    case $c in smtpd) smtpd=$((smtpd + v)) ;; cleanup) cleanup=$((cleanup + v)) ;; esac
  done
  echo "$all $smtpd $cleanup"
}
# Wait until Postfix has delivered (discarded) everything queued, so that each measurement's
# Postfix CPU includes its own queue work and none of the previous one's.
drain() {
  for _ in $(seq 600); do
    [ -z "$(find "$SPOOL"/maildrop "$SPOOL"/incoming "$SPOOL"/active "$SPOOL"/deferred -type f -print -quit 2>/dev/null)" ] && return
    sleep 0.1
  done
  echo "warning: Postfix queue not empty after 60 s" >&2
}

# rate PORT PROXY_PID SESSIONS COUNT → "msgs/s proxy-µs/msg postfix-all smtpd cleanup (µs/msg)"
rate() {
  local port=$1 proxy=$2 sessions=$3 count=$4 t0 t1 p0=0 p1=0 f0 f1
  drain
  f0=$(pf_cpu_ms)
  [ "$proxy" != - ] && p0=$(cpu_ms "$proxy")
  t0=$(date +%s.%N)
  smtp-source -d -s "$sessions" -m "$count" -l $SIZE -f bench@source.test -t rcpt@sink.test 127.0.0.1:"$port"
  t1=$(date +%s.%N)
  [ "$proxy" != - ] && p1=$(cpu_ms "$proxy")
  drain
  f1=$(pf_cpu_ms)
  echo "$count $t0 $t1 $p0 $p1 $f0 $f1" | awk '{
    n = $1; printf "%.0f %.0f %.0f %.0f %.0f", n / ($3 - $2), 1000 * ($5 - $4) / n,
      1000 * ($9 - $6) / n, 1000 * ($10 - $7) / n, 1000 * ($11 - $8) / n }'
}

# Warm-up (JIT, connection setup) not counted; 20 sessions, so that each listener already has the
# 20 smtpd processes of the 20-session measurements (spawning them would be billed to the first).
for port in $PF_DIRECT $PROXY_BDAT $PROXY_DATA; do
  smtp-source -d -s 20 -m 800 -l $SIZE -f w@source.test -t w@sink.test 127.0.0.1:$port
done

echo "Postfix $(postconf -dh mail_version), in_flow_delay ${IN_FLOW_DELAY:-1s}; $MESSAGES messages of $SIZE bytes per measurement, $ROUNDS rounds"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs (other work on the machine skews msgs/s; CPU µs/msg much less)"
printf '%-5s %-8s %9s %9s %9s %6s %6s %9s   %s\n' round sessions direct/s bdat/s data/s bdat% data% bdat/data \
  'CPU µs/msg: proxy bdat|data   smtpd direct|bdat|data   cleanup direct|bdat|data   all Postfix direct|bdat|data'
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", 100 * a / b }'; }
for s in 1 20; do
  rows=()
  for r in $(seq "$ROUNDS"); do
    read -r d _ da ds dc <<<"$(rate $PF_DIRECT - $s $MESSAGES)"
    # Alternate which proxy goes first in a round.
    if [ $((r % 2)) = 1 ]; then
      read -r b bp ba bs bc <<<"$(rate $PROXY_BDAT $PROXY_PID_BDAT $s $MESSAGES)"
      read -r t tp ta ts tc <<<"$(rate $PROXY_DATA $PROXY_PID_DATA $s $MESSAGES)"
      first=bdat
    else
      read -r t tp ta ts tc <<<"$(rate $PROXY_DATA $PROXY_PID_DATA $s $MESSAGES)"
      read -r b bp ba bs bc <<<"$(rate $PROXY_BDAT $PROXY_PID_BDAT $s $MESSAGES)"
      first=data
    fi
    printf '%-5s %-8s %9s %9s %9s %5s%% %5s%% %8s%%   %s|%s   %s|%s|%s   %s|%s|%s   %s|%s|%s   (%s first)\n' "$r" "$s" "$d" "$b" "$t" \
      "$(pct "$b" "$d")" "$(pct "$t" "$d")" "$(pct "$b" "$t")" \
      "$bp" "$tp" "$ds" "$bs" "$ts" "$dc" "$bc" "$tc" "$da" "$ba" "$ta" "$first"
    rows+=("$d $b $t $bp $tp $bs $ts $ba $ta")
  done
  # Means over the rounds (with an even ROUNDS each proxy was measured first equally often), and
  # the spread of the per-round BDAT/DATA ratios.
  printf '%s\n' "${rows[@]}" | awk -v s="$s" '
    { for (i = 1; i <= NF; i++) m[i] += $i; r = $2 / $3; if (NR == 1 || r < lo) lo = r; if (NR == 1 || r > hi) hi = r }
    END { for (i = 1; i <= NF; i++) m[i] /= NR
      printf "mean  %-8s %9.0f %9.0f %9.0f %5.0f%% %5.0f%% %8.0f%%   %.0f|%.0f   smtpd -|%.0f|%.0f   all Postfix -|%.0f|%.0f   (bdat/data per round %.0f–%.0f%%)\n",
        s, m[1], m[2], m[3], 100 * m[2] / m[1], 100 * m[3] / m[1], 100 * m[2] / m[3], m[4], m[5], m[6], m[7], m[8], m[9], 100 * lo, 100 * hi }'
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

# What each path used, from Postfix's own disconnect lines (smtpd counts every command it got:
# "disconnect from … ehlo=1 xforward=1 mail=N rcpt=N bdat=N quit=1 commands=…"). postlogd
# writes asynchronously: give it a moment.
sleep 1
for svc in direct bdat data; do
  grep "postfix/$svc/smtpd\[[0-9]*\]: disconnect from" "$LOG" | awk -v svc=$svc '
    { n++; for (i = 1; i <= NF; i++) if (split($i, kv, "=") == 2 && kv[1] ~ /^(mail|bdat|data|xforward)$/) c[kv[1]] += kv[2] }
    END { printf "Postfix log, postfix/%-6s %3d sessions: mail=%d data=%d bdat=%d xforward=%d\n", svc, n, c["mail"], c["data"], c["bdat"], c["xforward"] }'
done
