/**
 * Where ascp and its token-auth SSH key are. The candidate lists are pure (table-tested); the
 * file-system check is a thin shell over them. Done once per process: the answer does not
 * change while a worker runs, and a missing ascp should stop it at start, not at the first job.
 */
import { constants } from 'node:fs';
import { access, realpath, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import type { Config } from '../config/config.js';
import { permanent } from '../errors.js';

export interface AscpInstallation {
  path: string;
  sshKeyPath: string;
}

export interface Candidate {
  path: string;
  /** where the candidate comes from, for the "looked at" list in the error */
  from: string;
}

export interface SearchInputs {
  /** ASCP_PATH / ASCP_SSH_KEY as configured */
  configured?: string;
  /** the PATH variable */
  pathVar?: string;
  home: string;
  platform: NodeJS.Platform;
  cwd: string;
}

const ASCP = 'ascp';

/** Install folders of IBM products that ship ascp, in order of preference. */
export function installFolders(home: string, platform: NodeJS.Platform): Candidate[] {
  const linux: Candidate[] = [
    // ascli's `config ascp install` puts the IBM Aspera Transfer SDK here
    { path: join(home, '.aspera', 'sdk'), from: 'Transfer SDK (ascli)' },
    { path: join(home, '.aspera', 'connect', 'bin'), from: 'Aspera Connect (per user)' },
    { path: '/opt/aspera/connect/bin', from: 'Aspera Connect (system)' },
    { path: '/opt/aspera/bin', from: 'HSTS/HSTE' },
    { path: '/opt/aspera/sdk', from: 'Transfer SDK' },
  ];
  if (platform !== 'darwin') return linux;
  return [
    ...linux,
    { path: join(home, 'Applications', 'IBM Aspera Connect.app', 'Contents', 'Resources'), from: 'Aspera Connect (macOS, per user)' },
    { path: '/Applications/IBM Aspera Connect.app/Contents/Resources', from: 'Aspera Connect (macOS)' },
    { path: '/Library/Aspera/bin', from: 'HSTS (macOS)' },
  ];
}

/** ascp: ASCP_PATH alone when set (an explicit choice is never second-guessed), else PATH, else install folders. */
export function ascpCandidates(i: SearchInputs): Candidate[] {
  if (i.configured !== undefined) {
    // A bare name is looked up on PATH like a shell would; a path is taken relative to cwd.
    if (!i.configured.includes('/')) return pathEntries(i.pathVar).map((d) => ({ path: join(d, i.configured!), from: 'ASCP_PATH on PATH' }));
    return [{ path: isAbsolute(i.configured) ? i.configured : resolve(i.cwd, i.configured), from: 'ASCP_PATH' }];
  }
  return [
    ...pathEntries(i.pathVar).map((d) => ({ path: join(d, ASCP), from: 'PATH' })),
    ...installFolders(i.home, i.platform).map((f) => ({ path: join(f.path, ASCP), from: f.from })),
  ];
}

const KEY_NAMES = ['aspera_tokenauth_id_rsa', 'aspera_bypass_rsa.pem'];

/**
 * The token-auth ("bypass") key: ASCP_SSH_KEY alone when set, else beside ascp (also beside the
 * real file when ascp is a symlink, as /usr/local/bin/ascp often is), its ../etc and ../var, and
 * the HSTS location.
 */
export function sshKeyCandidates(ascpPaths: string[], i: Pick<SearchInputs, 'configured' | 'cwd'>): Candidate[] {
  if (i.configured !== undefined) return [{ path: isAbsolute(i.configured) ? i.configured : resolve(i.cwd, i.configured), from: 'ASCP_SSH_KEY' }];
  const out: Candidate[] = [];
  for (const dir of unique(ascpPaths.map((p) => dirname(p)))) {
    for (const name of KEY_NAMES) out.push({ path: join(dir, name), from: 'beside ascp' });
    for (const sub of ['etc', 'var']) for (const name of KEY_NAMES) out.push({ path: join(dir, '..', sub, name), from: `ascp's ../${sub}` });
  }
  out.push({ path: '/opt/aspera/var/aspera_tokenauth_id_rsa', from: 'HSTS' });
  return unique(out.map((c) => c.path)).map((p) => out.find((c) => c.path === p)!);
}

function pathEntries(pathVar: string | undefined): string[] {
  return (pathVar ?? '').split(delimiter).filter((d) => d !== '' && isAbsolute(d));
}

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

export async function locateAscp(downloads: Config['downloads'], env: NodeJS.ProcessEnv = process.env): Promise<AscpInstallation> {
  const base = { pathVar: env.PATH, home: env.HOME || homedir(), platform: process.platform, cwd: process.cwd() };
  const ascpList = ascpCandidates({ ...base, configured: downloads.ascpPath });
  const ascp = await firstThat(ascpList, isExecutableFile);
  if (!ascp) {
    const what = downloads.ascpPath !== undefined ? `ASCP_PATH=${downloads.ascpPath} is not an executable file` : 'ascp was not found';
    throw permanent('ASCP_NOT_FOUND',
      `${what} (looked at ${describe(ascpList)}). Install IBM Aspera Connect or the IBM Aspera Transfer SDK ` +
      '(for example with `ascli config ascp install`), or set ASCP_PATH to the ascp executable.',
      { looked: ascpList.map((c) => c.path) });
  }
  const real = await realpath(ascp.path).catch(() => ascp.path);
  const keyList = sshKeyCandidates([ascp.path, real], { configured: downloads.ascpSshKey, cwd: base.cwd });
  const key = await firstThat(keyList, isReadableFile);
  if (!key) {
    const what = downloads.ascpSshKey !== undefined ? `ASCP_SSH_KEY=${downloads.ascpSshKey} is not a readable file` : 'the token-auth SSH key for ascp was not found';
    throw permanent('SSH_KEY_NOT_FOUND',
      `${what} (looked at ${describe(keyList)}). It ships with Aspera Connect and the Transfer SDK as ` +
      'aspera_tokenauth_id_rsa or aspera_bypass_rsa.pem (HSTS: /opt/aspera/var/aspera_tokenauth_id_rsa); set ASCP_SSH_KEY to its path.',
      { looked: keyList.map((c) => c.path) });
  }
  return { path: ascp.path, sshKeyPath: key.path };
}

async function firstThat(list: Candidate[], test: (p: string) => Promise<boolean>): Promise<Candidate | undefined> {
  for (const c of list) if (await test(c.path)) return c;
  return undefined;
}

const isExecutableFile = (p: string) => isFileWith(p, constants.X_OK);
const isReadableFile = (p: string) => isFileWith(p, constants.R_OK);

async function isFileWith(p: string, mode: number): Promise<boolean> {
  try {
    await access(p, mode);
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

function describe(list: Candidate[]): string {
  const shown = list.slice(0, 8).map((c) => c.path);
  return list.length > 8 ? `${shown.join(', ')} and ${list.length - 8} more` : shown.join(', ') || 'nothing: PATH is empty';
}
