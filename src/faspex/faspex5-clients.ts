/**
 * FASPEX5_CLIENTS: the Faspex 5 API clients the service uses for inbox links (a registered
 * user's package), one per server, as JSON keyed by `host[:port]` (as the link shows it):
 *
 *   {"faspex5.example.com": {"client_id": "aBcD1234", "user": "ingest@example.com",
 *                            "private_key_file": "/run/secrets/faspex5.pem"}}
 *
 * Faspex 5 documents the JWT bearer grant (RFC 7523) for unattended API clients; it documents no
 * client_credentials or password grant, so JWT is the only kind offered (docs/faspex5.md). The
 * private key stays in its file; only its path is in the variable. Pure: reading the key file is
 * faspex5-jwt.ts's job.
 */
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { permanent } from '../errors.js';
import { registerSecret } from '../log/secrets.js';
import { canonicalHost } from './allowlist.js';
import { boxLabel, parseBackfill, parseBoxSpec, type Backfill, type BoxSpec } from './faspex5-box-spec.js';

export interface Faspex5ApiClient {
  /** `host[:port]`, lower-case, as PackageLink.server */
  server: string;
  clientId: string;
  /** the Faspex 5 user the service acts as (JWT `sub: user:<name>`) */
  user: string;
  /** absolute path of the PEM RSA private key whose public key is registered in Faspex */
  privateKeyFile: string;
  privateKeyPassphrase?: string;
  /** sent with the token request only when set (a confidential API client) */
  clientSecret?: string;
  /** the boxes a sweep reads (default: the own inbox) */
  boxes: BoxSpec[];
  /** this server's sweep period; undefined: FASPEX5_SWEEP_SECONDS */
  sweepSeconds?: number;
  /** what the first sweep of a new box does */
  backfill: Backfill;
  /** mail From these addresses (or `@domain`s) is this server's: it asks for a sweep */
  senders: string[];
}

const clientSchema = z.strictObject({
  client_id: z.string().trim().min(1, 'client_id is empty'),
  user: z.string().trim().min(1, 'user is empty'),
  private_key_file: z.string().trim().min(1, 'private_key_file is empty'),
  private_key_passphrase: z.string().min(1).optional(),
  client_secret: z.string().min(1).optional(),
  boxes: z.array(z.string()).min(1, 'boxes is empty (leave it out for ["inbox"])').optional(),
  sweep_seconds: z.number().int().min(5, 'sweep_seconds must be at least 5').max(86_400, 'sweep_seconds must be at most 86400').optional(),
  backfill: z.string().optional(),
  senders: z.array(z.string().trim().toLowerCase().regex(/^[^@\s]*@[^@\s]+$/, 'senders are addresses or @domains')).optional(),
});

const clientsSchema = z.record(z.string().min(1), clientSchema);

/** Parses FASPEX5_CLIENTS; undefined or blank → no clients. Throws CONFIG naming the variable. */
export function parseFaspex5Clients(raw: string | undefined, cwd: string = process.cwd()): Map<string, Faspex5ApiClient> {
  const clients = new Map<string, Faspex5ApiClient>();
  if (raw === undefined || raw.trim() === '') return clients;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    // JSON.parse's message can quote the text, which holds secrets.
    throw permanent('CONFIG', 'FASPEX5_CLIENTS is not valid JSON; it must be an object keyed by Faspex 5 host (see docs/faspex5.md)');
  }
  const parsed = clientsSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length > 0 ? ` at ${issue.path.map(String).join('.')}` : '';
    const why = issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')}` : issue.message;
    throw permanent('CONFIG', `FASPEX5_CLIENTS${where}: ${why} (expected {"host": {"client_id", "user", "private_key_file"}}, see docs/faspex5.md)`);
  }
  for (const [key, c] of Object.entries(parsed.data)) {
    const server = serverKey(key);
    if (clients.has(server)) throw permanent('CONFIG', `FASPEX5_CLIENTS names ${server} twice`);
    const where = `FASPEX5_CLIENTS at ${server}`;
    const boxes = (c.boxes ?? ['inbox']).map((b) => parseBoxSpec(b, where));
    const labels = boxes.map(boxLabel);
    const twice = labels.find((l, i) => labels.indexOf(l) !== i);
    if (twice) throw permanent('CONFIG', `${where}: box "${twice}" is named twice`);
    registerSecret(c.private_key_passphrase);
    registerSecret(c.client_secret);
    clients.set(server, {
      server,
      clientId: c.client_id,
      user: c.user,
      privateKeyFile: isAbsolute(c.private_key_file) ? c.private_key_file : resolve(cwd, c.private_key_file),
      ...(c.private_key_passphrase === undefined ? {} : { privateKeyPassphrase: c.private_key_passphrase }),
      ...(c.client_secret === undefined ? {} : { clientSecret: c.client_secret }),
      boxes,
      ...(c.sweep_seconds === undefined ? {} : { sweepSeconds: c.sweep_seconds }),
      backfill: parseBackfill(c.backfill, where),
      senders: c.senders ?? [],
    });
  }
  return clients;
}

/** `host[:port]` as PackageLink.server spells it; a URL or a default https port is accepted too. */
function serverKey(key: string): string {
  const text = key.trim();
  let url: URL;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(text) ? text : `https://${text}`);
  } catch {
    throw permanent('CONFIG', `FASPEX5_CLIENTS key "${text}" is not a host name (write host or host:port)`);
  }
  if (url.pathname !== '/' || url.search || url.username) {
    throw permanent('CONFIG', `FASPEX5_CLIENTS key "${url.host}" must be a host or host:port, without a path`);
  }
  const host = canonicalHost(url.hostname);
  return url.port ? `${host}:${url.port}` : host;
}
