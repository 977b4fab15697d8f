import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { seal } from '../../src/standins/faspex-sim/envelope.js';
// @ts-expect-error the fake ascp's helper is plain JavaScript, without types
import { cryptAt, HEADER_BYTES, openKey, readHeader } from '../../src/standins/fake-ascp/envelope.mjs';

describe('the stand-ins agree on the envelope', () => {
  it("what the simulator seals, the fake ascp opens with the passphrase only, at any offset", () => {
    const dir = mkdtempSync(join(tmpdir(), 'env-'));
    try {
      const content = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 31) & 0xff));
      const file = join(dir, 'a.aspera-env');
      writeFileSync(file, seal(content, 'right'));
      const header = readHeader(file);
      expect(openKey(header, 'wrong')).toBeUndefined();
      const key = openKey(header, 'right');
      expect(key).toBeDefined();
      const body = readFileSync(file).subarray(HEADER_BYTES);
      expect(body.length).toBe(content.length);
      // decrypted in two pieces, the second starting mid-block, as a resumed copy does
      expect(Buffer.concat([cryptAt(key, 0, body.subarray(0, 37)), cryptAt(key, 37, body.subarray(37))])).toEqual(content);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
