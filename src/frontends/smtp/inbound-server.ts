/**
 * The inbound SMTP listener: smtp-server (≥ 3.19.3 for the DATA desync fix, FIELD-NOTES §1, §3)
 * configured as an MX — ESMTP with PIPELINING, 8BITMIME, SMTPUTF8, SIZE, STARTTLS with our own
 * key/cert, no AUTH, no CHUNKING (smtp-server has none) — whose hooks drive one RelaySession
 * per connection. It never listens itself: ConnectionGate hands it sockets.
 */
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import type { Logger } from 'pino';
import type { Config } from '../../config/schema.js';
import type { FilterEngine } from '../../core/engine-api.js';
import type { Metrics } from '../../metrics/metrics.js';
import { RelaySession, type HookResult } from './relay-session.js';
import { acceptedWithLines, toSmtpError } from './client-reply.js';

export interface TlsMaterial {
  readonly key: Buffer;
  readonly cert: Buffer;
}

export interface InboundDeps {
  readonly config: () => Config;
  readonly engine: () => FilterEngine;
  readonly tls: TlsMaterial | undefined;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly draining: () => boolean;
}

export interface Inbound {
  readonly server: SMTPServer;
  /** Relay per smtp-server session id. */
  readonly relays: Map<string, RelaySession>;
}

/** smtp-server options that follow the config (also re-applied on reload). */
export function limitOptions(c: Config) {
  return {
    name: c.hostname,
    // smtpd_proxy_filter mode: XFORWARD only from the MTA in front of us (false = never).
    useXForward: c.upstream.xforwardFrom.length ? [...c.upstream.xforwardFrom] : false,
    size: c.limits.maxMessageSize,
    maxClients: c.limits.maxClients,
    maxRecipients: c.limits.maxRecipients,
    socketTimeout: c.limits.socketTimeoutMs,
  };
}

/**
 * The protocol side of the listener: what it offers and hides. Exported for bench/proxy-bare.js,
 * whose "listener alone" ceiling must run smtp-server exactly as the proxy does.
 */
export function protocolOptions(tls: TlsMaterial | undefined): SMTPServerOptions {
  return {
    // Keep the server's own enhanced-code prefixing off: our texts carry the code (FIELD-NOTES §1).
    hideENHANCEDSTATUSCODES: true,
    hideDSN: true,
    // No AUTH on an MX (FIELD-NOTES §1); AUTH off also means MAIL needs no authentication.
    disabledCommands: tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
    hideSTARTTLS: !tls,
    ...(tls ? { key: tls.key, cert: tls.cert } : {}),
    // Reverse DNS belongs to the engine (configured resolvers, deadlines, cache), not to the
    // listener: smtp-server's own lookup would use the system resolver and stall the banner.
    disableReverseLookup: true,
    logger: false,
  };
}

export function createInbound(deps: InboundDeps): Inbound {
  const relays = new Map<string, RelaySession>();
  const cfg = deps.config();

  const run = (session: SMTPServerSession, cb: (err?: Error | null, text?: string) => void, fn: (r: RelaySession) => Promise<HookResult>) => {
    const relay = relays.get(session.id);
    if (!relay) return cb(toSmtpError({ code: 421, text: '4.3.0 Session state lost' }));
    relay.busy = true;
    // busy is cleared before the callback: smtp-server may run the next pipelined command from it.
    fn(relay).then(
      (r) => {
        relay.busy = false;
        // A multi-line 250 at the end of DATA can only go through the callback's error argument
        // (client-reply.ts acceptedWithLines says why); every other success is `cb(null, text)`.
        if (r.ok) return r.lines ? cb(acceptedWithLines({ code: 250, text: r.text ?? '', lines: r.lines })) : cb(null, r.text);
        cb(toSmtpError(r.reply));
        // A decision that must end the session (e.g. a rate limit) with a code smtp-server does
        // not close on by itself (it only does for 421): close once the reply is out.
        if (r.reply.close && r.reply.code !== 421) setImmediate(() => closeSession(session.id));
      },
      (e: unknown) => {
        relay.busy = false;
        deps.log.error({ err: e, session: session.id }, 'relay hook failed');
        cb(toSmtpError({ code: 451, text: '4.3.0 Temporary local problem, please try again later' }));
      },
    );
  };

  const options: SMTPServerOptions = {
    ...limitOptions(cfg),
    ...protocolOptions(deps.tls),
    // Drain on shutdown is ours (SmtpProxy.close); smtp-server's close() is never called.
    onConnect(session, cb) {
      deps.metrics.sessions.inc({ frontend: 'smtp' });
      deps.metrics.sessionsInFlight.inc({ frontend: 'smtp' });
      const log = deps.log.child({ session: session.id, client: session.remoteAddress });
      const relay = new RelaySession({ config: deps.config(), engine: deps.engine().open('smtp', session.id), log, metrics: deps.metrics, draining: deps.draining });
      relays.set(session.id, relay);
      run(session, (err) => cb(err ?? undefined), (r) => r.connect(session));
    },
    onMailFrom(address, session, cb) {
      run(session, (err) => cb(err ?? undefined), (r) => r.mail(address, session));
    },
    onRcptTo(address, session, cb) {
      run(session, (err) => cb(err ?? undefined), (r) => r.rcpt(address));
    },
    onData(stream, session, cb) {
      run(session, (err, text) => (err ? cb(err) : cb(null, text)), (r) => r.data(stream, session));
    },
    onClose(session) {
      const relay = relays.get(session.id);
      if (!relay) return;
      relays.delete(session.id);
      deps.metrics.sessionsInFlight.dec({ frontend: 'smtp' });
      relay.close();
    },
  };
  const server = new SMTPServer(options);
  const closeSession = (id: string) => {
    for (const c of server.connections) if (c.id === id) c.close();
  };
  server.on('error', (e: Error) => deps.log.debug({ err: e }, 'smtp-server connection error'));
  return { server, relays };
}
