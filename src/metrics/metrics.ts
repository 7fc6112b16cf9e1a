/**
 * Every Prometheus instrument spamgate exports, defined in one place (ARCHITECTURE habit 2 and
 * Prometheus naming: `spamgate_` prefix, base units, `_total` counters, bounded labels only —
 * never an IP, domain or address).
 *
 * One Registry per Metrics instance (not prom-client's global) so tests can build and discard them
 * (prom-client #155). Features call these instruments; they never create their own.
 */
import client from 'prom-client';

const checkBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(opts: { collectDefault?: boolean } = {}) {
  const registry = new client.Registry();
  // Event-loop lag sampled every 100 ms, not prom-client's default 10 ms: its timer woke every
  // process 100 times a second even when idle (≈ 6 ms of CPU per second per process, measured on
  // the 2-vCPU VM). The lag histogram stays a sample of the loop's lateness, at 10 samples/s.
  if (opts.collectDefault) client.collectDefaultMetrics({ register: registry, prefix: 'spamgate_', eventLoopMonitoringPrecision: 100 });
  const r = [registry];

  return {
    registry,
    // aggregator: how the cluster primary merges workers' values (AggregatorRegistry, FIELD-NOTES §8).
    buildInfo: new client.Gauge({ name: 'spamgate_build_info', help: 'Build information; value is always 1', labelNames: ['version'], aggregator: 'first', registers: r }),

    // Sessions and messages
    sessions: new client.Counter({ name: 'spamgate_sessions_total', help: 'Client sessions opened', labelNames: ['frontend'], registers: r }),
    sessionsInFlight: new client.Gauge({ name: 'spamgate_sessions_in_flight', help: 'Client sessions open now', labelNames: ['frontend'], registers: r }),
    connectionsRefused: new client.Counter({ name: 'spamgate_connections_refused_total', help: 'Connections refused by limits', labelNames: ['reason'], registers: r }),
    messages: new client.Counter({ name: 'spamgate_messages_total', help: 'Messages by final action and front-end', labelNames: ['action', 'frontend'], registers: r }),
    protocolRejects: new client.Counter({ name: 'spamgate_protocol_rejects_total', help: 'Messages refused for protocol violations', labelNames: ['reason'], registers: r }),
    verdictScore: new client.Histogram({ name: 'spamgate_verdict_score', help: 'Verdict scores', buckets: [-10, -5, -2, 0, 1, 2, 4, 6, 8, 10, 15, 20, 30, 50, 100], registers: r }),
    bytesIn: new client.Counter({ name: 'spamgate_bytes_received_total', help: 'Message bytes received from clients', registers: r }),
    bytesOut: new client.Counter({ name: 'spamgate_bytes_relayed_total', help: 'Message bytes relayed downstream', registers: r }),
    messageSize: new client.Histogram({ name: 'spamgate_message_size_bytes', help: 'Received message sizes', buckets: client.exponentialBuckets(1024, 4, 9), registers: r }),
    transactionDuration: new client.Histogram({ name: 'spamgate_transaction_duration_seconds', help: 'From MAIL FROM to final reply', buckets: [...checkBuckets, 30, 60], registers: r }),

    // Checks and symbols
    symbolHits: new client.Counter({ name: 'spamgate_symbol_hits_total', help: 'Symbol emissions', labelNames: ['symbol'], registers: r }),
    checkDuration: new client.Histogram({ name: 'spamgate_check_duration_seconds', help: 'Time per check run', labelNames: ['check'], buckets: checkBuckets, registers: r }),
    checkErrors: new client.Counter({ name: 'spamgate_check_errors_total', help: 'Checks that threw or ran past their deadline', labelNames: ['check', 'kind'], registers: r }),

    // Downstream
    downstreamReplies: new client.Counter({ name: 'spamgate_downstream_replies_total', help: 'Downstream replies by command and class', labelNames: ['command', 'class'], registers: r }),
    downstreamFailures: new client.Counter({ name: 'spamgate_downstream_failures_total', help: 'Downstream connect/timeout/drop failures', labelNames: ['kind'], registers: r }),

    // DNS
    dnsQueries: new client.Counter({ name: 'spamgate_dns_queries_total', help: 'DNS queries by type and result', labelNames: ['type', 'result'], registers: r }),
    dnsCache: new client.Counter({ name: 'spamgate_dns_cache_total', help: 'DNS cache lookups', labelNames: ['result'], registers: r }),
    dnsDuration: new client.Histogram({ name: 'spamgate_dns_query_duration_seconds', help: 'DNS query latency', buckets: checkBuckets, registers: r }),
    dnsblBlocked: new client.Counter({ name: 'spamgate_dnsbl_blocked_total', help: 'DNSBL error answers (127.255.255.x) and failed health probes', labelNames: ['zone', 'reason'], registers: r }),

    // Redis / stores
    storeErrors: new client.Counter({ name: 'spamgate_store_errors_total', help: 'Store calls that failed or timed out', labelNames: ['store', 'op'], registers: r }),
    storeDuration: new client.Histogram({ name: 'spamgate_store_duration_seconds', help: 'Store call latency', labelNames: ['store', 'op'], buckets: checkBuckets, registers: r }),

    // Rules
    ruleReloads: new client.Counter({ name: 'spamgate_rule_reloads_total', help: 'Rule reloads by result', labelNames: ['result'], registers: r }),
    rulesLoaded: new client.Gauge({ name: 'spamgate_rules_loaded', help: 'Rules in the active rule set', labelNames: ['source'], aggregator: 'max', registers: r }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * The cluster primary's own instruments (workers: N > 1). Its registry is appended to the workers'
 * aggregated metrics on /metrics; the names exist nowhere else, so no series is duplicated.
 */
export function createClusterMetrics() {
  const registry = new client.Registry();
  const r = [registry];
  return {
    registry,
    workers: new client.Gauge({ name: 'spamgate_workers', help: 'Worker processes running and listening', registers: r }),
    workersConfigured: new client.Gauge({ name: 'spamgate_workers_configured', help: 'Worker processes configured (workers: N|auto)', registers: r }),
    workerRestarts: new client.Counter({ name: 'spamgate_worker_restarts_total', help: 'Worker processes restarted after exiting unexpectedly', registers: r }),
  };
}

export type ClusterMetrics = ReturnType<typeof createClusterMetrics>;
