/**
 * What Linux's /proc says about another process, for recognising an embedded Redis left behind
 * (src/service/embedded-redis.ts). Every answer is "don't know" (undefined) where /proc is
 * missing or the process belongs to someone else, and the callers decide conservatively then.
 */
import { readFileSync, readlinkSync } from 'node:fs';

/** false once the process is gone or a zombie (dead, not yet reaped by its new parent) */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: it exists, as another user's
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  return statFields(pid)?.state !== 'Z';
}

export function parentPid(pid: number): number | undefined {
  return statFields(pid)?.ppid;
}

/** the executable's short name (`comm`), e.g. "redis-server" */
export function commandName(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** the working directory: redis-server changes into its `--dir` */
export function workingDir(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

function statFields(pid: number): { state: string; ppid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ')'
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return state && ppid ? { state, ppid: Number(ppid) } : undefined;
  } catch {
    return undefined;
  }
}
