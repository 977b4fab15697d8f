import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import {
  clusterPrefixProblem,
  describeShape,
  evictionProblem,
  hashTagOf,
  parseHostPorts,
  policyFromInfo,
  redisShape,
  type RedisSettings,
} from '../../src/queue/redis-shape.js';

describe('parseHostPorts', () => {
  it.each([
    ['a:1,b:2', [{ host: 'a', port: 1 }, { host: 'b', port: 2 }]],
    [' sentinel-1 , sentinel-2:26380 ', [{ host: 'sentinel-1', port: 26379 }, { host: 'sentinel-2', port: 26380 }]],
    ['[::1]:7000', [{ host: '::1', port: 7000 }]],
    ['10.0.0.5', [{ host: '10.0.0.5', port: 26379 }]],
  ])('%s', (raw, expected) => expect(parseHostPorts(raw, 26379)).toEqual(expected));

  it.each([[''], [','], ['a:0'], ['a:70000'], ['a:b'], ['a:1:2'], ['redis://a:1']])('refuses %j', (raw) => {
    expect(() => parseHostPorts(raw, 6379)).toThrow();
  });
});

describe('hashTagOf / clusterPrefixProblem', () => {
  it.each([
    ['{faspex-ingest}', 'faspex-ingest'],
    ['app{tag}rest', 'tag'],
    ['{a}{b}', 'a'],
    ['faspex-ingest', undefined],
    ['{}', undefined],
    ['{}x{y}', undefined], // Redis hashes the whole key when the first braces are empty
    ['x{', undefined],
    ['x}y{', undefined],
  ])('%s → %s', (prefix, tag) => expect(hashTagOf(prefix)).toBe(tag));

  it('names the fix in the refusal', () => {
    expect(clusterPrefixProblem('faspex-ingest')).toContain('set QUEUE_PREFIX={faspex-ingest}');
    expect(clusterPrefixProblem('{}')).toContain('QUEUE_PREFIX={faspex-ingest}');
    expect(clusterPrefixProblem('{ok}')).toBeUndefined();
  });
});

describe('redisShape', () => {
  const base: RedisSettings = { url: undefined, prefix: 'p' };
  const CA = '-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n';
  it.each<[string, RedisSettings, string | undefined, unknown]>([
    ['nothing configured: the embedded server', base, undefined, undefined],
    ['plain url', { ...base, url: 'redis://r.example:6380/2' }, undefined, { kind: 'server', host: 'r.example', port: 6380, db: 2, tls: false }],
    ['rediss with ACL user and CA', { ...base, url: 'rediss://ingest:s%40cret@r.example:6380', caFile: '/ca.pem' }, CA,
      { kind: 'server', host: 'r.example', port: 6380, db: 0, tls: true, username: 'ingest', password: 's@cret', ca: CA }],
    ['rediss, password only (Azure access key), system CAs', { ...base, url: 'rediss://:key@x.redis.cache.windows.net:6380' }, undefined,
      { kind: 'server', host: 'x.redis.cache.windows.net', port: 6380, db: 0, tls: true, password: 'key' }],
    ['sentinel: credentials of REDIS_URL go to the master, the sentinel password apart',
      { ...base, url: 'redis://app:pw@ignored/1', sentinels: [{ host: 's1', port: 26379 }], sentinelMaster: 'mymaster', sentinelPassword: 'spw' }, undefined,
      { kind: 'sentinel', sentinels: [{ host: 's1', port: 26379 }], master: 'mymaster', sentinelPassword: 'spw', db: 1, tls: false, username: 'app', password: 'pw' }],
    ['sentinel without REDIS_URL', { ...base, sentinels: [{ host: 's1', port: 1 }], sentinelMaster: 'm' }, undefined,
      { kind: 'sentinel', sentinels: [{ host: 's1', port: 1 }], master: 'm', sentinelPassword: undefined, db: 0, tls: false }],
    ['cluster with a hash-tag prefix', { ...base, prefix: '{fi}', url: 'rediss://u:p@cfg', clusterNodes: [{ host: 'n1', port: 7000 }] }, undefined,
      { kind: 'cluster', nodes: [{ host: 'n1', port: 7000 }], tls: true, username: 'u', password: 'p' }],
  ])('%s', (_label, settings, ca, expected) => expect(redisShape(settings, ca)).toEqual(expected));

  it.each<[string, RedisSettings, string | undefined, RegExp]>([
    ['cluster without a hash tag', { ...base, clusterNodes: [{ host: 'n', port: 1 }] }, undefined, /set QUEUE_PREFIX=\{p\}/],
    ['cluster and sentinel', { ...base, prefix: '{p}', clusterNodes: [{ host: 'n', port: 1 }], sentinels: [{ host: 's', port: 1 }], sentinelMaster: 'm' }, undefined, /exclude each other/],
    ['sentinel without master', { ...base, sentinels: [{ host: 's', port: 1 }] }, undefined, /REDIS_SENTINEL_MASTER is required/],
    ['CA file unreadable', { ...base, url: 'rediss://h', caFile: '/nope.pem' }, undefined, /REDIS_CA_FILE \/nope.pem cannot be read/],
    ['CA without TLS', { ...base, url: 'redis://h', caFile: '/ca.pem' }, CA, /not rediss/],
    ['CA file without a certificate', { ...base, url: 'rediss://h', caFile: '/empty.pem' }, '', /REDIS_CA_FILE \/empty.pem holds no PEM certificate/],
    ['cluster with a database', { ...base, prefix: '{p}', url: 'redis://h/3', clusterNodes: [{ host: 'n', port: 1 }] }, undefined, /only has database 0/],
    ['path that is no database', { ...base, url: 'redis://h/queues' }, undefined, /database number/],
  ])('refuses: %s', (_label, settings, ca, message) => expect(() => redisShape(settings, ca)).toThrow(message));

  it('never describes a password', () => {
    const shape = redisShape({ ...base, url: 'rediss://ingest:hunter2@r.example:6380' }, undefined)!;
    expect(describeShape(shape)).toBe('rediss://ingest@r.example:6380');
    const sentinel = redisShape({ ...base, url: 'redis://:hunter2@x', sentinels: [{ host: 's1', port: 26379 }], sentinelMaster: 'm', sentinelPassword: 'hunter3' }, undefined)!;
    expect(describeShape(sentinel)).not.toMatch(/hunter/);
  });
});

