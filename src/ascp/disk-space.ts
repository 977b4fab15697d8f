/**
 * Is there room for a package before it starts? Its size is known from the server (Faspex 4 XML,
 * Faspex 5 `total_bytes`); what is already in its folder (partial files of an earlier attempt)
 * counts as downloaded; DOWNLOAD_DIR_RESERVE_MB stays free. Not enough room is DISK_FULL with
 * retry 'later': the worker makes the job wait (no attempt spent) and looks again on a timer,
 * as it does when ascp itself reports the disk full (error 25) during the transfer.
 * `spaceDecision` is pure; `checkDiskSpace` reads the folder and its file system.
 */
import { statfs } from 'node:fs/promises';
import { IngestError } from '../errors.js';
import { listFiles } from './package-folder.js';
import { formatBytes } from './units.js';

export const DEFAULT_RESERVE_BYTES = 1024 * 1024 * 1024;

export interface SpaceFacts {
  /** the package's size as the server says */
  totalBytes: number;
  /** bytes already in its folder */
  presentBytes: number;
  /** bytes this process may still write on the folder's file system */
  freeBytes: number;
  reserveBytes: number;
}

export type SpaceDecision = { ok: true } | { ok: false; neededBytes: number; usableBytes: number };

export function spaceDecision(f: SpaceFacts): SpaceDecision {
  const neededBytes = Math.max(0, f.totalBytes - f.presentBytes);
  const usableBytes = Math.max(0, f.freeBytes - f.reserveBytes);
  return neededBytes <= usableBytes ? { ok: true } : { ok: false, neededBytes, usableBytes };
}

/** For people: what it waits for, with the numbers. Pure. */
export function waitingForSpaceWords(f: SpaceFacts & { neededBytes: number }): string {
  return `waiting for disk space: ${formatBytes(f.neededBytes)} still to download, ${formatBytes(f.freeBytes)} free, ${formatBytes(f.reserveBytes)} kept back (DOWNLOAD_DIR_RESERVE_MB)`;
}

/** Throws DISK_FULL (retry later) when the package does not fit; details carry the numbers. */
export async function checkDiskSpace(folder: string, totalBytes: number, reserveBytes: number): Promise<void> {
  const fs = await statfs(folder);
  const freeBytes = Number(fs.bavail) * Number(fs.bsize);
  const presentBytes = (await listFiles(folder)).reduce((n, f) => n + f.size, 0);
  const facts = { totalBytes, presentBytes, freeBytes, reserveBytes };
  const decision = spaceDecision(facts);
  if (decision.ok) return;
  throw new IngestError('DISK_FULL', waitingForSpaceWords({ ...facts, neededBytes: decision.neededBytes }), {
    retry: 'later',
    details: { cause: 'before-start', totalBytes, presentBytes, freeBytes, reserveBytes, neededBytes: decision.neededBytes, folder },
  });
}
