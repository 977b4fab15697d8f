import { describe, expect, it } from 'vitest';
import { choosePassphrase, parsePassphraseKey, passphraseAdvice, type PassphraseRule } from '../../src/decrypt/passphrase-choice.js';
import { planDecryption } from '../../src/decrypt/decryption-plan.js';
import { parsePassphrasesFile } from '../../src/config/passphrases-file.js';

const rule = (label: string, passphrase: string): PassphraseRule => ({ key: parsePassphraseKey(label)!, label, passphrase });
const RULES = [
  rule('server:fx.example.com', 'p-server'),
  rule('server:fx.example.com:8443', 'p-server-port'),
  rule('inbox:dailies', 'p-inbox'),
  rule('sender:@studio.example', 'p-domain'),
  rule('sender:ana@studio.example', 'p-address'),
];

describe('choosePassphrase: the most specific match wins', () => {
  it.each([
    ['sender address beats everything', { server: 'fx.example.com', sender: 'Ana@Studio.example', inbox: 'dailies' }, 'p-address', 'DECRYPT_PASSPHRASES_FILE "sender:ana@studio.example"'],
    ['sender domain beats inbox and server', { server: 'fx.example.com', sender: 'bob@studio.example', inbox: 'dailies' }, 'p-domain', 'DECRYPT_PASSPHRASES_FILE "sender:@studio.example"'],
    ['a subdomain is not the domain', { server: 'other.example', sender: 'bob@x.studio.example' }, 'fallback', 'DECRYPT_PASSPHRASE'],
    ['inbox beats server', { server: 'fx.example.com', sender: 'eve@else.example', inbox: 'dailies' }, 'p-inbox', 'DECRYPT_PASSPHRASES_FILE "inbox:dailies"'],
    ['server by host covers any port', { server: 'fx.example.com:9443', sender: 'eve@else.example' }, 'p-server', 'DECRYPT_PASSPHRASES_FILE "server:fx.example.com"'],
    ['server with its port beats the bare host', { server: 'fx.example.com:8443' }, 'p-server-port', 'DECRYPT_PASSPHRASES_FILE "server:fx.example.com:8443"'],
    ['nothing matches: DECRYPT_PASSPHRASE', { server: 'other.example', inbox: 'news' }, 'fallback', 'DECRYPT_PASSPHRASE'],
  ])('%s', (_name, origin, passphrase, source) => {
    expect(choosePassphrase({ rules: RULES, fallback: 'fallback' }, origin)).toEqual({ passphrase, source });
  });

  it('nothing at all: undefined', () => {
    expect(choosePassphrase({ rules: RULES }, { server: 'other.example' })).toBeUndefined();
    expect(choosePassphrase({ rules: [], fallback: '' }, { server: 'x' })).toBeUndefined();
  });

  it.each([
    ['server:fx.example.com', { kind: 'server', host: 'fx.example.com' }],
    ['sender:@Studio.example', { kind: 'domain', domain: 'studio.example' }],
    ['sender:ana@studio.example', { kind: 'sender', address: 'ana@studio.example' }],
    ['inbox:dailies', { kind: 'inbox', id: 'dailies' }],
    ['sender:@nodot', undefined],
    ['inbox:Upper', undefined],
    ['server:https://x', undefined],
    ['user:ana', undefined],
  ])('key %s', (text, key) => {
    expect(parsePassphraseKey(text)).toEqual(key);
  });

  it('the advice names the settings from most to least specific', () => {
    expect(passphraseAdvice({ server: 'fx.example.com', sender: 'ana@studio.example', inbox: 'dailies' }))
      .toContain('"sender:ana@studio.example", "sender:@studio.example", "inbox:dailies", "server:fx.example.com"');
  });
});

describe('planDecryption', () => {
  const settings = { mode: 'auto' as const, rules: [rule('inbox:dailies', 'secret-1')], fallback: undefined };
  it.each([
    ['known encrypted, passphrase', settings, true, { inbox: 'dailies' }, 'secret-1'],
    ['not said, passphrase: decrypt', settings, undefined, { inbox: 'dailies' }, 'secret-1'],
    ['known plain: nothing to decrypt', settings, false, { inbox: 'dailies' }, undefined],
    ['not said, no passphrase: wait and see', settings, undefined, {}, undefined],
    ['DECRYPT=never: never', { ...settings, mode: 'never' as const }, true, { inbox: 'dailies' }, undefined],
  ])('%s', (_n, s, encrypted, extra, passphrase) => {
    expect(planDecryption(s, encrypted, { server: 'fx', ...extra }).choice?.passphrase).toBe(passphrase);
  });

  it('known encrypted without a passphrase: PASSPHRASE_MISSING naming the settings, before any transfer', () => {
    expect(() => planDecryption(settings, true, { server: 'fx.example.com', sender: 'ana@studio.example' })).toThrow(
      expect.objectContaining({ code: 'PASSPHRASE_MISSING', retry: 'never', message: expect.stringContaining('DECRYPT_PASSPHRASE') }),
    );
  });
});

describe('parsePassphrasesFile', () => {
  const secrets = { readFile: (p: string) => { if (p === '/etc/fi/ana') return 'from-file\n'; throw Object.assign(new Error(), { code: 'ENOENT' }); }, env: { PARTNER: 'from-env' } };
  it('reads passphrases from files (relative to the file) and variables', () => {
    const r = parsePassphrasesFile('/etc/fi/passphrases.json', JSON.stringify({ 'sender:ana@x.example': { passphraseFile: 'ana' }, 'sender:@partner.example': { passphraseEnv: 'PARTNER' } }), secrets);
    expect(r.problems).toEqual([]);
    expect(r.rules.map((x) => [x.label, x.passphrase])).toEqual([['sender:ana@x.example', 'from-file'], ['sender:@partner.example', 'from-env']]);
  });
  it.each([
    [{ 'sender:a@x.example': { passphrase: 'literal-secret' } }, 'is not read from this file itself'],
    [{ 'user:a': { passphraseEnv: 'PARTNER' } }, 'keys are'],
    [{ 'inbox:a': { passphraseEnv: 'UNSET' } }, 'UNSET is not set'],
    [{ 'inbox:a': { passphraseFile: 'missing' } }, 'cannot be read (ENOENT)'],
    [{ 'inbox:a': { passphraseFile: 'x', passphraseEnv: 'PARTNER' } }, 'must be'],
  ])('refuses %j', (json, problem) => {
    const r = parsePassphrasesFile('/etc/fi/p.json', JSON.stringify(json), secrets);
    expect(r.problems.join('\n')).toContain(problem);
    expect(r.problems.join('\n')).not.toContain('literal-secret');
  });
  it('never quotes the text of a file that is not JSON', () => {
    const r = parsePassphrasesFile('/p.json', '{"inbox:a": hunter2}', secrets);
    expect(r.problems).toEqual(['DECRYPT_PASSPHRASES_FILE /p.json: not valid JSON']);
  });
});
