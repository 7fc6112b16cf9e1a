/**
 * A plain GET against a loopback admin endpoint (no keep-alive, so nothing pins shutdown). An
 * endpoint that does not answer within `timeoutMs` fails the test with its path, not by the
 * test's own timeout.
 */
import http from 'node:http';

export function get(port: number, p: string, timeoutMs = 15_000): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: p, agent: false, timeout: timeoutMs }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type']) }));
      })
      .on('timeout', function (this: http.ClientRequest) {
        this.destroy(new Error(`GET ${p} on :${port}: no answer within ${timeoutMs} ms`));
      })
      .on('error', reject);
  });
}
