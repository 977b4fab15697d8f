/**
 * Whether ascp decrypts a package, and with which passphrase, decided before any byte moves.
 * Pure.
 *
 *   DECRYPT=never                → nothing is decrypted; encrypted files are kept so on purpose
 *   known encrypted, passphrase  → decrypt
 *   known encrypted, none        → PASSPHRASE_MISSING at once, naming the settings to add
 *   known plain                  → nothing to decrypt
 *   not said (a faspe:// link)   → decrypt when a passphrase applies; encrypted files found after
 *                                  the transfer are named then (src/verify/check-transfer.ts)
 */
import type { DecryptSettings } from '../config/config.js';
import { permanent } from '../errors.js';
import { choosePassphrase, passphraseAdvice, type PackageOrigin, type PassphraseChoice } from './passphrase-choice.js';

export interface DecryptionPlan {
  mode: 'auto' | 'never';
  /** set: ascp decrypts with it */
  choice?: PassphraseChoice;
  /** the server said the package is encrypted */
  knownEncrypted: boolean;
  origin: PackageOrigin;
}

export function planDecryption(settings: DecryptSettings | undefined, encrypted: boolean | undefined, origin: PackageOrigin): DecryptionPlan {
  const mode = settings?.mode ?? 'auto';
  const knownEncrypted = encrypted === true;
  if (mode === 'never' || encrypted === false) return { mode, knownEncrypted, origin };
  const choice = choosePassphrase({ rules: settings?.rules ?? [], fallback: settings?.fallback }, origin);
  if (choice) return { mode, choice, knownEncrypted, origin };
  if (knownEncrypted) {
    throw permanent('PASSPHRASE_MISSING', `this package is encrypted (content protection) and no passphrase is configured for it, so nothing was transferred: ${passphraseAdvice(origin)}`,
      { sender: origin.sender, inbox: origin.inbox, server: origin.server });
  }
  return { mode, knownEncrypted, origin };
}