describe('eviction policy', () => {
  it.each([
    ['noeviction', false],
    [undefined, false],
    ['allkeys-lru', true],
    ['volatile-lru', true],
    ['volatile-ttl', true],
    ['allkeys-random', true],
  ])('%s refused: %s', (policy, refused) => {
    const problem = evictionProblem(policy, 'r:6379');
    expect(problem !== undefined).toBe(refused);
    if (refused) expect(problem).toMatch(/noeviction/);
  });

  it('reads the policy from INFO memory', () => {
    expect(policyFromInfo('# Memory\r\nused_memory:1\r\nmaxmemory_policy:allkeys-lru\r\nfoo:1\r\n')).toBe('allkeys-lru');
    expect(policyFromInfo('# Memory\r\nused_memory:1\r\n')).toBeUndefined();
  });
});

describe('config', () => {
  const env = { FASPEX_ALLOWED_HOSTS: 'f.example.com' };
  it('reads the Redis shapes', () => {
    const c = loadConfig({ ...env, REDIS_SENTINELS: 's1:26379,s2', REDIS_SENTINEL_MASTER: 'mymaster', REDIS_SENTINEL_PASSWORD: 'x' }, 'work', '/srv');
    expect(c.redis).toMatchObject({ sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26379 }], sentinelMaster: 'mymaster', sentinelPassword: 'x' });
    expect(loadConfig({ ...env, REDIS_CA_FILE: 'ca.pem', REDIS_URL: 'rediss://h' }, 'work', '/srv').redis.caFile).toBe('/srv/ca.pem');
  });
  it.each([
    [{ REDIS_CLUSTER_NODES: 'n1:7000' }, /QUEUE_PREFIX=faspex-ingest has no \{hash tag\}.*set QUEUE_PREFIX=\{faspex-ingest\}/],
    [{ REDIS_SENTINELS: 's1' }, /REDIS_SENTINEL_MASTER is required/],
    [{ REDIS_SENTINELS: 's1', REDIS_SENTINEL_MASTER: 'm', REDIS_CLUSTER_NODES: 'n:1', QUEUE_PREFIX: '{x}' }, /exclude each other/],
    [{ REDIS_SENTINELS: 'redis://s1' }, /REDIS_SENTINELS/],
  ])('refuses %j at start', (extra, message) => expect(() => loadConfig({ ...env, ...extra }, 'work')).toThrow(message));
  it('accepts a Cluster with a {hash tag} prefix', () => {
    expect(loadConfig({ ...env, REDIS_CLUSTER_NODES: 'n1:7000', QUEUE_PREFIX: '{fi}' }, 'work').redis.clusterNodes).toEqual([{ host: 'n1', port: 7000 }]);
  });
});
