/** PROXY protocol header reader; proxy-protocol-js builds the reference headers (test oracle). */
import pp from 'proxy-protocol-js';
import { parseProxyHeader } from '../../../../src/frontends/smtp/proxy-protocol.js';

const v1 = (proto: 'TCP4' | 'TCP6', src: string, dst: string, sp: number, dp: number) =>
  Buffer.from(new pp.V1ProxyProtocol(proto === 'TCP4' ? pp.INETProtocol.TCP4 : pp.INETProtocol.TCP6, new pp.Peer(src, sp), new pp.Peer(dst, dp)).build(), 'latin1');
const v2v4 = (cmd = pp.Command.PROXY) =>
  Buffer.from(new pp.V2ProxyProtocol(cmd, pp.TransportProtocol.STREAM, new pp.IPv4ProxyAddress(pp.IPv4Address.createFrom([192, 0, 2, 1]), 1234, pp.IPv4Address.createFrom([198, 51, 100, 2]), 25)).build());
const v2v6 = () =>
  Buffer.from(
    new pp.V2ProxyProtocol(
      pp.Command.PROXY,
      pp.TransportProtocol.STREAM,
      new pp.IPv6ProxyAddress(pp.IPv6Address.createFrom([0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), 5555, pp.IPv6Address.createFrom([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1]), 25),
    ).build(),
  );

describe('parseProxyHeader', () => {
  test.each([
    ['v1 TCP4', v1('TCP4', '203.0.113.7', '192.0.2.25', 40000, 25), { sourceAddress: '203.0.113.7', sourcePort: 40000, destAddress: '192.0.2.25', destPort: 25 }],
    ['v1 TCP6', v1('TCP6', '2001:db8::7', '2001:db8::19', 40000, 25), { sourceAddress: '2001:db8::7', sourcePort: 40000, destAddress: '2001:db8::19', destPort: 25 }],
    ['v2 TCP4', v2v4(), { sourceAddress: '192.0.2.1', sourcePort: 1234, destAddress: '198.51.100.2', destPort: 25 }],
    ['v2 TCP6', v2v6(), { sourceAddress: '2001:db8::1', sourcePort: 5555, destAddress: '::ffff:127.0.0.1', destPort: 25 }],
  ])('%s', (_n, buf, addresses) => {
    const withTail = Buffer.concat([buf, Buffer.from('EHLO x\r\n')]);
    expect(parseProxyHeader(withTail)).toEqual({ kind: 'ok', version: expect.any(Number), length: buf.length, addresses });
  });

  test('v1 UNKNOWN and v2 LOCAL carry no addresses (use the socket)', () => {
    expect(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n'))).toEqual({ kind: 'ok', version: 1, length: 15 });
    const local = v2v4(pp.Command.LOCAL);
    expect(parseProxyHeader(local)).toEqual({ kind: 'ok', version: 2, length: local.length });
  });

  test('every prefix of a valid header is incomplete, never invalid', () => {
    for (const h of [v1('TCP4', '203.0.113.7', '192.0.2.25', 40000, 25), v2v6()]) {
      for (let i = 0; i < h.length; i++) expect(parseProxyHeader(h.subarray(0, i)).kind).toBe('incomplete');
    }
  });

  test('v2 TLVs are skipped; UNIQUE_ID (0x05) is read', () => {
    const base = v2v4();
    const tlv = Buffer.from([0x05, 0x00, 0x03, 0xaa, 0xbb, 0xcc, 0x01, 0x00, 0x01, 0x68]);
    const h = Buffer.concat([base, tlv]);
    h.writeUInt16BE(base.readUInt16BE(14) + tlv.length, 14);
    expect(parseProxyHeader(h)).toMatchObject({ kind: 'ok', length: h.length, uniqueId: 'aabbcc', addresses: { sourceAddress: '192.0.2.1' } });
  });

  test.each([
    ['not PROXY at all', 'EHLO example.org\r\n'],
    ['v1 bad protocol', 'PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n'],
    ['v1 bad address', 'PROXY TCP4 300.1.1.1 5.6.7.8 1 2\r\n'],
    ['v1 family mismatch', 'PROXY TCP4 2001:db8::1 5.6.7.8 1 2\r\n'],
    ['v1 leading zero port', 'PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n'],
    ['v1 port out of range', 'PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n'],
    ['v1 too long', 'PROXY TCP4 ' + '1'.repeat(120)],
    ['v1 missing field', 'PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n'],
  ])('invalid: %s', (_n, s) => {
    expect(parseProxyHeader(Buffer.from(s, 'latin1')).kind).toBe('invalid');
  });

  test('invalid v2: version, command, UDP, short address block', () => {
    const mut = (f: (b: Buffer) => void) => {
      const b = Buffer.from(v2v4());
      f(b);
      return parseProxyHeader(b).kind;
    };
    expect(mut((b) => (b[12] = 0x11))).toBe('invalid');
    expect(mut((b) => (b[12] = 0x22))).toBe('invalid');
    expect(mut((b) => (b[13] = 0x12))).toBe('invalid');
    expect(mut((b) => b.writeUInt16BE(4, 14))).toBe('invalid');
  });
});
