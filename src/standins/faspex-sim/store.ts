/**
 * The simulator's packages, on disk in the layout the fake ascp serves from:
 *
 *   <storeDir>/<uuid>.aspera-package/PKG - <title>/<relative path>
 *
 * so the FASP source path of a package is `/<uuid>.aspera-package/PKG - <title>` relative to the
 * store root, and that is the `path` claim of its tokens (src/standins/sim-token.ts).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ENVELOPE_SUFFIX, seal } from './envelope.js';

export interface AddPackageSpec {
  title: string;
  /** relative path → content, or a size in bytes (filled with a deterministic pattern); undefined entries are skipped */
  files: Record<string, Buffer | string | number | undefined>;
  /** registered users (sim users) who received it; default: the first sim user */
  recipients?: string[];
  /** the external (account-less) recipient behind the external link */
  externalRecipient?: string;
  /** default: 40 random hex digits, like Faspex 4 */
  externalPasscode?: string;
  sender?: string;
  note?: string;
  metadata?: Record<string, string>;
  uuid?: string;
  /** extra or replacement FASP URL parameters (policy, targetrate, enc, …) */
  faspParams?: Record<string, string>;
  /** per-file `<link rel="content">` elements in the XML; default true */
  fileLinks?: boolean;
  /**
   * content protection: each file is stored as `<path>.aspera-env`, encrypted with this
   * passphrase (envelope.ts), as Faspex keeps a protected package; Faspex 5 says `ear_enabled`
   */
  passphrase?: string;
}

export interface SimRecipient {
  name: string;
  recipientDeliveryId: string;
  external: boolean;
}

export interface SimPackage {
  uuid: string;
  title: string;
  /** `/<uuid>.aspera-package/PKG - <title>`: FASP source path and token path claim */
  sourcePath: string;
  /** absolute folder holding the files */
  dir: string;
  files: Array<{ path: string; size: number }>;
  totalBytes: number;
  /** the sender's delivery id */
  deliveryId: string;
  externalDeliveryId: string;
  externalPasscode: string;
  recipients: SimRecipient[];
  sender: string;
  note: string | undefined;
  metadata: Record<string, string>;
  faspParams: Record<string, string>;
  fileLinks: boolean;
  /** set: the files are encrypted with it (stored as `.aspera-env`) */
  encrypted: boolean;
  /** the transfer cookie the server puts in this package's FASP URLs */
  cookie: string;
  links: {
    /** external_deliveries/<id>?passcode=… (no account needed) */
    external: string;
    /**
     * received/<id> of the first registered recipient; with `recipients: []`, the external
     * recipient's id, which every account gets 404 for
     */
    received: string;
    /** received/<id> per registered recipient */
    receivedBy: Record<string, string>;
    /** the package's FASP URL without a token, as a registered user's XML shows it */
    faspUrl: string;
  };
}

export class PackageStore {
  readonly packages = new Map<string, SimPackage>();
  private nextId = 4000 + Math.floor(Math.random() * 1000);

  constructor(readonly root: string) {
    mkdirSync(root, { recursive: true });
  }

