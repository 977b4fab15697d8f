import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { IngestError } from '../../src/errors.js';
import { afterRefusal, busyRefusal, capFor, capWaitMs, NO_CAPS, parseCapList, type CapSettings } from '../../src/queue/transfer-caps.js';

describe('parseCapList', () => {
  it.each([
    ['faspex.example.com=2', { 'faspex.example.com': 2 }],
    [' A.example.com = 2 , b.example.com:8443=5 ', { 'a.example.com': 2, 'b.example.com:8443': 5 }],
    ['10.0.0.1=1', { '10.0.0.1': 1 }],
  ])('%s', (raw, expected) => expect(parseCapList(raw)).toEqual(expected));

  it.each([
    ['', /lists no/],
    ['host', /not host=number/],
    ['host=0', /1 to 1000/],
    ['host=-1', /not host=number/],
    ['host=two', /not host=number/],
    ['*.example.com=2', /not host=number/],
    ['a=1,A=2', /given twice/],
  ])('refuses %j', (raw, message) => expect(() => parseCapList(raw)).toThrow(message));
});

describe('capFor', () => {
  const s: CapSettings = { ...NO_CAPS, perServer: 4, servers: { 'f.example.com': 2, 'f.example.com:8443': 3 }, perTransferHost: undefined, transferHosts: { 'hsts.example.com': 6 } };
  it.each<[string, 'server' | 'transfer-host', string, number | undefined]>([
    ['an entry for the host', 'server', 'f.example.com', 2],
    ['an entry with the port wins', 'server', 'f.example.com:8443', 3],
    ['the bare host for another port', 'server', 'F.example.com:9443', 2],
    ['the default for others', 'server', 'other.example.com', 4],
    ['a transfer host entry', 'transfer-host', 'hsts.example.com', 6],
    ['no transfer-host default: no cap', 'transfer-host', 'other', undefined],
  ])('%s', (_l, scope, host, cap) => expect(capFor(s, scope, host)).toBe(cap));
  it('no caps at all', () => expect(capFor(NO_CAPS, 'server', 'x')).toBeUndefined());
});

describe('busyRefusal', () => {
  const err = (details: Record<string, unknown>) => new IngestError('TRANSFER_FAILED', 'x', { retry: 'later', details });
  it.each([
    [{ ascpCode: 69 }, 'transfer-host'],
    [{ status: 429 }, 'server'],
    [{ ascpCode: 16 }, undefined],
    [{ status: 503 }, undefined],
    [{}, undefined],
  ])('%j → %s', (details, scope) => expect(busyRefusal(err(details))).toBe(scope));
});

describe('afterRefusal', () => {
  it.each([
    [6, undefined, { lowerTo: 5 }],
    [3, undefined, { lowerTo: 2 }],
    [2, undefined, { lowerTo: 1 }],
    [5, 2, { lowerTo: 2 }], // never raised by a later refusal
    [3, 4, { lowerTo: 2 }],
    [1, undefined, { fail: true }], // refused alone: no concurrency matter
    [0, undefined, { fail: true }],
  ])('%i holders, lowered %s → %j', (holders, current, expected) => expect(afterRefusal(holders, current)).toEqual(expected));
});

it('capWaitMs spreads 1 to 3 s', () => {
  expect(capWaitMs(() => 0)).toBe(1000);
  expect(capWaitMs(() => 0.999)).toBe(2998);
});

it('config reads the caps', () => {
  const c = loadConfig({ FASPEX_ALLOWED_HOSTS: 'f.example.com', FASPEX_MAX_TRANSFERS_PER_SERVER: '3', FASPEX_MAX_TRANSFERS: 'f.example.com=1', TRANSFER_MAX: 'h=2' }, 'work');
  expect(c.workers.caps).toEqual({ perServer: 3, servers: { 'f.example.com': 1 }, perTransferHost: undefined, transferHosts: { h: 2 }, loweredForMs: 300_000 });
  expect(() => loadConfig({ FASPEX_ALLOWED_HOSTS: 'f.example.com', FASPEX_MAX_TRANSFERS: 'f=0' }, 'work')).toThrow(/FASPEX_MAX_TRANSFERS/);
});
