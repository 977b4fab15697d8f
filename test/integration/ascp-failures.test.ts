/**
 * Each way ascp can end badly → the right IngestError and retry decision, against the fake ascp.
 * Sleeps are injected (recorded, not waited); the short start-up timeouts below only bound how
 * long we wait for a fake that was told never to answer.
 */
import { describe, expect, it } from 'vitest';
import { downloadPackage, downloadWithRetries } from '../../src/ascp/download-package.js';
import type { IngestError } from '../../src/errors.js';
import { alive, setupFakeAscp } from '../support/fake-ascp-harness.js';
import { ingestFailure } from '../support/ingest-failure.js';

const policy = (sleeps: number[], attempts = 4) => ({ attempts, baseMs: 1000, maxMs: 3000, sleep: async (ms: number) => void sleeps.push(ms) });

describe('failure decisions', () => {
  it('a retryable code is retried with backoff until attempts run out', async () => {
    // Big enough that each failing run still leaves something to send.
    const s = setupFakeAscp({ fail: 'code:16@50%', files: { 'big.bin': 1_000_000 } });
    const sleeps: number[] = [];
    const err = await ingestFailure(downloadWithRetries(s.link, s.ctx(), policy(sleeps, 3)));
    expect(err).toMatchObject({ code: 'TRANSFER_FAILED', retry: 'later', details: { ascpCode: 16 } });
    expect(err.message).toMatch(/connection to the transfer server was lost.*\(gave up after 3 attempts\)/);
    expect(sleeps).toHaveLength(2);
    expect(sleeps[0]).toBeGreaterThanOrEqual(500);
    expect(sleeps[0]).toBeLessThanOrEqual(1000);
    expect(sleeps[1]).toBeGreaterThanOrEqual(1000);
    expect(sleeps[1]).toBeLessThanOrEqual(2000);
    expect(s.resolveCalls).toBe(3);
  });

  it.each<[string, string, string, RegExp]>([
    ['code:4', 'TRANSFER_FAILED', 'never', /the package files do not exist on the server.*No such file or directory/],
    ['code:19', 'TRANSFER_FAILED', 'never', /refused the login/],
    ['code:14:Target address not available', 'TRANSFER_FAILED', 'never', /not reachable.*Target address not available/],
  ])('%s fails at once: %s / %s', async (fail, code, retry, message) => {
    const s = setupFakeAscp({ fail });
    const sleeps: number[] = [];
    const err = await ingestFailure(downloadWithRetries(s.link, s.ctx(), policy(sleeps)));
    expect(err).toMatchObject({ code, retry });
    expect(err.message).toMatch(message);
    expect(sleeps).toEqual([]);
    expect(s.invocations()).toHaveLength(1);
  });

  it('ascp\'s disk full (25) is a wait, not a failure: the next try resumes and completes', async () => {
    const s = setupFakeAscp({ fail: 'code:25@30%,ok' });
    const sleeps: number[] = [];
    const result = await downloadWithRetries(s.link, s.ctx(), policy(sleeps));
    expect(result.alreadyComplete).toBe(false);
    expect(sleeps).toHaveLength(1);
    expect(s.invocations()).toHaveLength(2);
    expect(s.lines.join('\n')).toMatch(/waiting for disk space: the download disk is full/);
  });

  it('a refused (expired) token is retried at once with a freshly resolved one', async () => {
    const s = setupFakeAscp({ tokenTtlMs: (call) => (call === 1 ? -60_000 : 3_600_000) });
    const sleeps: number[] = [];
    const result = await downloadWithRetries(s.link, s.ctx(), policy(sleeps));
    expect(result.alreadyComplete).toBe(false);
    expect(s.resolveCalls).toBe(2);
    expect(s.tokens[0]).not.toBe(s.tokens[1]);
    expect(sleeps).toEqual([]);
    expect(s.lines.join('\n')).toMatch(/refused the transfer token.*retrying now with a fresh token/);
  });

  it('code 34 on every try: one immediate refresh, then backoff, each try re-resolving', async () => {
    const s = setupFakeAscp({ fail: 'code:34' });
    const sleeps: number[] = [];
    const err = await ingestFailure(downloadWithRetries(s.link, s.ctx(), policy(sleeps, 3)));
    expect(err).toMatchObject({ code: 'TOKEN_REFUSED', retry: 'refresh' });
    expect(s.resolveCalls).toBe(3);
    expect(sleeps).toHaveLength(1);
  });

  it('one attempt (the worker\'s unit) reports the decision without retrying', async () => {
    const s = setupFakeAscp({ fail: 'code:34' });
    const err = await ingestFailure(downloadPackage(s.link, s.ctx()));
    expect(err).toMatchObject({ code: 'TOKEN_REFUSED', retry: 'refresh' });
    expect(s.resolveCalls).toBe(1);
  });

  it('ascp that never connects to the management port → NO_SESSION with the ports hint, and it is stopped', async () => {
    const s = setupFakeAscp({ fail: 'no-mgmt' });
    // Long enough for the fake to start and record itself even on a loaded machine; the point
    // is that the runner gives up and stops it, not how fast.
    const err = await ingestFailure(downloadPackage(s.link, s.ctx({ timing: { connectTimeoutMs: 2000, graceMs: 1000 } })));
    expect(err).toMatchObject({ code: 'NO_SESSION', retry: 'later' });
    expect(err.message).toMatch(/reach the transfer server: SSH to 127\.0\.0\.1:33001 \(TCP\), data on UDP 33001; firewalls often block it/);
    expect(alive(s.invocations()[0]!.pid)).toBe(false);
  });

  it('INIT then silence → NO_SESSION with the ports hint', async () => {
    const s = setupFakeAscp({ fail: 'silent-after-init' });
    const err = await ingestFailure(downloadPackage(s.link, s.ctx({ timing: { sessionStartMs: 300, graceMs: 1000 } })));
    expect(err).toMatchObject({ code: 'NO_SESSION', retry: 'later' });
    expect(err.message).toMatch(/session never began.*SSH to 127\.0\.0\.1:33001 \(TCP\)/);
    expect(alive(s.invocations()[0]!.pid)).toBe(false);
  });

  it('the watchdog stops a transfer that makes no progress → NO_PROGRESS, partial kept', async () => {
    const s = setupFakeAscp({ fail: 'stall@40%', files: { 'big.bin': 400_000 } });
    s.config.downloads.stallSeconds = 0.5;
    const err = await ingestFailure(downloadPackage(s.link, s.ctx()));
    expect(err).toMatchObject({ code: 'NO_PROGRESS', retry: 'later' });
    expect(err.message).toMatch(/no progress for 0\.5 s/);
    expect(alive(s.invocations()[0]!.pid)).toBe(false);
  });

  it.each<[string, RegExp]>([
    ['exit1-no-error@50%', /exited with status 1 without reporting completion/],
    ['garbage', /management output could not be read/],
  ])('%s → transient TRANSFER_FAILED', async (fail, message) => {
    const s = setupFakeAscp({ fail });
    const err = await ingestFailure(downloadPackage(s.link, s.ctx()));
    expect(err).toMatchObject({ code: 'TRANSFER_FAILED', retry: 'later' });
    expect(err.message).toMatch(message);
  });

  it('an ascp that cannot be started is a permanent ASCP_NOT_FOUND', async () => {
    const s = setupFakeAscp();
    const ctx = s.ctx();
    const err = await ingestFailure(downloadPackage(s.link, { ...ctx, ascp: { ...ctx.ascp, path: `${s.root}/missing-ascp` } }));
    expect(err).toMatchObject({ code: 'ASCP_NOT_FOUND', retry: 'never' });
  });

  it('no error message or log line carries the token', async () => {
    const s = setupFakeAscp({ fail: 'code:16@50%' });
    await ingestFailure(downloadWithRetries(s.link, s.ctx(), policy([], 2)).catch((e: IngestError) => {
      for (const t of s.tokens) expect(`${e.message} ${JSON.stringify(e.details)}`).not.toContain(t);
      throw e;
    }));
    for (const t of s.tokens) for (const text of [...s.logs, ...s.lines]) expect(text).not.toContain(t);
    for (const inv of s.invocations()) for (const t of s.tokens) expect(inv.argv.join(' ')).not.toContain(t);
  });
});
