// Preloaded into a node under test (NODE_OPTIONS=--import=…): appends one line per node start
// with its PID and the flags it was started with, so a test sees what bin/faspex-ingest chose.
import { appendFileSync } from 'node:fs';

appendFileSync(process.env.NODE_FLAGS_FILE, `${JSON.stringify({ pid: process.pid, execArgv: process.execArgv })}\n`);
