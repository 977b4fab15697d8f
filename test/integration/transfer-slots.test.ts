import { Redis } from 'ioredis';
import { afterAll, expect, inject, it } from 'vitest';
import { TransferSlots } from '../../src/queue/transfer-slots.js';
import { uniqueName, waitFor } from '../support/temp.js';

const redis = new Redis(inject('redisUrl'));
afterAll(() => redis.quit());

it('holds a cap across holders, frees the slot of one that stops renewing, keeps one that renews', async () => {
  const prefix = uniqueName('slots');
  const slots = new TransferSlots(redis, prefix, 400);
  expect((await slots.acquire('server', 'F.example.com', 'a', 2)).acquired).toBe(true);
  expect((await slots.acquire('server', 'f.example.com', 'b', 2)).acquired).toBe(true);
  expect(await slots.acquire('server', 'f.example.com', 'c', 2)).toEqual({ acquired: false, holders: 2, cap: 2 });
  // a holder asking again keeps its slot (no double count)
  expect(await slots.acquire('server', 'f.example.com', 'a', 2)).toEqual({ acquired: true, holders: 2, cap: 2 });
  // 'a' keeps renewing, 'b' died: its lease runs out and 'c' gets in
  const renew = setInterval(() => void slots.renew('server', 'f.example.com', 'a'), 100);
  try {
    await waitFor(async () => (await slots.acquire('server', 'f.example.com', 'c', 2)).acquired, { what: "b's lease to expire", timeoutMs: 5000 });
    expect((await slots.state('server', 'f.example.com')).holders).toBe(2);
  } finally {
    clearInterval(renew);
  }
  await slots.release('server', 'f.example.com', 'a');
  await slots.release('server', 'f.example.com', 'c');
  expect((await slots.state('server', 'f.example.com')).holders).toBe(0);
  // every key under the prefix
  expect((await redis.keys('*')).filter((k) => k.includes('f.example.com') && !k.startsWith(`${prefix}:`))).toEqual([]);
});

it('a lowered cap binds, also where none is configured, until it expires', async () => {
  const slots = new TransferSlots(redis, uniqueName('slots'), 10_000);
  await slots.lower('transfer-host', 'hsts', 1, 300);
  expect((await slots.acquire('transfer-host', 'hsts', 'a', undefined)).acquired).toBe(true);
  expect(await slots.acquire('transfer-host', 'hsts', 'b', 5)).toEqual({ acquired: false, holders: 1, cap: 1 });
  await waitFor(async () => (await slots.acquire('transfer-host', 'hsts', 'b', undefined)).acquired, { what: 'the lowered cap to lapse', timeoutMs: 5000 });
});
