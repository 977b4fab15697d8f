/**
 * The simulator stores an encrypted package's files as the fake ascp's envelopes
 * (src/standins/fake-ascp/envelope.mjs describes the format; test/unit/envelope.test.ts proves
 * the two agree). Written apart from the fake on purpose, like the tokens.
 */
import { createCipheriv, createHash, createHmac, randomBytes } from 'node:crypto';

export const ENVELOPE_SUFFIX = '.aspera-env';
const MAGIC = Buffer.from('ASPERA-ENV-SIM1\n');

export function seal(content: Buffer, passphrase: string): Buffer {
  const salt = randomBytes(16);
  const key = createHash('sha256').update(salt).update(passphrase, 'utf8').digest();
  const check = createHmac('sha256', key).update('passphrase-check').digest();
  const c = createCipheriv('aes-256-ctr', key, salt);
  return Buffer.concat([MAGIC, salt, check, c.update(content), c.final()]);
}
