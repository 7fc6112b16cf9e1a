import { describe, expect, test } from '@jest/globals';
import { firstHeaderValue } from '../../../src/core/header-field.js';
import { envelopeFor, normalizeMessage } from '../../../src/app/scan-message.js';

describe('firstHeaderValue', () => {
  const msg = Buffer.from('Received: x\r\nSUBJECT: Hello\r\n  folded  \r\nTo: a@example.com\r\nsubject: second\r\n\r\nSubject: body\r\n');
  test.each([
    ['subject', 'Hello  folded'],
    ['to', 'a@example.com'],
    ['from', undefined],
  ] as const)('%s → %j', (name, value) => {
    expect(firstHeaderValue(msg, name)).toBe(value);
  });
  test('header fields only, UTF-8 kept', () => {
    expect(firstHeaderValue(Buffer.from('X: 1\r\n\r\nSubject: body\r\n'), 'subject')).toBeUndefined();
    expect(firstHeaderValue(Buffer.from('Subject: Grüße\r\n\r\n'), 'subject')).toBe('Grüße');
  });
});

describe('scan input', () => {
  test.each([
    ['From a@b  Thu Aug 22 13:27:39 2002\nSubject: x\n\nbody\n', 'Subject: x\r\n\r\nbody\r\n'],
    ['Subject: x\r\n\r\nbody\r\n', 'Subject: x\r\n\r\nbody\r\n'],
    ['Subject: x\n\nmixed\r\nends\n', 'Subject: x\r\n\r\nmixed\r\nends\r\n'],
    ['From: a@b\n\nx', 'From: a@b\r\n\r\nx'],
  ])('normalizeMessage(%j)', (input, out) => {
    expect(normalizeMessage(Buffer.from(input)).toString()).toBe(out);
  });

  test('8-bit bytes survive normalisation', () => {
    const raw = Buffer.concat([Buffer.from('Subject: x\n\n'), Buffer.from([0xe9, 0xff, 0x0a])]);
    expect([...normalizeMessage(raw)].slice(-4)).toEqual([0xe9, 0xff, 0x0d, 0x0a]);
  });

  test('envelope defaults: Return-Path, else From; To recipients; ip and helo', () => {
    const m = Buffer.from('Return-Path: <bounce@example.org>\r\nFrom: "A" <a@example.org>\r\nTo: x@example.com, "Y" <y@example.com>\r\n\r\n');
    expect(envelopeFor(m, {})).toEqual({ ip: '127.0.0.1', helo: 'localhost', from: 'bounce@example.org', rcpts: ['x@example.com', 'y@example.com'] });
    const n = Buffer.from('From: "A" <a@example.org>\r\n\r\n');
    expect(envelopeFor(n, { ip: '192.0.2.1', helo: 'h', rcpts: ['r@example.com'] })).toEqual({ ip: '192.0.2.1', helo: 'h', from: 'a@example.org', rcpts: ['r@example.com'] });
    expect(envelopeFor(n, { from: '' }).from).toBe('');
  });
});