  add(spec: AddPackageSpec, ctx: { baseUrl: string; defaultRecipient: string; faspUrl: (pkg: SimPackage, token?: string) => string }): SimPackage {
    if (spec.title.includes('/') || spec.title.trim() === '') throw new Error('faspex-sim: a title must be non-empty and contain no "/"');
    const uuid = spec.uuid ?? randomUUID();
    const folder = `PKG - ${spec.title}`;
    const dir = join(this.root, `${uuid}.aspera-package`, folder);
    mkdirSync(dir, { recursive: true });
    const passphrase = spec.passphrase;
    const files = Object.entries(spec.files).flatMap(([path, content]) => {
      if (content === undefined) return [];
      if (passphrase === undefined) return [{ path, size: writeContent(join(dir, path), content) }];
      const sealed = seal(typeof content === 'number' ? patterned(content) : Buffer.from(content), passphrase);
      return [{ path: `${path}${ENVELOPE_SUFFIX}`, size: writeContent(join(dir, `${path}${ENVELOPE_SUFFIX}`), sealed) }];
    });

    const deliveryId = String(this.nextId++);
    const recipients: SimRecipient[] = (spec.recipients ?? [ctx.defaultRecipient]).map((name) => ({ name, recipientDeliveryId: String(this.nextId++), external: false }));
    const external: SimRecipient = { name: spec.externalRecipient ?? 'external.user@example.com', recipientDeliveryId: String(this.nextId++), external: true };
    recipients.push(external);
    const externalPasscode = spec.externalPasscode ?? randomBytes(20).toString('hex');
    const receivedBy = Object.fromEntries(recipients.filter((r) => !r.external).map((r) => [r.name, `${ctx.baseUrl}/received/${r.recipientDeliveryId}`]));

    const pkg: SimPackage = {
      uuid,
      title: spec.title,
      sourcePath: `/${uuid}.aspera-package/${folder}`,
      dir,
      files,
      totalBytes: files.reduce((n, f) => n + f.size, 0),
      deliveryId,
      externalDeliveryId: external.recipientDeliveryId,
      externalPasscode,
      recipients,
      sender: spec.sender ?? 'sender@example.com',
      note: spec.note,
      metadata: spec.metadata ?? {},
      faspParams: spec.faspParams ?? {},
      fileLinks: spec.fileLinks ?? true,
      encrypted: passphrase !== undefined,
      cookie: `fxsim-${randomBytes(12).toString('hex')}`,
      links: {
        external: `${ctx.baseUrl}/external_deliveries/${external.recipientDeliveryId}?passcode=${externalPasscode}`,
        received: Object.values(receivedBy)[0] ?? `${ctx.baseUrl}/received/${external.recipientDeliveryId}`,
        receivedBy,
        faspUrl: '',
      },
    };
    pkg.links.faspUrl = ctx.faspUrl(pkg);
    this.packages.set(uuid, pkg);
    return pkg;
  }

  byRecipientDeliveryId(id: string): { pkg: SimPackage; recipient: SimRecipient } | undefined {
    for (const pkg of this.packages.values()) {
      const recipient = pkg.recipients.find((r) => r.recipientDeliveryId === id);
      if (recipient) return { pkg, recipient };
    }
    return undefined;
  }

  bySourcePath(path: string): SimPackage | undefined {
    const p = path.replace(/\/+$/, '');
    for (const pkg of this.packages.values()) if (pkg.sourcePath === p) return pkg;
    return undefined;
  }

  /** A package by itself, its uuid, or any of its links (external, received, FASP URL). */
  find(target: SimPackage | string): SimPackage | undefined {
    if (typeof target !== 'string') return this.packages.get(target.uuid);
    const direct = this.packages.get(target);
    if (direct) return direct;
    for (const pkg of this.packages.values()) {
      if (target.includes(pkg.uuid)) return pkg;
      if (target === pkg.links.external || Object.values(pkg.links.receivedBy).includes(target)) return pkg;
    }
    const id = /\/(?:external_deliveries|received)\/(\d+)/.exec(target)?.[1];
    return id ? this.byRecipientDeliveryId(id)?.pkg : undefined;
  }
}

const PATTERN = Buffer.from(Array.from({ length: 251 }, (_, i) => (i * 7 + 13) & 0xff));

/** `size` bytes of the repeating pattern, in memory (encrypted test files are small). */
function patterned(size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i += PATTERN.length) PATTERN.copy(b, i);
  return b;
}

/** Writes a file; a number is a size, filled with a repeating pattern in 1 MB chunks. */
function writeContent(file: string, content: Buffer | string | number): number {
  mkdirSync(dirname(file), { recursive: true });
  if (typeof content !== 'number') {
    writeFileSync(file, content);
    return Buffer.byteLength(content);
  }
  const chunk = Buffer.alloc(Math.min(content, 1 << 20));
  for (let i = 0; i < chunk.length; i += PATTERN.length) PATTERN.copy(chunk, i);
  const fd = openSync(file, 'w');
  try {
    for (let written = 0; written < content; ) {
      const n = Math.min(chunk.length, content - written);
      written += writeSync(fd, chunk, 0, n);
    }
  } finally {
    closeSync(fd);
  }
  return content;
}
