/**
 * What a test sees of the simulated Faspex 5: `sim.faspex5`. Packages go into the simulator's
 * one store, so the fake ascp serves them like Faspex 4 ones.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  linkWith, makeApiClient, makePackage, type Faspex5AddSpec, type Faspex5ApiClientInfo, type Faspex5AuthMode, type Faspex5Fault,
  type Faspex5Box, type Faspex5Package, type Faspex5State, type Faspex5Status,
} from './faspex5-sim.js';
import type { PackageStore, SimPackage } from './store.js';

export type { Faspex5Box, Faspex5Status } from './faspex5-sim.js';
export type { Faspex5AddSpec, Faspex5ApiClientInfo, Faspex5AuthMode, Faspex5Fault, Faspex5Package, Faspex5SimOptions } from './faspex5-sim.js';

export interface Faspex5Sim {
  readonly state: Faspex5State;
  /** switch between the 5.0.13+ OAuth code flow and the older Passcode header flow */
  setAuth(mode: Faspex5AuthMode): void;
  addPackage(spec: Faspex5AddSpec): Faspex5Package;
  /** a JWT API client acting as `user` (default: the first sim user) */
  addApiClient(options?: { user?: string; clientId?: string }): Faspex5ApiClientInfo;
  /** FASPEX5_CLIENTS text for these clients on this server, their keys written under `dir` */
  clientsJson(dir: string, clients: Faspex5ApiClientInfo[], server?: string): string;
  /** a public link to `pkg` whose context differs (e.g. { passcode: 'wrong' }) */
  linkWith(pkg: Faspex5Package, changes: Record<string, unknown>): string;
  /** a shared inbox or workgroup (made when new) with these members (user → access; default standard) */
  addBox(type: Faspex5Box['type'], name: string, members?: Record<string, Faspex5Box['members'] extends Map<string, infer A> ? A : never>): Faspex5Box;
  /** moves a package to another status (its last_modified moves too) */
  setStatus(pkg: Faspex5Package, status: Faspex5Status): void;
  /** the package is purged: no list shows it any more */
  purge(pkg: Faspex5Package): void;
  /** sets, or with null clears, the faults of a package (or of every request, '*') */
  fault(target: Faspex5Package | '*', fault: Faspex5Fault | null): void;
  /** access tokens and authorization codes issued so far */
  readonly issued: { tokens: number; codes: number };
}

export interface Faspex5SimDeps {
  state: Faspex5State;
  store: PackageStore;
  baseUrl: string;
  /** `127.0.0.1:PORT`, the FASPEX5_CLIENTS key */
  server: string;
  defaultUser: string;
  faspUrl: (pkg: SimPackage) => string;
}

export function createFaspex5Sim({ state, store, baseUrl, server, defaultUser, faspUrl }: Faspex5SimDeps): Faspex5Sim {
  let nextId = 700;
  return {
    state,
    setAuth(mode) {
      state.auth = mode;
    },
    addPackage(spec) {
      const names = (spec.recipients ?? [defaultUser]).map((r) => (typeof r === 'string' ? r : r.name));
      const stored = store.add({ ...spec, recipients: names }, { baseUrl, defaultRecipient: defaultUser, faspUrl });
      return makePackage(state, String(nextId++), stored, spec, defaultUser, baseUrl);
    },
    addBox(type, name, members = {}) {
      const box = state.box(type, name);
      for (const [user, access] of Object.entries(members)) box.members.set(user, access);
      return box;
    },
    setStatus(pkg, status) {
      pkg.status = status;
      pkg.lastModified = new Date().toISOString();
    },
    purge(pkg) {
      state.packages.delete(pkg.id);
    },
    addApiClient: (options = {}) => makeApiClient(state, options.user ?? defaultUser, options.clientId),
    clientsJson(dir, clients, key = server) {
      mkdirSync(dir, { recursive: true });
      const entries = clients.map((c) => {
        const file = join(dir, `${c.clientId}.pem`);
        writeFileSync(file, c.privateKeyPem, { mode: 0o600 });
        return [key, { client_id: c.clientId, user: c.user, private_key_file: file }] as const;
      });
      return JSON.stringify(Object.fromEntries(entries));
    },
    linkWith: (pkg, changes) => linkWith(pkg, baseUrl, changes),
    fault(target, fault) {
      const key = target === '*' ? '*' : target.id;
      if (fault === null) state.faults.delete(key);
      else state.faults.set(key, [...(state.faults.get(key) ?? []), fault]);
    },
    get issued() {
      return { tokens: state.tokens.size, codes: state.codes.size };
    },
  };
}
