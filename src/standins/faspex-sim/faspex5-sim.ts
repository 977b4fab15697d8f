/**
 * Faspex 5 in the simulator: packages (stored with the Faspex 4 ones, so the fake ascp copies
 * them), public links, the web client of config.js, JWT API clients, authorization codes and
 * access tokens, and fault switches. HTTP is in faspex5-routes.ts. Written without src/ on
 * purpose: the simulator must not share a bug with the client it tests.
 *
 *   const pkg = sim.faspex5.addPackage({ title: 'T', files: { 'a.txt': 'a' } });
 *   pkg.links.public      // https://127.0.0.1:PORT/aspera/faspex/public/package?context=…
 *   const api = sim.faspex5.addApiClient({ user: 'alice' });   // JWT key pair
 *   sim.faspex5.fault(pkg, { kind: 'expired' });
 */
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import type { AddPackageSpec, SimPackage } from './store.js';

export type Faspex5AuthMode = 'oauth-code' | 'passcode-header';
export type Faspex5Endpoint = 'link' | 'config' | 'authorize' | 'token' | 'package' | 'transfer-spec' | 'files' | 'ping' | 'list' | 'any';

export type Faspex5Fault =
  /** the public link has expired: authorize answers with action_message, the Passcode flow with 401 */
  | { kind: 'expired' }
  /** the package was deleted: the API answers 404 */
  | { kind: 'deleted' }
  /** transfer tokens are minted already expired (the fake ascp refuses them) */
  | { kind: 'expired-token' }
  | { kind: 'status'; status: number; on: Faspex5Endpoint }
  | { kind: 'slow'; delayMs: number; on: Faspex5Endpoint }
  /** `to` absolute, or 'self' for a same-origin hop back to the link (with hop=N added) */
  | { kind: 'redirect'; to: string; on: Faspex5Endpoint; hops?: number }
  | { kind: 'reset'; on: Faspex5Endpoint };

export interface Faspex5SimOptions {
  /** 'oauth-code' (5.0.13+, default) or 'passcode-header' (earlier 5.0: no authorize_public_link) */
  auth?: Faspex5AuthMode;
  /** config.js's redirect_uri; default `<prefix>/token` (relative, as real servers write it) */
  redirectUri?: string;
  /** transfer specs with source_root + relative paths (the fake ascp needs absolute paths) */
  sourceRoot?: boolean;
  /** the transfer spec offers WebSocket Secure on this port (wss_enabled, wss_port), as Faspex 5 does */
  wssPort?: number;
}

export interface Faspex5Recipient {
  id: string;
  name: string;
  type: 'user' | 'workgroup' | 'shared_inbox' | 'external_user';
}

/** Faspex 5 package status values (faspex5-boxes.md §3); the simulator's packages start `completed`. */
export type Faspex5Status = 'completed' | 'uploading' | 'transferring' | 'failed' | 'expiring' | 'deleting' | 'deleted' | 'processing';

/** A shared inbox or workgroup, with its members and their access. */
export interface Faspex5Box {
  id: string;
  name: string;
  type: 'shared_inbox' | 'workgroup';
  /** user name → access (`submit_only` may only send to it) */
  members: Map<string, 'submit_only' | 'standard' | 'shared_inbox_admin' | 'workgroup_admin'>;
}

export interface Faspex5Package {
  id: string;
  /** changed by tests: only `completed` is downloadable */
  status: Faspex5Status;
  createdAt: string;
  lastModified: string;
  stored: SimPackage;
  title: string;
  note: string | undefined;
  sender: string;
  recipients: Faspex5Recipient[];
  passcode: string;
  /** the raw context of the public link (base64 JSON) */
  context: string;
  links: {
    /** …/public/package?context=… */
    public: string;
    /** …/aspera/faspex?context=… (the variant without /public/package) */
    publicShort: string;
    /** …/aspera/faspex/inbox/<id> (a registered user's link) */
    inbox: string;
  };
}

export interface Faspex5ApiClientInfo {
  clientId: string;
  user: string;
  privateKeyPem: string;
  publicKey: KeyObject;
}

export type AccessGrant = { kind: 'public'; packageId: string } | { kind: 'user'; user: string };

export interface Faspex5AddSpec extends Omit<AddPackageSpec, 'recipients'> {
  /** user names, or typed recipients; default: the first sim user */
  recipients?: Array<string | { name: string; type: Faspex5Recipient['type'] }>;
  passcode?: string;
  /** default `completed` */
  status?: Faspex5Status;
  /** ISO time; default now */
  createdAt?: string;
}

