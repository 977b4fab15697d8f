import { afterAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/service/redis-server.js';
import { runCli } from '../support/cli.js';
import { tempDir, uniqueName } from '../support/temp.js';

const PASSCODE = 'c0ffee0123456789abcdef0123456789abcdef01';
const LINK = `https://faspex.example.com/aspera/faspex/external_deliveries/4822?passcode=${PASSCODE}`;

describe('enqueue and status', () => {
  const cwd = tempDir('cli-queue');
  const env = { REDIS_URL: inject('redisUrl'), QUEUE_PREFIX: uniqueName('cliq'), FASPEX_ALLOWED_HOSTS: 'faspex.example.com' };
  afterAll(() => cwd.remove());

  it('queues a link once, and status shows it with the passcode masked', async () => {
    const first = await runCli(['enqueue', LINK], { env, cwd: cwd.path });
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toBe('queued faspex4-external-faspex.example.com-4822 (faspex4-external, https://faspex.example.com/aspera/faspex/external_deliveries/4822?passcode=***)\n');

    const again = await runCli(['enqueue', `${LINK}#`], { env, cwd: cwd.path });
    expect(again.stdout).toMatch(/^already queued faspex4-external-faspex.example.com-4822 /);

    const status = await runCli(['status', '--json'], { env, cwd: cwd.path });
    expect(status.code).toBe(0);
    const report = JSON.parse(status.stdout);
    expect(report.queues.downloads).toEqual({ waiting: 1, active: 0, delayed: 0, completed: 0, failed: 0 });
    expect(report.jobs).toEqual([
      {
        id: 'faspex4-external-faspex.example.com-4822',
        name: 'package 4822 on faspex.example.com',
        state: 'waiting',
        kind: 'faspex4-external',
        server: 'faspex.example.com',
        package: '4822',
        link: 'https://faspex.example.com/aspera/faspex/external_deliveries/4822?passcode=***',
        title: null,
        attempts: 0,
        reason: null,
        progress: { bytes: null, total: null },
        folder: null,
        waitingFor: null,
        handoff: null,
      },
    ]);
    expect(status.stdout).not.toContain(PASSCODE);

    const human = await runCli(['status'], { env, cwd: cwd.path });
    expect(human.stdout).toContain('downloads: 1 waiting, 0 active, 0 delayed, 0 completed, 0 failed');
    expect(human.stdout).toContain('waiting   faspex4-external-faspex.example.com-4822  "package 4822 on faspex.example.com"');
  });

  it.each([
    [['enqueue', 'https://evil.example.net/aspera/faspex/external_deliveries/1?passcode=abc1'], 1, /evil.example.net is not in FASPEX_ALLOWED_HOSTS/],
    [['enqueue', 'https://faspex.example.com/aspera/faspex/external/submissions/new?passcode=abc1'], 1, /upload \(submission\) form/],
    [['enqueue', 'faspe://faspex@evil.example.net:33001/p.aspera-package/PKG?token=abc1'], 1, /evil.example.net is not in FASPEX_ALLOWED_HOSTS/],
    [['enqueue', 'https://faspex.example.com/somewhere'], 1, /not a Faspex package link/],
    [['status', '--limit', 'x'], 2, /expected a whole number/],
  ])('%j fails with a clear reason', async (args, code, message) => {
    const r = await runCli(args, { env, cwd: cwd.path });
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toContain('abc1');
  });

  it('says how to get a Redis when there is none', async () => {
    const r = await runCli(['status'], { env: { DATA_DIR: cwd.path }, cwd: cwd.path });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/REDIS_URL is unset and no `faspex-ingest run` is running/);
  });

  it('names an unreachable Redis once, with the reason and without its password', async () => {
    const port = await freePort();
    const r = await runCli(['status'], { env: { ...env, REDIS_URL: `redis://:Hunter2-secret@127.0.0.1:${port}` }, cwd: cwd.path });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(new RegExp(`Redis at redis://127\\.0\\.0\\.1:${port} refused the connection: .*ECONNREFUSED`));
    expect(r.stderr.split(`127.0.0.1:${port}`).length - 1).toBe(2); // the server, and ECONNREFUSED's address
    expect(r.stderr).not.toContain('Hunter2-secret');
  });
});
