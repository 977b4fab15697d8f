/**
 * `NAME_FILE` forms of the secret variables: Docker and Kubernetes hand secrets over as files
 * (/run/secrets/...), and a password in the environment shows in `docker inspect` and /proc.
 * The rule is generic over every variable marked `secret` in variables.ts, so a secret added
 * later gets its file form without touching this module.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

/** The companion variable naming a file that holds `name`'s value. */
export const fileVariable = (name: string): string => `${name}_FILE`;

/** A secret file larger than this is a wrong path (a log, a device), not a password or key. */
export const MAX_SECRET_FILE_BYTES = 1024 * 1024;

export type ReadSecretFile = (path: string) => string;

export interface SecretFilesResult {
  /** the environment with each `NAME_FILE` replaced by `NAME` holding the file's content */
  env: NodeJS.ProcessEnv;
  problems: string[];
  /** names whose file form failed: a "required" message for them would only repeat the problem */
  failed: Set<string>;
}

const given = (v: string | undefined): v is string => v !== undefined && v !== '';

/**
 * Pure over `read`: for each secret name, NAME_FILE (if given) becomes NAME's value, with one
 * trailing newline removed (`echo pw > file` and editors add one; a secret never ends in one).
 * Problems never contain a value, only variable names, paths and the reason a read failed.
 */
export function resolveSecretFiles(env: NodeJS.ProcessEnv, secretNames: readonly string[], read: ReadSecretFile): SecretFilesResult {
  const out: NodeJS.ProcessEnv = { ...env };
  const problems: string[] = [];
  const failed = new Set<string>();
  for (const name of secretNames) {
    const fileVar = fileVariable(name);
    const path = env[fileVar];
    if (!given(path)) continue;
    delete out[fileVar];
    if (given(env[name])) {
      problems.push(`${name} and ${fileVar} are both set: give the value one way only`);
      failed.add(name);
      continue;
    }
    try {
      out[name] = read(path).replace(/\r?\n$/, '');
    } catch (e) {
      problems.push(`${fileVar}: cannot read ${path}: ${describeReadError(e)}`);
      failed.add(name);
    }
  }
  return { env: out, problems, failed };
}

function describeReadError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    default:
      return err.code ?? err.message;
  }
}

/** Reads a secret file as UTF-8, relative paths against `cwd`, refusing one past the size cap. */
export const readSecretFileFrom = (cwd: string): ReadSecretFile => (path) => {
  const fd = openSync(isAbsolute(path) ? path : resolve(cwd, path), 'r');
  try {
    const buf = Buffer.alloc(MAX_SECRET_FILE_BYTES + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buf, length, buf.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > MAX_SECRET_FILE_BYTES) throw Object.assign(new Error(), { code: `larger than ${MAX_SECRET_FILE_BYTES} bytes` });
    }
    return buf.subarray(0, length).toString('utf8');
  } finally {
    closeSync(fd);
  }
};