export interface Faspex5State {
  auth: Faspex5AuthMode;
  readonly options: Faspex5SimOptions;
  readonly webClientId: string;
  readonly redirectUri: string;
  readonly packages: Map<string, Faspex5Package>;
  readonly apiClients: Map<string, Faspex5ApiClientInfo>;
  /** code → what it grants; `used` once exchanged */
  readonly codes: Map<string, { packageId: string; used: boolean; exp: number }>;
  readonly tokens: Map<string, AccessGrant>;
  readonly faults: Map<string, Faspex5Fault[]>;
  /** shared inboxes and workgroups by id */
  readonly boxes: Map<string, Faspex5Box>;
  /** the package list calls served (path and query), for tests that check paging and filters */
  readonly listCalls: string[];
  /** the most packages one list page holds, whatever `limit` asks (default 100) */
  pageMax: number;
  userId(name: string): string;
  /** the box of this type and exact name, made (with no members) when new */
  box(type: Faspex5Box['type'], name: string): Faspex5Box;
  faultsFor(pkg: Faspex5Package | undefined): Faspex5Fault[];
}

export function createFaspex5State(prefix: string, options: Faspex5SimOptions = {}): Faspex5State {
  const ids = new Map<string, string>();
  const faults = new Map<string, Faspex5Fault[]>();
  return {
    auth: options.auth ?? 'oauth-code',
    options,
    webClientId: `web-${randomBytes(6).toString('hex')}`,
    redirectUri: options.redirectUri ?? `${prefix}/token`,
    packages: new Map(),
    apiClients: new Map(),
    codes: new Map(),
    tokens: new Map(),
    faults,
    boxes: new Map(),
    listCalls: [],
    pageMax: 100,
    box(type, name) {
      const found = [...this.boxes.values()].find((b) => b.type === type && b.name === name);
      if (found) return found;
      const made: Faspex5Box = { id: String(900 + this.boxes.size), name, type, members: new Map() };
      this.boxes.set(made.id, made);
      return made;
    },
    userId(name) {
      if (!ids.has(name)) ids.set(name, String(100 + ids.size));
      return ids.get(name)!;
    },
    faultsFor(pkg) {
      return [...(pkg ? faults.get(pkg.id) ?? [] : []), ...(faults.get('*') ?? [])];
    },
  };
}

export function encodeContext(value: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(value)).toString('base64');
}

export function makePackage(state: Faspex5State, id: string, stored: SimPackage, spec: Faspex5AddSpec, defaultUser: string, baseUrl: string): Faspex5Package {
  const recipients = (spec.recipients ?? [defaultUser]).map((r, i): Faspex5Recipient => {
    const { name, type } = typeof r === 'string' ? { name: r, type: 'user' as const } : r;
    const id = type === 'user' ? state.userId(name) : type === 'external_user' ? String(800 + i) : state.box(type, name).id;
    return { id, name, type };
  });
  const now = new Date().toISOString();
  const passcode = spec.passcode ?? randomBytes(20).toString('hex');
  const email = spec.externalRecipient ?? 'ext@partner.example';
  const context = encodeContext({ resource: 'packages', type: 'external_download_package', id, passcode, package_id: id, email });
  const query = `context=${encodeURIComponent(context)}`;
  const pkg: Faspex5Package = {
    id, stored, status: spec.status ?? 'completed', createdAt: spec.createdAt ?? now, lastModified: now, title: spec.title, note: spec.note, sender: spec.sender ?? 'sender@example.com', recipients, passcode, context,
    links: { public: `${baseUrl}/public/package?${query}`, publicShort: `${baseUrl}?${query}`, inbox: `${baseUrl}/inbox/${id}` },
  };
  state.packages.set(id, pkg);
  return pkg;
}

/** A JWT API client with a fresh RSA key pair; the private key is what FASPEX5_CLIENTS points at. */
export function makeApiClient(state: Faspex5State, user: string, clientId = `api-${randomBytes(5).toString('hex')}`): Faspex5ApiClientInfo {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const info = { clientId, user, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKey };
  state.apiClients.set(clientId, info);
  return info;
}

/** A public link to `pkg` whose context carries other values (a wrong passcode, say). */
export function linkWith(pkg: Faspex5Package, baseUrl: string, changes: Record<string, unknown>): string {
  const context = encodeContext({ resource: 'packages', type: 'external_download_package', id: pkg.id, passcode: pkg.passcode, package_id: pkg.id, ...changes });
  return `${baseUrl}/public/package?context=${encodeURIComponent(context)}`;
}
