// Test instrument (NODE_OPTIONS=--import=<this file>): records which modules a process loads,
// so a test can prove a role runs without a TypeScript loader. ESM resolutions come from a
// resolve hook (hooks.mjs, appended as they happen); CommonJS ones from require.cache; both,
// with process.execArgv and whether source maps are on, are written to MODULE_TRACE_FILE on SIGUSR2.
import { writeFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';

const out = process.env.MODULE_TRACE_FILE;
if (!out) throw new Error('MODULE_TRACE_FILE is not set');
register('./hooks.mjs', import.meta.url, { data: { out: `${out}.esm` } });
const require = createRequire(import.meta.url);
process.on('SIGUSR2', () => {
  writeFileSync(out, JSON.stringify({ execArgv: process.execArgv, sourceMaps: process.sourceMapsEnabled, cjs: Object.keys(require.cache) }));
});
