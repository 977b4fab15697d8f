import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { maskDeep, maskText, registerSecret } from '../../src/log/secrets.js';
import { IngestError } from '../../src/errors.js';

describe('maskText', () => {
  it.each([
    ['https://fx/aspera/faspex/external_deliveries/1?passcode=abc123def&x=1', 'https://fx/aspera/faspex/external_deliveries/1?passcode=***&x=1'],
    ['https://fx/aspera/faspex/public/package?context=eyJhYmMiOiJ4In0=', 'https://fx/aspera/faspex/public/package?context=***'],
    ['faspe://u@h/p?cookie=c00kie&token=t0ken&port=1', 'faspe://u@h/p?cookie=***&token=***&port=1'],
    ['Authorization: Basic Ym9iOnB3', 'Authorization: Basic ***'],
    ['authorization=Bearer abc.def.ghi', 'authorization=Bearer ***'],
    ["export ASPERA_SCP_TOKEN='Basic abc' ; ascp", 'export ASPERA_SCP_TOKEN=*** ; ascp'],
    ['redis://default:hunter22@redis:6379', 'redis://default:***@redis:6379'],
  ])('%s', (input, expected) => {
    expect(maskText(input)).toBe(expected);
  });

  it('masks a registered secret wherever it appears, encoded too', () => {
    registerSecret('Zz9-registered/secret');
    expect(maskText('x Zz9-registered/secret y Zz9-registered%2Fsecret')).toBe('x *** y ***');
  });
});

describe('maskDeep', () => {
  it('replaces secret-named fields and masks strings', () => {
    expect(maskDeep({ password: 'pw', nested: { token: 't', link: 'https://h/x?passcode=p' }, count: 3 })).toEqual({
      password: '***',
      nested: { token: '***', link: 'https://h/x?passcode=***' },
      count: 3,
    });
  });
});

describe('logger', () => {
  it('masks secrets in messages, fields, child bindings and errors', () => {
    let out = '';
    const dest = new Writable({ write(chunk, _e, cb) { out += chunk; cb(); } });
    registerSecret('sekret-cookie-value');
    const log = createLogger({ level: 'info', destination: dest }).child({ link: 'https://h/x?passcode=P4SS' });
    log.info({ password: 'hunter2', header: 'Authorization: Basic abc' }, 'cookie sekret-cookie-value seen');
    log.error({ err: new IngestError('AUTH_FAILED', 'bad https://h/x?passcode=P4SS', { retry: 'never' }) }, 'failed');
    for (const secret of ['P4SS', 'hunter2', 'sekret-cookie-value', 'Basic abc']) expect(out).not.toContain(secret);
    expect(out).toContain('passcode=***');
  });
});
