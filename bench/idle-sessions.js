#!/usr/bin/env node
// Opens N SMTP sessions to 127.0.0.1:PORT, each reading the banner and completing EHLO, then holds
// them idle (bench/memory-sessions.sh measures what an idle session costs). Prints "ready N" on
// stdout when all N are at the EHLO reply; closes them (QUIT) on SIGTERM/SIGINT and exits.
// A raw socket rather than an SMTP library: the point is N sessions that do nothing after EHLO,
// which client libraries (built to send a message) do not offer.
// Usage: node bench/idle-sessions.js PORT N
import net from 'node:net';

const [port, n] = process.argv.slice(2).map(Number);
if (!port || !n) {
  console.error('usage: idle-sessions.js PORT N');
  process.exit(2);
}

function open() {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = '';
    let state = 'banner';
    s.setEncoding('latin1');
    s.on('error', reject);
    s.on('data', (d) => {
      buf += d;
      // A multi-line reply ends with a line "NNN text" (RFC 5321 §4.2.1).
      const lines = buf.split('\r\n');
      buf = lines.pop();
      for (const l of lines) {
        if (!/^\d{3} /.test(l)) continue;
        if (!l.startsWith('2')) return reject(new Error(`${state}: ${l}`));
        if (state === 'banner') {
          state = 'ehlo';
          s.write('EHLO idle.bench.test\r\n');
        } else if (state === 'ehlo') {
          state = 'idle';
          resolve(s);
        }
      }
    });
  });
}

const sockets = [];
// A few at a time: a burst of N connects would measure the accept queue, not the sessions.
for (let i = 0; i < n; i += 20) sockets.push(...(await Promise.all(Array.from({ length: Math.min(20, n - i) }, open))));
console.log(`ready ${sockets.length}`);
const stop = () => {
  for (const s of sockets) s.end('QUIT\r\n');
  setTimeout(() => process.exit(0), 500).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
setInterval(() => {}, 1 << 30);
