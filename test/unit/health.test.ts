import { describe, expect, it } from 'vitest';
import { createHealthCheck, httpStatusOf, redisPingProbe } from '../../src/service/health.js';

const ok = async () => undefined;
const fails = (message: string) => async () => {
  throw new Error(message);
};

describe('createHealthCheck', () => {
  it('is ok when every probe answers, and marks probes it was not given as skipped', async () => {
    const report = await createHealthCheck({ redis: ok, workers: async () => '2 workers' })();
    expect(report).toMatchObject({ status: 'ok', checks: { redis: { status: 'ok' }, listener: { status: 'skipped' }, imap: { status: 'skipped' }, workers: { status: 'ok', detail: '2 workers' } } });
    expect(httpStatusOf(report)).toBe(200);
  });

  it('is degraded (still 200) when only the mail listener or the workers fail', async () => {
    const report = await createHealthCheck({ redis: ok, listener: fails('IMAP login refused') })();
    expect(report.status).toBe('degraded');
    expect(report.checks.listener).toMatchObject({ status: 'down', detail: 'IMAP login refused' });
    // the name the check had before Graph mailboxes: the same result
    expect(report.checks.imap).toEqual(report.checks.listener);
    expect(httpStatusOf(report)).toBe(200);
  });

  it('is down (503) when Redis fails, and a probe that hangs counts as failed', async () => {
    const report = await createHealthCheck({ redis: () => new Promise(() => undefined), timeoutMs: 50 })();
    expect(report.status).toBe('down');
    expect(report.checks.redis.detail).toMatch(/no answer within 50 ms/);
    expect(httpStatusOf(report)).toBe(503);
  });

  it('masks secrets quoted by a failing probe', async () => {
    const report = await createHealthCheck({ redis: fails('cannot reach redis://user:hunter22@redis:6379') })();
    expect(JSON.stringify(report)).not.toContain('hunter22');
  });

  it('treats anything but PONG as a failed PING', async () => {
    await expect(redisPingProbe({ ping: async () => 'PONG' })()).resolves.toBeUndefined();
    await expect(redisPingProbe(async () => ({ ping: async () => 'LOADING' }))()).rejects.toThrow(/unexpected answer/);
  });
});
