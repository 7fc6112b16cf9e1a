import { ConfigError, parseConfigText, resolveConfigPath } from '../../../src/config/loader.js';

function problemsOf(text: string) {
  try {
    parseConfigText(text, 'spamgate.yaml');
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map((p) => `${p.line}:${p.key}`);
    throw e;
  }
  return [];
}

describe('config loader', () => {
  it('fills defaults for an empty document and freezes the result', () => {
    const { config } = parseConfigText('', 'x.yaml');
    expect(config.actions).toMatchObject({ greylist: 4, tag: 6, reject: 15 });
    expect(config.redis.url).toBe('');
    expect(config.downstream.tls).toBe('off');
    expect(Object.isFrozen(config.downstream)).toBe(true);
  });

  it.each([
    ['wrong type', 'actions:\n  tag: "six"\n', ['2:actions.tag']],
    ['out of range port', 'downstream:\n  host: x\n  port: 70000\n', ['3:downstream.port']],
    ['bad enum', 'downstream:\n  tls: maybe\n', ['2:downstream.tls']],
    ['unknown key at top', 'lisen: []\n', ['1:lisen']],
    ['unknown nested key', 'limits:\n  maxClients: 5\n  maxClient: 5\n', ['3:limits.maxClient']],
    ['bad list element', 'listen:\n  - "127.0.0.1:25"\n  - "nope"\n', ['3:listen.1']],
    ['bad symbol name in scores', 'scores:\n  bad_name: 1\n', ['2:scores.bad_name']],
    ['tls key without cert', 'tls:\n  key: /k.pem\n', ['1:tls']],
    ['YAML syntax error', 'listen: [a\n', ['2:']],
    ['duplicate key', 'hostname: a\nhostname: b\n', ['2:']],
  ])('%s is reported with its line and key', (_name, text, expected) => {
    expect(problemsOf(text)).toEqual(expected);
  });

  it('lists every problem at once', () => {
    expect(problemsOf('downstream:\n  port: 0\nactions:\n  reject: x\nbogus: 1\n')).toEqual([
      '2:downstream.port',
      '4:actions.reject',
      '5:bogus',
    ]);
  });

  it('accepts IPv6 host:port and CIDR lists', () => {
    const { config } = parseConfigText('listen: ["[::1]:2525"]\npolicy:\n  allowIps: ["10.0.0.0/8", "2001:db8::/32"]\n', 'x');
    expect(config.listen).toEqual(['[::1]:2525']);
  });

  it('resolves the config path from --config, then SPAMGATE_CONFIG, then the default', () => {
    expect(resolveConfigPath('/a.yaml', { SPAMGATE_CONFIG: '/b.yaml' })).toBe('/a.yaml');
    expect(resolveConfigPath(undefined, { SPAMGATE_CONFIG: '/b.yaml' })).toBe('/b.yaml');
    expect(resolveConfigPath(undefined, {})).toMatch(/config\/spamgate\.yaml$/);
  });
});
