/**
 * The simulated Faspex 5 mailboxes (faspex5-boxes.md §1-§3), for a user's access token:
 *   GET api/v5/account                                   the user (id, name, email)
 *   GET api/v5/{inbox|inbox_all|…}/packages              offset, limit, status, changed_since_date
 *   GET api/v5/{shared_inboxes|workgroups}               q: partial, case-insensitive name match
 *   GET api/v5/{shared_inboxes|workgroups}/{id}/packages offset, limit, status (no changed_since_date)
 *   GET api/v5/{shared_inboxes|workgroups}/{id}/members
 * Refusals as the reference has them: an unknown mailbox type → 400 InvalidMailboxParam (1025);
 * a box the user is not in, or only may submit to → 403 NoAccess (1504); an unknown box → 404.
 * A page holds at most `state.pageMax` packages whatever `limit` asks, so clients must page.
 */
import type { ServerResponse } from 'node:http';
import { send } from './faults.js';
import type { AccessGrant, Faspex5Box, Faspex5Package, Faspex5State } from './faspex5-sim.js';

type Res = ServerResponse;
const json = (res: Res, status: number, body: unknown) => send(res, status, 'application/json; charset=utf-8', JSON.stringify(body));

const MAILBOXES = new Set(['inbox', 'inbox_history', 'inbox_all', 'inbox_all_history', 'outbox', 'outbox_history', 'pending', 'pending_history', 'all', 'global']);
const BOX_TYPE = { shared_inboxes: 'shared_inbox', workgroups: 'workgroup' } as const;

/** Whether `user` may read `box`'s packages and download as it (at least standard access). */
export function canRead(box: Faspex5Box, user: string): boolean {
  const access = box.members.get(user);
  return access !== undefined && access !== 'submit_only';
}

/** Whether `user` sees `pkg` at all: a user recipient, or a reading member of a box recipient. */
export function userSees(state: Faspex5State, pkg: Faspex5Package, user: string): boolean {
  return pkg.recipients.some((r) => (r.type === 'user' && r.name === user) || ((r.type === 'shared_inbox' || r.type === 'workgroup') && boxReadable(state, r.id, user)));
}

function boxReadable(state: Faspex5State, id: string, user: string): boolean {
  const box = state.boxes.get(id);
  return box !== undefined && canRead(box, user);
}

/** Handles the path when it is one of the box routes; false otherwise. */
export function routeBoxes(res: Res, state: Faspex5State, apiPath: string, url: URL, grant: AccessGrant | undefined): boolean {
  const account = apiPath === '/account';
  const mailbox = /^\/([a-z_]+)\/packages$/.exec(apiPath);
  const boxes = /^\/(shared_inboxes|workgroups)$/.exec(apiPath);
  const inBox = /^\/(shared_inboxes|workgroups)\/([^/]+)\/(packages|members)$/.exec(apiPath);
  if (!account && !mailbox && !boxes && !inBox) return false;
  if (!grant) {
    json(res, 401, { error: 'unauthorized', message: 'Authentication required' });
    return true;
  }
  if (grant.kind !== 'user') {
    json(res, 403, { error: 'forbidden', message: 'Not authorized' });
    return true;
  }
  const user = grant.user;
  if (account) {
    json(res, 200, { id: state.userId(user), name: user, email: user.includes('@') ? user : `${user}@example.com`, user_type: 'internal' });
  } else if (mailbox) {
    if (!MAILBOXES.has(mailbox[1]!)) {
      json(res, 400, { error: 'InvalidMailboxParam', code: 1025, message: 'Invalid mailbox' });
      return true;
    }
    const type = mailbox[1]!;
    const own = (p: Faspex5Package) => p.recipients.some((r) => r.type === 'user' && r.name === user);
    const visible = type.startsWith('inbox_all') ? (p: Faspex5Package) => userSees(state, p, user) : type.startsWith('inbox') ? own : () => false;
    state.listCalls.push(`${apiPath}?${url.searchParams.toString()}`);
    page(res, state, url, [...state.packages.values()].filter(visible), true);
  } else if (boxes) {
    const type = BOX_TYPE[boxes[1] as keyof typeof BOX_TYPE];
    const q = (url.searchParams.get('q') ?? '').toLowerCase();
    const mine = [...state.boxes.values()].filter((b) => b.type === type && b.members.has(user) && b.name.toLowerCase().includes(q));
    json(res, 200, { [boxes[1]!]: mine.map((b) => ({ id: b.id, name: b.name, description: '', user_can_manage: false, submitters_instructions: '' })), total_count: mine.length, offset: 0, limit: mine.length });
  } else if (inBox) {
    const box = state.boxes.get(decodeURIComponent(inBox[2]!));
    const type = BOX_TYPE[inBox[1] as keyof typeof BOX_TYPE];
    if (!box || box.type !== type) {
      json(res, 404, { error: type === 'workgroup' ? 'WorkgroupNotFound' : 'SharedInboxNotFound', message: 'Not found' });
    } else if (!canRead(box, user)) {
      json(res, 403, { error: 'NoAccess', code: 1504, message: 'User does not have access.' });
    } else if (inBox[3] === 'members') {
      const members = [...box.members.entries()].map(([name, access]) => ({ id: state.userId(name), user_id: state.userId(name), type: 'user', name, email: name, access, status: 'active' }));
      json(res, 200, { members, total_count: members.length, offset: 0, limit: members.length });
    } else {
      state.listCalls.push(`${apiPath}?${url.searchParams.toString()}`);
      page(res, state, url, [...state.packages.values()].filter((p) => p.recipients.some((r) => r.type === type && r.id === box.id)), false);
    }
  }
  return true;
}

/** One page of `all`, newest first, after the filters this endpoint knows. */
function page(res: Res, state: Faspex5State, url: URL, all: Faspex5Package[], mailbox: boolean) {
  const q = url.searchParams;
  const status = q.get('status');
  const since = mailbox ? q.get('changed_since_date') : null;
  const wanted = all
    .filter((p) => !status || status.split(',').includes(p.status))
    .filter((p) => !since || p.lastModified >= since)
    .sort((a, b) => Number(b.id) - Number(a.id));
  const offset = Math.max(0, Number(q.get('offset') ?? '0') || 0);
  const limit = Math.min(state.pageMax, Math.max(1, Number(q.get('limit') ?? '100') || 100));
  const packages = wanted.slice(offset, offset + limit).map((p) => ({
    id: p.id, title: p.title, status: p.status, state: p.status === 'deleted' ? 'deleted' : 'released', created_time: p.createdAt, last_modified: p.lastModified,
    total_bytes: p.stored.totalBytes, total_files: p.stored.files.length, archived: false,
    sender: { id: '1', name: p.sender, email: p.sender },
    recipients: p.recipients.map((r) => ({ id: r.id, name: r.name, recipient_type: r.type })),
  }));
  json(res, 200, { total_count: wanted.length, offset, limit, packages });
}
