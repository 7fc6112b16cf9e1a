/**
 * sd_listen_fds(3) parsing and the mapping of `listen` entries to passed sockets (tables; the real
 * socket activation runs in test/integration/proxy-systemd.test.ts).
 */
import { parseListenFds, resolveListen, type ListenFd } from '../../../src/frontends/listen-fds.js';

describe('parseListenFds (sd_listen_fds_with_names)', () => {
  const PID = 4242;
  test.each<[string, NodeJS.ProcessEnv, ListenFd[]]>([
    ['not socket-activated', {}, []],
    ['meant for another process (LISTEN_PID differs)', { LISTEN_PID: '1', LISTEN_FDS: '1' }, []],
    ['LISTEN_FDS without LISTEN_PID', { LISTEN_FDS: '1' }, []],
    ['one socket, no names → "unknown"', { LISTEN_PID: '4242', LISTEN_FDS: '1' }, [{ fd: 3, name: 'unknown' }]],
    ['two named sockets from fd 3 on', { LISTEN_PID: '4242', LISTEN_FDS: '2', LISTEN_FDNAMES: 'smtp:admin' }, [{ fd: 3, name: 'smtp' }, { fd: 4, name: 'admin' }]],
    ['zero sockets', { LISTEN_PID: '4242', LISTEN_FDS: '0' }, []],
  ])('%s', (_label, env, want) => {
    expect(parseListenFds(env, PID)).toEqual(want);
  });

  test.each<[string, NodeJS.ProcessEnv, RegExp]>([
    ['LISTEN_FDS not a number', { LISTEN_PID: '4242', LISTEN_FDS: 'x' }, /LISTEN_FDS=x: not a number/],
    ['names and count disagree', { LISTEN_PID: '4242', LISTEN_FDS: '2', LISTEN_FDNAMES: 'smtp' }, /1 names for LISTEN_FDS=2/],
  ])('%s → throws', (_label, env, re) => {
    expect(() => parseListenFds(env, PID)).toThrow(re);
  });
});

describe('resolveListen', () => {
  const smtp: ListenFd = { fd: 3, name: 'smtp' };
  const smtp2: ListenFd = { fd: 4, name: 'smtp' };
  const admin: ListenFd = { fd: 5, name: 'admin' };
  test.each<[string, string[], ListenFd[], unknown[]]>([
    ['host:port only', ['127.0.0.1:2525', '[::1]:25'], [], [{ host: '127.0.0.1', port: 2525 }, { host: '::1', port: 25 }]],
    ['systemd:smtp takes every socket named smtp', ['systemd:smtp'], [smtp, smtp2], [{ fd: 3 }, { fd: 4 }]],
    ['systemd takes them all', ['systemd'], [smtp, admin], [{ fd: 3 }, { fd: 5 }]],
    ['mixed with an address', ['systemd:smtp', '127.0.0.1:2526'], [smtp], [{ fd: 3 }, { host: '127.0.0.1', port: 2526 }]],
    ['a socket is used once', ['systemd:smtp', 'systemd'], [smtp, admin], [{ fd: 3 }, { fd: 5 }]],
  ])('%s', (_label, entries, fds, want) => {
    expect(resolveListen(entries, fds).map((t) => t.options)).toEqual(want);
  });

  test.each<[string, string[], ListenFd[], RegExp]>([
    ['systemd entry, nothing passed', ['systemd:smtp'], [], /listen systemd:smtp: systemd passed no socket named "smtp"; passed: none \(LISTEN_FDS unset/],
    ['wrong name', ['systemd:mx'], [smtp], /no socket named "mx"; passed: smtp \(fd 3\)/],
    ['passed socket nobody takes', ['127.0.0.1:2525'], [smtp], /systemd passed sockets no listen entry takes: smtp \(fd 3\)/],
    ['every problem at once', ['systemd:mx'], [admin], /named "mx".*; systemd passed sockets no listen entry takes: admin \(fd 5\)/],
  ])('%s → throws', (_label, entries, fds, re) => {
    expect(() => resolveListen(entries, fds)).toThrow(re);
  });
});
