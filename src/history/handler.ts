/**
 * Admin route for the history: `GET /history?limit=50&ip=…&session=…&address=…&format=json|text`.
 * The lead mounts it on `admin.listen`: `routes: { '/history': historyHandler(stores) }`.
 * The admin port must not be public: history holds envelope addresses and subjects.
 */
import type { AdminRoute } from '../metrics/admin-server.js';
import type { Stores } from '../store/stores-api.js';
import { StoreUnavailableError } from '../store/stores-api.js';
import { formatHistoryLine, queryHistory } from './query.js';

const MAX_LIMIT = 1000;

export function historyHandler(stores: Pick<Stores, 'history'>): AdminRoute {
  return async (_req, url) => {
    const p = url.searchParams;
    const raw = Number(p.get('limit') ?? 50);
    if (!Number.isInteger(raw) || raw < 1) return { status: 400, type: 'text/plain', body: 'limit must be a positive integer\n' };
    const q = {
      limit: Math.min(raw, MAX_LIMIT),
      ...(p.get('ip') ? { ip: p.get('ip')! } : {}),
      ...(p.get('session') ? { session: p.get('session')! } : {}),
      ...(p.get('address') ? { address: p.get('address')! } : {}),
    };
    try {
      const rows = await queryHistory(stores.history, q);
      if (p.get('format') === 'text') return { status: 200, type: 'text/plain; charset=utf-8', body: rows.map(formatHistoryLine).join('\n') + (rows.length ? '\n' : '') };
      return { status: 200, type: 'application/json; charset=utf-8', body: JSON.stringify(rows) + '\n' };
    } catch (e) {
      if (e instanceof StoreUnavailableError) return { status: 503, type: 'text/plain', body: `${e.message}\n` };
      throw e;
    }
  };
}
