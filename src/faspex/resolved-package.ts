/**
 * What a Faspex server says about a package, once its link is resolved: the transfer (with a
 * token) and the facts that go into the folder name and the manifest. Produced by the Faspex 4
 * and 5 clients; consumed by the ascp runner and `resolve`.
 */
import type { TransferSpec } from '../fasp/transfer-spec.js';
import type { PackageLink } from './link.js';

export interface PackageFile {
  /** relative path inside the package, as the server names it (not yet made safe) */
  path: string;
  size?: number;
}

export interface ResolvedPackage {
  link: PackageLink;
  /** the server's own package identifier (Faspex 4 `<id>`, Faspex 5 package id) */
  packageId: string;
  title?: string;
  deliveryId?: string;
  sender?: string;
  note?: string;
  recipients?: string[];
  metadata?: Record<string, string>;
  /** the server's own list of the package's files (Faspex 4 XML, Faspex 5 files/received) */
  files?: PackageFile[];
  totalBytes?: number;
  /**
   * the content is encrypted with a passphrase (Faspex 5 `ear_enabled`; a Faspex 4 list of
   * `.aspera-env` files); undefined: the server did not say
   */
  encrypted?: boolean;
  /** ready for ascp: includes the token (a secret) */
  transferSpec: TransferSpec;
}

export interface PackageResolver {
  /** throws IngestError: retry 'never' for permanent failures, 'later' for transient ones */
  resolve(link: PackageLink, signal?: AbortSignal): Promise<ResolvedPackage>;
}
