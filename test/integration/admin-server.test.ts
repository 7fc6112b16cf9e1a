import { createAdminServer } from '../../src/metrics/admin-server.js';
import { createMetrics } from '../../src/metrics/metrics.js';

async function get(port: number, path: string): Promise<{ status: number; body: string; type: string | null }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') };
}

describe('admin HTTP endpoint', () => {
  let ready = true;
  const metrics = createMetrics();
  const admin = createAdminServer({
    registry: metrics.registry,
    readiness: [{ name: 'downstream', check: () => ready }],
    routes: { '/history': async () => ({ status: 200, type: 'application/json', body: '[]' }) },
  });
  let port = 0;

  beforeAll(async () => {
    port = (await admin.listen('127.0.0.1', 0)).port;
  });
  afterAll(() => admin.close());

  it('serves Prometheus text with our instruments', async () => {
    metrics.messages.inc({ action: 'reject', frontend: 'smtp' });
    const r = await get(port, '/metrics');
    expect(r.status).toBe(200);
    expect(r.type).toContain('text/plain');
    expect(r.body).toContain('spamgate_messages_total{action="reject",frontend="smtp"} 1');
  });

  it('answers /healthz and reflects readiness probes on /readyz', async () => {
    expect((await get(port, '/healthz')).status).toBe(200);
    expect(await get(port, '/readyz')).toMatchObject({ status: 200, body: 'downstream: ok\nready\n' });
    ready = false;
    expect(await get(port, '/readyz')).toMatchObject({ status: 503, body: 'downstream: FAIL\nnot ready\n' });
  });

  it('mounts feature routes and 404s unknown paths', async () => {
    expect((await get(port, '/history')).body).toBe('[]');
    expect((await get(port, '/nope')).status).toBe(404);
  });
});
