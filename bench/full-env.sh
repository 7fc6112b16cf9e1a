# Sourced by bench/throughput-full.sh and bench/memory-sessions.sh: the loopback environment both
# measure spamgate in — free ports, the DNS fixture server (a test helper, compiled here), a
# redis-server and Postfix's smtp-sink. The caller has set RUN (a temp dir) and a `pids` array it
# kills on exit; this sets SINK_PORT PROXY_PORT ADMIN_PORT REDIS_PORT HELPER_DIR SINK_PID.

free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
SINK_PORT=$(free_port); PROXY_PORT=$(free_port); ADMIN_PORT=$(free_port); REDIS_PORT=$(free_port)

# The DNS fixture server is a test helper (TypeScript): compile that one file where node finds
# node_modules (dns-packet) and treats it as ESM.
HELPER_DIR=node_modules/.cache/spamgate-bench
if [ ! -f $HELPER_DIR/dns-server.js ] || [ test/helpers/dns-server.ts -nt $HELPER_DIR/dns-server.js ]; then
  npx tsc --outDir $HELPER_DIR --module nodenext --moduleResolution nodenext --target es2022 \
    --esModuleInterop --skipLibCheck --types node test/helpers/dns-server.ts
fi

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --loglevel warning > "$RUN/redis.log" 2>&1 &
pids+=($!)
smtp-sink -u nobody 127.0.0.1:$SINK_PORT 1024 &
pids+=($!)
SINK_PID=$!
