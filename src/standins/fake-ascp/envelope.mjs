// The stand-in's file encryption (Faspex content protection, "encryption at rest"): an encrypted
// file is `<name>.aspera-env` holding a header and the content. The real envelope format is
// IBM's and not public; this one only has to behave alike: a passphrase opens it, a wrong one is
// recognised as wrong before anything is written, and without one the file stays as it is.
//   MAGIC (16 bytes) | salt (16) | check = HMAC-SHA256(key, "passphrase-check") (32) | AES-256-CTR(key, iv = salt)
//   key = SHA-256(salt | passphrase)
// src/standins/faspex-sim/envelope.ts writes the same format (the simulator stores packages
// this way); test/unit/envelope.test.ts proves the two agree.
import { Buffer } from 'node:buffer';
import { createCipheriv, createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';

export const ENVELOPE_SUFFIX = '.aspera-env';
export const MAGIC = Buffer.from('ASPERA-ENV-SIM1\n');
export const HEADER_BYTES = 64;

function keyOf(salt, passphrase) {
  return createHash('sha256').update(salt).update(passphrase, 'utf8').digest();
}

/** The header of an envelope file, or undefined when it is none. */
export function readHeader(path) {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(HEADER_BYTES);
    if (readSync(fd, head, 0, HEADER_BYTES, 0) < HEADER_BYTES || !head.subarray(0, 16).equals(MAGIC)) return undefined;
    return { salt: head.subarray(16, 32), check: head.subarray(32, 64) };
  } finally {
    closeSync(fd);
  }
}

/** The key that opens this envelope, or undefined when the passphrase is not its own. */
export function openKey(header, passphrase) {
  const key = keyOf(header.salt, passphrase);
  const check = createHmac('sha256', key).update('passphrase-check').digest();
  return timingSafeEqual(check, header.check) ? { key, iv: header.salt } : undefined;
}

/** CTR is addressable: the keystream for `data` starting `pos` bytes into the content. */
export function cryptAt(opened, pos, data) {
  const iv = Buffer.from(opened.iv);
  let carry = Math.floor(pos / 16);
  for (let i = 15; i >= 0 && carry > 0; i--) {
    const sum = iv[i] + (carry % 256);
    iv[i] = sum & 0xff;
    carry = Math.floor(carry / 256) + (sum >> 8);
  }
  const c = createCipheriv('aes-256-ctr', opened.key, iv);
  c.update(Buffer.alloc(pos % 16));
  return c.update(data);
}
