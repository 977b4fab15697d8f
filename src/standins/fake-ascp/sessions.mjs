// The fake transfer server's session table, shared by every fake ascp of a test through
// FAKE_ASCP_STATE_DIR: sessions.jsonl logs each session's start and end per transfer host (what
// the cap tests measure concurrency from), and FAKE_ASCP_MAX_SESSIONS=N makes the "server" refuse
// a session beyond N at once per host with ascp's code 69 MAX_ASCP, as a busy HSTS node does.
// A slot is a file created exclusively (atomic across processes); one whose pid is gone is free.
import { appendFileSync, closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

function alive(pid) {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/** Opens a session on `host`; false when the host is full. Logs start and (at exit) end. */
export function openSession(stateDir, host, run) {
  if (!stateDir) return true;
  const max = Number(process.env.FAKE_ASCP_MAX_SESSIONS || 0);
  let slot;
  if (max > 0) {
    const dir = join(stateDir, 'sessions.d', host.replace(/[^A-Za-z0-9.-]/g, '_'));
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < max && !slot; i++) {
      const file = join(dir, `slot-${i}`);
      for (let tries = 0; tries < 2 && !slot; tries++) {
        try {
          const fd = openSync(file, 'wx');
          writeSync(fd, String(process.pid));
          closeSync(fd);
          slot = file;
        } catch (e) {
          if (e.code !== 'EEXIST') throw e;
          let owner;
          try {
            owner = Number(readFileSync(file, 'utf8'));
          } catch {
            continue; // released meanwhile: try it again
          }
          // empty: its owner created it and is writing its pid right now
          if (!owner || alive(owner)) break;
          try {
            unlinkSync(file);
          } catch {
            /* someone else reclaimed it */
          }
        }
      }
    }
    if (!slot) {
      appendFileSync(join(stateDir, 'sessions.jsonl'), `${JSON.stringify({ event: 'refused', host, pid: process.pid, run, at: Date.now() })}\n`);
      return false;
    }
  }
  appendFileSync(join(stateDir, 'sessions.jsonl'), `${JSON.stringify({ event: 'start', host, pid: process.pid, run, at: Date.now() })}\n`);
  process.on('exit', (code) => {
    appendFileSync(join(stateDir, 'sessions.jsonl'), `${JSON.stringify({ event: 'end', host, pid: process.pid, run, at: Date.now(), code })}\n`);
    if (slot) {
      try {
        unlinkSync(slot);
      } catch {
        /* already reclaimed */
      }
    }
  });
  return true;
}
