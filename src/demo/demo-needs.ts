/**
 * What `demo` needs on this machine besides faspex-ingest itself, checked before anything
 * starts, so a missing tool is named with the package that brings it instead of surfacing as a
 * spawn error half-way through. The decision is pure (table-tested); `findOnPath` is the shell.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface DemoTool {
  /** the executable looked for on PATH */
  command: string;
  /** the Debian package that installs it */
  aptPackage: string;
  /** what the demo uses it for, for the message */
  usedFor: string;
}

export const REQUIRED_TOOLS: readonly DemoTool[] = [
  { command: 'redis-server', aptPackage: 'redis-server', usedFor: 'the queue (a local Redis the demo starts)' },
  { command: 'openssl', aptPackage: 'openssl', usedFor: "the stand-in Faspex server's HTTPS certificate" },
];

/** The tools `has` does not find, in REQUIRED_TOOLS order. */
export function missingTools(has: (command: string) => boolean, tools: readonly DemoTool[] = REQUIRED_TOOLS): DemoTool[] {
  return tools.filter((t) => !has(t.command));
}

/** One message naming every missing tool and the single apt-get line that installs them all. */
export function missingToolsMessage(missing: readonly DemoTool[]): string {
  const lines = missing.map((t) => `  ${t.command}: ${t.usedFor}`);
  return [`demo needs ${missing.map((t) => t.command).join(' and ')}, not found on PATH:`, ...lines, `Install: apt-get install -y ${missing.map((t) => t.aptPackage).join(' ')}`].join('\n');
}

/** An executable file named `command` in one of PATH's folders. */
export function findOnPath(command: string, pathVar = process.env.PATH ?? ''): boolean {
  return pathVar
    .split(delimiter)
    .filter(Boolean)
    .some((dir) => {
      try {
        accessSync(join(dir, command), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}
