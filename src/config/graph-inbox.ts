/**
 * One Graph mailbox's settings, checked the same way whether they come from the GRAPH_* variables
 * or from a MAILBOXES_FILE entry with `"source": "graph"`: the login is the IMAP OAuth code's own
 * parser (provider microsoft: a client secret or a certificate), with Graph's scope; messages
 * name the fields through `label`. Pure: files are only named here.
 */
import { parseImapAuth, type ImapAuthField } from '../mail/imap-auth/auth-config.js';
import type { GraphConfig } from './inbox.js';

/** The app-only scope of every Graph permission the app was granted (Mail.ReadWrite here). */
export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
export const GRAPH_BASE_URL = 'https://graph.microsoft.com';

export interface GraphFields {
  mailbox?: string | undefined;
  folder: string;
  tenant?: string | undefined;
  clientId?: string | undefined;
  clientSecret?: string | undefined;
  /** absolute */
  certificateFile?: string | undefined;
  keyFile?: string | undefined;
  pollSeconds: number;
  baseUrl?: string | undefined;
  tokenUrl?: string | undefined;
  caFile?: string | undefined;
  markKeyword: boolean;
  moveTo?: string | undefined;
}

export type GraphField = 'mailbox' | 'tenant' | 'clientId' | 'clientSecret' | 'certificateFile' | 'keyFile' | 'tokenUrl';

export const GRAPH_VARIABLES: Record<GraphField, string> = {
  mailbox: 'GRAPH_MAILBOX',
  tenant: 'GRAPH_TENANT',
  clientId: 'GRAPH_CLIENT_ID',
  clientSecret: 'GRAPH_CLIENT_SECRET',
  certificateFile: 'GRAPH_CERTIFICATE_FILE',
  keyFile: 'GRAPH_KEY_FILE',
  tokenUrl: 'GRAPH_TOKEN_URL',
};

export function parseGraphInbox(f: GraphFields, label: (field: GraphField) => string = (x) => GRAPH_VARIABLES[x]): { ok: true; graph: GraphConfig } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const mailbox = f.mailbox?.trim() ?? '';
  if (mailbox === '') problems.push(`${label('mailbox')} is required with a graph mail source: the mailbox's address`);
  const authLabel = (field: ImapAuthField): string => {
    if (field === 'user') return label('mailbox');
    if (field === 'auth' || field === 'provider' || field === 'scope' || field === 'password' || field === 'refreshToken') return field;
    return label(field);
  };
  const parsed = parseImapAuth(
    { auth: 'oauth2', provider: 'microsoft', user: mailbox, tenant: f.tenant, clientId: f.clientId, clientSecret: f.clientSecret, certificateFile: f.certificateFile, keyFile: f.keyFile, tokenUrl: f.tokenUrl, scope: GRAPH_SCOPE },
    { label: authLabel },
  );
  if (!parsed.ok) problems.push(...parsed.problems.filter((p) => !p.startsWith(`${label('mailbox')} `)));
  if (problems.length > 0 || !parsed.ok) return { ok: false, problems };
  return {
    ok: true,
    graph: {
      mailbox, folder: f.folder, auth: parsed.auth, pollSeconds: f.pollSeconds, baseUrl: (f.baseUrl ?? GRAPH_BASE_URL).replace(/\/+$/, ''),
      caFile: f.caFile, markKeyword: f.markKeyword, moveTo: f.moveTo,
    },
  };
}
