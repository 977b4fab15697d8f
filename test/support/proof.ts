/**
 * Evidence readers for the crash, hostile-input and secrets suites: what the fake ascp recorded,
 * which packages are complete on disk, what a running service process looks like from /proc.
 * Everything here reads; nothing decides for a test.
 */
import { invocations } from '../../src/standins/fake-ascp/records.js';
import { existsSync, lstatSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export { alive, bytesTransferred, invocations, type Invocation } from '../../src/standins/fake-ascp/records.js';

export interface CompletePackage {
  folder: string;
  manifest: { title?: string; server: string; packageId: string; kind: string; files: Array<{ path: string; size: number }>; totalBytes: number; link: string };
  /** when the manifest's content was written (its temp file's mtime survives the rename) */
  mtimeMs: number;
}

/** Package folders in DOWNLOAD_DIR that hold a manifest. */
export function completePackages(downloadDir: string): CompletePackage[] {
  if (!existsSync(downloadDir)) return [];
  return readdirSync(downloadDir)
    .map((name) => join(downloadDir, name, 'faspex-package.json'))
    .filter((file) => existsSync(file))
    .map((file) => ({ folder: join(file, '..'), manifest: JSON.parse(readFileSync(file, 'utf8')), mtimeMs: statSync(file).mtimeMs }));
}

/** Every path under `root` (files, folders, links; links are not followed). */
export function walk(root: string): string[] {
  const out: string[] = [];
  const visit = (dir: string) => {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of entries) {
      const p = join(dir, name);
      out.push(p);
      try {
        if (lstatSync(p).isDirectory()) visit(p);
      } catch {
        /* vanished meanwhile */
      }
    }
  };
  visit(root);
  return out;
}

/** Partial files (`<name>.partial`) under `root` with their sizes. */
export function partialFiles(root: string): Array<{ path: string; size: number }> {
  return walk(root)
    .filter((p) => p.endsWith('.partial'))
    .flatMap((p) => {
      try {
        return [{ path: p, size: statSync(p).size }];
      } catch {
        return [];
      }
    });
}

/** Resident set size of a process in KiB (VmRSS of /proc/<pid>/status), or undefined once gone. */
export function rssKiB(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Kills fake ascp processes the test started that outlived their service (a SIGKILLed `run`
 * leaves its ascp orphaned, like a real one would). Only pids the fake itself recorded, and only
 * while their command line is still the fake's.
 */
export function killLeftoverAscp(stateDir: string): number {
  let killed = 0;
  for (const inv of invocations(stateDir)) {
    try {
      if (!readFileSync(`/proc/${inv.pid}/cmdline`, 'utf8').includes('fake-ascp')) continue;
      process.kill(inv.pid, 'SIGKILL');
      killed++;
    } catch {
      /* already gone */
    }
  }
  return killed;
}

/** pino JSON lines of a service's output (other lines are skipped). */
export function logRecords(output: string): Array<Record<string, unknown>> {
  return output.split('\n').flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

/** Direct and indirect children of a process (from /proc/<pid>/task/<tid>/children). */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  const visit = (p: number) => {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const t of tasks) {
      let kids: number[] = [];
      try {
        kids = readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
      } catch {
        /* gone */
      }
      for (const k of kids) {
        out.push(k);
        visit(k);
      }
    }
  };
  visit(pid);
  return out;
}

/**
 * SIGKILL a process and everything it started, at once: what a host crash or a container kill
 * (the whole cgroup) does. Killing only the process, as the OOM killer does, leaves its children.
 */
export function killTree(pid: number): void {
  const all = [pid, ...descendants(pid)];
  for (const p of all) {
    try {
      process.kill(p, 'SIGSTOP');
    } catch {
      /* gone */
    }
  }
  for (const p of all) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/** Waits for `run` to say it is up; fails at once, with its output, if it exits instead. */
export async function waitForRunning(service: { child: { exitCode: number | null; signalCode: string | null }; output(): string }, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!service.output().includes('running; dashboard at')) {
    if (service.child.exitCode !== null || service.child.signalCode !== null || Date.now() > deadline) {
      throw new Error(`the service did not start:\n${service.output().slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}
