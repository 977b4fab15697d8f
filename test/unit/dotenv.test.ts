import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, environmentWithDotenv, loadConfig } from '../../src/config/config.js';
import { startRedisServer } from '../../src/service/redis-server.js';
import { tempDir } from '../support/temp.js';

describe('.env', () => {
  const dir = tempDir('dotenv');
  afterAll(() => dir.remove());

  it('is read from the working directory, and the environment wins', () => {
    writeFileSync(join(dir.path, '.env'), '# comment\nFASPEX_ALLOWED_HOSTS=fx.example.com\nWORKER_CONCURRENCY=7\nDOWNLOAD_DIR="./in coming"\n');
    const env = environmentWithDotenv({ WORKER_CONCURRENCY: '3' }, dir.path);
    const config = loadConfig(env, 'work', dir.path);
    expect(config.faspex.allowedHosts.map((h) => h.host)).toEqual(['fx.example.com']);
    expect(config.workers.concurrency).toBe(3);
    expect(config.downloads.dir).toBe(join(dir.path, 'in coming'));
  });

  it('a bad value in .env is reported like one in the environment', () => {
    writeFileSync(join(dir.path, '.env'), 'FASPEX_ALLOWED_HOSTS=fx.example.com\nDOWNLOAD_ATTEMPTS=many\n');
    expect(() => loadConfig(environmentWithDotenv({}, dir.path), 'work', dir.path)).toThrow(ConfigError);
    expect(() => loadConfig(environmentWithDotenv({}, dir.path), 'work', dir.path)).toThrow('DOWNLOAD_ATTEMPTS: expected a whole number from 1 to 100, got "many"');
  });
});

describe('embedded redis-server', () => {
  it('says how to install it when the binary is missing', async () => {
    const dir = tempDir('noredis');
    try {
      await expect(startRedisServer({ dir: dir.path, binary: join(dir.path, 'no-such-redis-server') })).rejects.toThrow(
        'redis-server was not found; install it with: apt-get install -y redis-server (or set REDIS_URL to an existing Redis)',
      );
    } finally {
      dir.remove();
    }
  });
});
