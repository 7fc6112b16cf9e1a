/** A throw-away self-signed key and certificate for STARTTLS tests (openssl CLI). */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface TestCert {
  readonly dir: string;
  readonly keyPath: string;
  readonly certPath: string;
  readonly key: Buffer;
  readonly cert: Buffer;
  cleanup(): void;
}

export function makeSelfSignedCert(cn = 'localhost'): TestCert {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamgate-tls-'));
  const keyPath = path.join(dir, 'key.pem');
  const certPath = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', `/CN=${cn}`], { stdio: 'ignore' });
  return {
    dir,
    keyPath,
    certPath,
    key: fs.readFileSync(keyPath),
    cert: fs.readFileSync(certPath),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
