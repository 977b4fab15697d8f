import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { envExample, readmeWithTable } from '../../scripts/config-docs.js';

// Generated from src/config/variables.ts; run `npm run docs:config` when this fails.
describe('configuration docs', () => {
  it('.env.example is current', () => {
    expect(readFileSync(new URL('../../.env.example', import.meta.url), 'utf8')).toBe(envExample());
  });
  it("the README's configuration table is current", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme).toBe(readmeWithTable(readme));
  });
});
