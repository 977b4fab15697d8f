/**
 * The pure parts of the hand-off and the disk-space wait: the command's environment (nothing
 * secret passes), the webhook signature, and when a package fits.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { spaceDecision, waitingForSpaceWords } from '../../src/ascp/disk-space.js';
import { handoffEnvironment } from '../../src/handoff/handoff-env.js';
import { webhookSignature } from '../../src/queue/webhook-signature.js';

describe('handoffEnvironment', () => {
  const base = { PATH: '/usr/bin', HOME: '/home/fi', LANG: 'C.UTF-8', IMAP_PASSWORD: 'hunter2', REDIS_URL: 'redis://:pw@r', COMPLETION_WEBHOOK_SECRET: 's3cret', FASPEX_PASSWORD: 'p', AWS_SECRET_ACCESS_KEY: 'k' };

  it('gives the package facts and the harmless variables, and nothing else', () => {
    expect(handoffEnvironment({ folder: '/dl/fx_7_Q3', title: 'Q3', sender: 'ann@x.example', inbox: 'sales' }, base)).toEqual({
      PATH: '/usr/bin', HOME: '/home/fi', LANG: 'C.UTF-8',
      FASPEX_INGEST_PACKAGE_DIR: '/dl/fx_7_Q3', FASPEX_INGEST_MANIFEST: '/dl/fx_7_Q3/faspex-package.json',
      FASPEX_INGEST_TITLE: 'Q3', FASPEX_INGEST_SENDER: 'ann@x.example', FASPEX_INGEST_INBOX: 'sales',
    });
  });

  it('unknown facts are empty, never missing', () => {
    const env = handoffEnvironment({ folder: '/dl/p' }, {});
    expect([env.FASPEX_INGEST_TITLE, env.FASPEX_INGEST_SENDER, env.FASPEX_INGEST_INBOX]).toEqual(['', '', '']);
  });
});

describe('webhookSignature', () => {
  it('is t=<seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">', () => {
    const body = '{"event":"package.completed","title":"Café"}';
    const want = createHmac('sha256', 'k').update(`1700000000.${body}`, 'utf8').digest('hex');
    expect(webhookSignature(body, 'k', 1700000000.9)).toBe(`t=1700000000,v1=${want}`);
  });
});

describe('spaceDecision', () => {
  const MiB = 1024 * 1024;
  it.each([
    ['fits with room to spare', { totalBytes: 10 * MiB, presentBytes: 0, freeBytes: 100 * MiB, reserveBytes: 50 * MiB }, { ok: true }],
    ['eats into the reserve', { totalBytes: 60 * MiB, presentBytes: 0, freeBytes: 100 * MiB, reserveBytes: 50 * MiB }, { ok: false, neededBytes: 60 * MiB, usableBytes: 50 * MiB }],
    ['partial files count as downloaded', { totalBytes: 60 * MiB, presentBytes: 20 * MiB, freeBytes: 100 * MiB, reserveBytes: 50 * MiB }, { ok: true }],
    ['exactly fits', { totalBytes: 50 * MiB, presentBytes: 0, freeBytes: 100 * MiB, reserveBytes: 50 * MiB }, { ok: true }],
    ['less free than the reserve', { totalBytes: 1, presentBytes: 0, freeBytes: 10 * MiB, reserveBytes: 50 * MiB }, { ok: false, neededBytes: 1, usableBytes: 0 }],
    ['already all there', { totalBytes: 5, presentBytes: 9, freeBytes: 0, reserveBytes: 50 * MiB }, { ok: true }],
  ])('%s', (_name, facts, expected) => expect(spaceDecision(facts)).toEqual(expected));

  it('says what it waits for with the numbers', () => {
    expect(waitingForSpaceWords({ totalBytes: 8 * MiB, presentBytes: 0, freeBytes: 2 * MiB, reserveBytes: 1024 * MiB, neededBytes: 8 * MiB }))
      .toBe('waiting for disk space: 8.0 MiB still to download, 2.0 MiB free, 1.0 GiB kept back (DOWNLOAD_DIR_RESERVE_MB)');
  });
});
