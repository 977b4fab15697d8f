/**
 * DECRYPT_PASSPHRASES_FILE: which passphrase decrypts whose packages. The file names where each
 * passphrase is (a file, relative to this one, or a variable), never the passphrase itself, so it
 * can sit in a repository; a literal passphrase is refused. Every problem names the key, never a
 * value. Pure apart from the secret reader passed in.
 *
 *   { "sender:ana@studio.example": { "passphraseFile": "secrets/ana" },
 *     "sender:@partner.example":   { "passphraseEnv": "PARTNER_PASSPHRASE" },
 *     "inbox:dailies":             { "passphraseFile": "/run/secrets/dailies" },
 *     "server:faspex.example.com": { "passphraseEnv": "FASPEX_PASSPHRASE" } }
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { parsePassphraseKey, type PassphraseRule } from '../decrypt/passphrase-choice.js';

export interface PassphraseSecrets {
  readFile(path: string): string;
  env: Readonly<Record<string, string | undefined>>;
}

export function parsePassphrasesFile(file: string, text: string, secrets: PassphraseSecrets): { rules: PassphraseRule[]; problems: string[] } {
  const where = `DECRYPT_PASSPHRASES_FILE ${file}`;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // JSON.parse's message may quote the text, which may be a passphrase written in by mistake
    return { rules: [], problems: [`${where}: not valid JSON`] };
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) return { rules: [], problems: [`${where}: must be a JSON object of "kind:value" keys`] };
  const rules: PassphraseRule[] = [];
  const problems: string[] = [];
  for (const [label, value] of Object.entries(json as Record<string, unknown>)) {
    const fail = (message: string) => problems.push(`${where}: "${label}": ${message}`);
    const key = parsePassphraseKey(label);
    if (!key) {
      fail('keys are "sender:<address>", "sender:@<domain>", "inbox:<id>" or "server:<host[:port]>"');
      continue;
    }
    const v = value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
    const keys = v ? Object.keys(v) : [];
    if (!v || keys.length !== 1 || !['passphraseFile', 'passphraseEnv'].includes(keys[0]!) || typeof v[keys[0]!] !== 'string') {
      fail(keys.includes('passphrase')
        ? 'the passphrase is not read from this file itself: write {"passphraseFile": "<path>"} or {"passphraseEnv": "<NAME>"}'
        : 'must be {"passphraseFile": "<path>"} or {"passphraseEnv": "<NAME>"}');
      continue;
    }
    let passphrase: string | undefined;
    if (keys[0] === 'passphraseEnv') {
      const name = v.passphraseEnv as string;
      passphrase = secrets.env[name];
      if (passphrase === undefined || passphrase === '') fail(`passphraseEnv: the variable ${name} is not set`);
    } else {
      const path = isAbsolute(v.passphraseFile as string) ? (v.passphraseFile as string) : resolve(dirname(file), v.passphraseFile as string);
      try {
        // one trailing newline is how editors and `echo` leave a file; it is not part of the secret
        passphrase = secrets.readFile(path).replace(/\r?\n$/, '');
        if (passphrase === '') fail(`passphraseFile: ${path} is empty`);
      } catch (e) {
        fail(`passphraseFile: ${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    }
    if (passphrase) rules.push({ key, label: label.trim(), passphrase });
  }
  return { rules, problems };
}
