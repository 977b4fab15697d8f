/**
 * The shape of a MAILBOXES_FILE entry (zod): an IMAP mailbox, or `"source": "graph"` for a
 * Microsoft 365 mailbox, each field through the parser of the variable it stands for
 * (variables.ts), unknown keys refused, secrets only as a file or a variable name. What the
 * fields mean together (logins, allowlists, folders) is mailboxes-file.ts's.
 */
import { z } from 'zod';
import { VARIABLES, type VariableName } from './variables.js';

/** Lower-case letters, digits, `-` and `_`: safe in a Redis key, a metric label and a URL. */
export const INBOX_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** A field checked by a variable's own parser, with its message (never the value, for secrets). */
const byVariable = <K extends VariableName>(name: K) =>
  z.string().transform((raw, ctx) => {
    try {
      return VARIABLES[name].parse(raw) as ReturnType<(typeof VARIABLES)[K]['parse']>;
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
      return z.NEVER;
    }
  });

const whole = (min: number, max: number) => z.number().int().min(min).max(max);
const commaList = z.union([z.string(), z.array(z.string()).min(1)]).transform((v) => (Array.isArray(v) ? v.join(',') : v));

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the name of an environment variable');
/** A literal secret in the file is refused with the two ways that are allowed. */
const noLiteral = z.unknown().optional();

const passwordAuth = z
  .strictObject({
    method: z.literal('password').default('password'),
    passwordFile: z.string().min(1).optional(),
    passwordEnv: envName.optional(),
    password: noLiteral,
  })
  .superRefine((a, ctx) => {
    if (a.password !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['password'], message: 'is not read from the file itself: write passwordFile (a path) or passwordEnv (a variable name)' });
    } else if ((a.passwordFile === undefined) === (a.passwordEnv === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'needs exactly one of passwordFile or passwordEnv' });
    }
  });

/** An Entra (or other OAuth2) app's login, as an IMAP OAuth2 mailbox and a Graph mailbox both give it. */
const entraClientFields = {
    tenant: z.string().optional(),
    clientId: z.string().optional(),
    clientSecretFile: z.string().min(1).optional(),
    clientSecretEnv: envName.optional(),
    clientSecret: noLiteral,
    certificateFile: z.string().min(1).optional(),
    keyFile: z.string().min(1).optional(),
};

/** OAuth2 (src/mail/imap-auth/auth-config.ts checks the combination); secrets as files or variables. */
const oauthAuth = z
  .strictObject({
    method: z.literal('oauth2'),
    provider: z.string().optional(),
    ...entraClientFields,
    tokenUrl: z.string().optional(),
    scope: z.string().optional(),
    refreshTokenFile: z.string().min(1).optional(),
    refreshTokenEnv: envName.optional(),
    refreshToken: noLiteral,
  })
  .superRefine((a, ctx) => {
    for (const name of ['clientSecret', 'refreshToken'] as const) {
      if (a[name] !== undefined) ctx.addIssue({ code: 'custom', path: [name], message: `is not read from the file itself: write ${name}File (a path) or ${name}Env (a variable name)` });
      else if (a[`${name}File`] !== undefined && a[`${name}Env`] !== undefined) ctx.addIssue({ code: 'custom', path: [name], message: `give ${name}File or ${name}Env, not both` });
    }
  });

/** `auth` by its method; `password` when none is written. */
const authSchema = z.unknown().transform((raw, ctx) => {
  const method = typeof raw === 'object' && raw !== null ? (raw as { method?: unknown }).method : undefined;
  const schema = method === 'oauth2' ? oauthAuth : passwordAuth;
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  for (const issue of r.error.issues) ctx.addIssue({ ...issue, path: issue.path } as never);
  return z.NEVER;
});

/** What every inbox may set whatever its source: marks, and the policy for its mail and packages. */
const inboxPolicyFields = {
  markKeyword: z.boolean().default(true),
  moveTo: byVariable('IMAP_MOVE_TO').optional(),
  allowedHosts: commaList.pipe(byVariable('FASPEX_ALLOWED_HOSTS')).optional(),
  allowedForwarders: commaList.pipe(byVariable('MAIL_ALLOWED_FORWARDERS')).optional(),
  authservId: byVariable('MAIL_AUTHSERV_ID').optional(),
  maxLinks: whole(1, 10000).optional(),
  downloadFolder: z.string().optional(),
  /** FILE_INCLUDE / FILE_EXCLUDE for this inbox's packages; each replaces the variable's */
  include: commaList.pipe(byVariable('FILE_INCLUDE')).optional(),
  exclude: commaList.pipe(byVariable('FILE_EXCLUDE')).optional(),
};

export const mailboxSchema = z.strictObject({
  id: z.string().regex(INBOX_ID, 'use 1-63 lower-case letters, digits, - and _, starting with a letter or digit'),
  host: byVariable('IMAP_HOST'),
  port: whole(1, 65535).default(993),
  secure: z.boolean().default(true),
  user: byVariable('IMAP_USER'),
  auth: authSchema,
  /** PEM file of a private CA for this IMAP server (relative to the file) */
  caFile: z.string().min(1).optional(),
  insecureTls: z.boolean().default(false),
  folder: byVariable('IMAP_MAILBOX').default('INBOX'),
  resyncSeconds: whole(10, 86400).default(300),
  startAt: z.enum(['oldest', 'newest']).default('oldest'),
  ...inboxPolicyFields,
});
export type MailboxEntry = z.infer<typeof mailboxSchema>;

/** `"source": "graph"`: a Microsoft 365 mailbox through Graph, the GRAPH_* variables in camelCase. */
export const graphMailboxSchema = z
  .strictObject({
    id: z.string().regex(INBOX_ID, 'use 1-63 lower-case letters, digits, - and _, starting with a letter or digit'),
    source: z.literal('graph'),
    mailbox: byVariable('GRAPH_MAILBOX'),
    folder: byVariable('GRAPH_FOLDER').default('Inbox'),
    ...entraClientFields,
    pollSeconds: whole(2, 3600).default(10),
    baseUrl: byVariable('GRAPH_BASE_URL').optional(),
    tokenUrl: byVariable('GRAPH_TOKEN_URL').optional(),
    caFile: z.string().min(1).optional(),
    ...inboxPolicyFields,
  })
  .superRefine((a, ctx) => {
    if (a.clientSecret !== undefined) ctx.addIssue({ code: 'custom', path: ['clientSecret'], message: 'is not read from the file itself: write clientSecretFile (a path) or clientSecretEnv (a variable name)' });
    else if (a.clientSecretFile !== undefined && a.clientSecretEnv !== undefined) ctx.addIssue({ code: 'custom', path: ['clientSecret'], message: 'give clientSecretFile or clientSecretEnv, not both' });
  });
export type GraphMailboxEntry = z.infer<typeof graphMailboxSchema>;

export const sourceOf = (raw: unknown) => (typeof raw === 'object' && raw !== null ? (raw as { source?: unknown }).source : undefined);

export const fileSchema = z.strictObject({ mailboxes: z.array(z.unknown()).min(1, 'lists no mailbox') });
