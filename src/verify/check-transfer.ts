/**
 * After ascp exited well: is the package really here? Files still encrypted are named (a wrong
 * or missing passphrase), then what is on disk is compared with the server's list (every listed
 * file with its size, nothing missing, nothing extra), then each file gets its SHA-256: ascp's
 * own (--file-checksum) where it reported one, else computed here, streamed.
 *
 * A mismatch is VERIFY_FAILED, retried: the next attempt's resume (-k 2) fetches what is missing
 * or short. Encryption problems are never retried: the same passphrase cannot do better.
 */
import { join } from 'node:path';
import { isManifestFile, type ManifestFacts, type ManifestFile } from '../ascp/manifest.js';
import { listFiles } from '../ascp/package-folder.js';
import { passphraseAdvice } from '../decrypt/passphrase-choice.js';
import type { DecryptionPlan } from '../decrypt/decryption-plan.js';
import { IngestError, permanent } from '../errors.js';
import { compareFiles, isClean, summariseDifferences } from './compare-files.js';
import { sha256File } from './file-hash.js';
import { isEnvelope, type FilePlan } from './file-plan.js';

export interface CheckedTransfer {
  files: ManifestFile[];
  facts: ManifestFacts;
  /** how many SHA-256s came from ascp's report (the rest were computed) */
  fromAscp: number;
}

const NAMED_MAX = 10;

function named(paths: string[]): string {
  return paths.length > NAMED_MAX ? `${paths.slice(0, NAMED_MAX).join(', ')} and ${paths.length - NAMED_MAX} more` : paths.join(', ');
}

export async function checkTransfer(folder: string, plan: FilePlan, decryption: DecryptionPlan, reported: ReadonlyMap<string, string>, signal?: AbortSignal): Promise<CheckedTransfer> {
  const found = await listFiles(folder, isManifestFile);
  const envelopes = found.filter((f) => isEnvelope(f.path)).map((f) => f.path);
  if (envelopes.length > 0 && decryption.mode === 'auto') {
    if (decryption.choice) {
      throw permanent('PASSPHRASE_WRONG', `these files are still encrypted after ascp decrypted with the passphrase of ${decryption.choice.source}: ${named(envelopes)}; it is not this package's passphrase: correct it there, then retry`,
        { files: envelopes.length });
    }
    throw permanent('PASSPHRASE_MISSING', `the package arrived encrypted (the server had not said so) and no passphrase is configured for it; these files cannot be opened: ${named(envelopes)}; ${passphraseAdvice(decryption.origin)}`,
      { files: envelopes.length });
  }
  if (plan.expected) {
    const d = compareFiles(plan.expected, found);
    if (!isClean(d)) {
      throw new IngestError('VERIFY_FAILED', `the package on disk does not match the server's list of its files: ${summariseDifferences(d)}`, {
        retry: 'later', details: { missing: d.missing.length, extra: d.extra.length, wrongSize: d.wrongSize.length },
      });
    }
  }
  // ascp's checksum of a file it decrypted may be of the bytes it received, not of what it wrote
  const trustAscp = decryption.choice === undefined;
  const files: ManifestFile[] = [];
  let fromAscp = 0;
  for (const f of found) {
    const ascpSum = trustAscp ? reported.get(join(folder, f.path)) : undefined;
    if (ascpSum) fromAscp++;
    files.push({ path: f.path, size: f.size, sha256: ascpSum ?? (await sha256File(join(folder, f.path), signal)) });
  }
  return {
    files,
    fromAscp,
    facts: {
      verifiedAgainstServer: plan.expected !== undefined,
      decrypted: decryption.choice !== undefined,
      keptEncrypted: decryption.mode === 'never' && (decryption.knownEncrypted || envelopes.length > 0),
      skipped: plan.skipped,
    },
  };
}

/** A wrong passphrase as ascp reports it (code 49), with where the passphrase came from. */
export function wrongPassphrase(err: IngestError, decryption: DecryptionPlan): IngestError {
  if (err.code !== 'PASSPHRASE_WRONG' || !decryption.choice) return err;
  return permanent('PASSPHRASE_WRONG', `ascp could not decrypt the package with the passphrase of ${decryption.choice.source}: it is not this package's passphrase; correct it there, then retry (${err.message})`, err.details, err);
}
