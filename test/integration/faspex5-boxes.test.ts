/**
 * The Faspex 5 API client's boxes against the simulator over HTTPS: exact-name lookup among the
 * user's boxes, paging past one page, statuses, a submit-only box refused, the access token
 * shared through Redis and renewed once on a 401, a refused JWT in the server's words, and a
 * package in a shared inbox or workgroup downloaded as that box's recipient entry.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { parseFaspex5Clients } from '../../src/faspex/faspex5-clients.js';
import { Faspex5Session } from '../../src/faspex/faspex5-session.js';
import { createFaspexHttp } from '../../src/faspex/http.js';
import { parsePackageLink } from '../../src/faspex/link.js';
import { createResolver } from '../../src/faspex/resolver.js';
import { clientHarness } from '../support/faspex-client-harness.js';
import { uniqueName } from '../support/temp.js';
import { ingestFailure } from '../support/ingest-failure.js';

async function setup(options: { boxes?: string[] } = {}) {
  const h = await clientHarness({ sim: { users: { alice: 'a-pw-1', bob: 'b-pw-2' } }, config: { username: undefined, password: undefined } });
  const dir = mkdtempSync(join(tmpdir(), 'fi-f5-boxes-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const api = h.sim.faspex5.addApiClient({ user: 'alice' });
  const json = JSON.parse(h.sim.faspex5.clientsJson(dir, [api])) as Record<string, Record<string, unknown>>;
  for (const v of Object.values(json)) v.boxes = options.boxes ?? ['inbox'];
  const clientsJson = JSON.stringify(json);
  const client = [...parseFaspex5Clients(clientsJson).values()][0]!;
  const redis = new Redis(inject('redisUrl'));
  onTestFinished(() => void redis.quit());
  const http = createFaspexHttp(h.config, h.logger);
  onTestFinished(() => http.close());
  const prefix = uniqueName('f5boxes');
  const session = () => new Faspex5Session({ http, client, logger: h.logger, redis, prefix });
  return { h, api, client, clientsJson, session, redis, prefix };
}

describe('Faspex 5 boxes', () => {
  it('lists every page of the own inbox, with all statuses, and filters by status', async () => {
    const { h, session } = await setup();
    h.sim.faspex5.state.pageMax = 4;
    const made = [];
    for (let i = 0; i < 10; i++) made.push(h.sim.faspex5.addPackage({ title: `p${i}`, files: { 'a.txt': 'a' }, recipients: ['alice'] }));
    h.sim.faspex5.addPackage({ title: 'bob only', files: { 'a.txt': 'a' }, recipients: ['bob'] });
    for (const [i, status] of (['expiring', 'deleting', 'deleted', 'failed', 'uploading'] as const).entries()) h.sim.faspex5.setStatus(made[i]!, status);
    const s = session();
    const all = await s.listBox({ kind: 'inbox' });
    expect(all.map((p) => p.title).sort()).toEqual(made.map((p) => p.title).sort());
    expect(new Set(all.map((p) => p.status))).toEqual(new Set(['completed', 'expiring', 'deleting', 'deleted', 'failed', 'uploading']));
    expect(h.sim.faspex5.state.listCalls.length).toBe(3); // 4 + 4 + 2
    const completed = await s.listBox({ kind: 'inbox' }, { status: 'completed' });
    expect(completed).toHaveLength(5);
  });

  it('finds shared inboxes and workgroups by exact name; unknown and submit-only boxes are refused with the reason', async () => {
    const { h, session } = await setup();
    const desk = h.sim.faspex5.addBox('shared_inbox', 'Desk', { alice: 'standard' });
    h.sim.faspex5.addBox('shared_inbox', 'Desk archive', { alice: 'standard' });
    h.sim.faspex5.addBox('workgroup', 'Drop', { alice: 'submit_only' });
    h.sim.faspex5.addBox('workgroup', 'Secret', { bob: 'standard' });
    const s = session();
    expect(await s.findBox({ kind: 'shared_inbox', name: 'Desk' })).toEqual({ kind: 'shared_inbox', name: 'Desk', id: desk.id });
    const unknown = await ingestFailure(s.findBox({ kind: 'shared_inbox', name: 'desk' }));
    expect(unknown).toMatchObject({ code: 'BOX_UNKNOWN' });
    expect(unknown.message).toMatch(/shared_inbox:desk is not among the shared inboxes that user alice belongs to .*similar names: "Desk", "Desk archive"/);
    expect(await ingestFailure(s.findBox({ kind: 'workgroup', name: 'Secret' }))).toMatchObject({ code: 'BOX_UNKNOWN' });
    const drop = await s.findBox({ kind: 'workgroup', name: 'Drop' });
    const refused = await ingestFailure(s.listBox(drop));
    expect(refused).toMatchObject({ code: 'BOX_SUBMIT_ONLY' });
    expect(refused.message).toMatch(/submit-only/);
  });

  it('shares the access token through Redis, renews it once on a 401, and shows a refused JWT in the server\'s words', async () => {
    const { h, api, session, client } = await setup();
    const a = session();
    const b = session();
    await a.listBox({ kind: 'inbox' });
    await b.listBox({ kind: 'inbox' });
    expect(h.sim.faspex5.issued.tokens).toBe(1);
    h.sim.faspex5.state.tokens.clear(); // revoked on the server
    await a.listBox({ kind: 'inbox' });
    expect(h.sim.faspex5.issued.tokens).toBe(1);
    await b.listBox({ kind: 'inbox' }); // b's copy was refused too: it takes the one a stored
    h.sim.faspex5.state.apiClients.delete(api.clientId);
    h.sim.faspex5.state.tokens.clear();
    const e = await ingestFailure(a.listBox({ kind: 'inbox' }));
    expect(e).toMatchObject({ code: 'AUTH_FAILED', retry: 'never' });
    expect(a.loginRefused).toBe('401 invalid_grant');
    expect(e.message).toContain(client.clientId);
  });

  it('downloads a package of a shared inbox and of a workgroup as that box, also when the user is a recipient too', async () => {
    const { h, clientsJson } = await setup();
    const desk = h.sim.faspex5.addBox('shared_inbox', 'Desk', { alice: 'standard' });
    const team = h.sim.faspex5.addBox('workgroup', 'Team', { alice: 'standard', bob: 'standard' });
    const both = h.sim.faspex5.addPackage({ title: 'to bob and desk', files: { 'a.txt': 'a' }, recipients: ['bob', { name: 'Desk', type: 'shared_inbox' }] });
    const group = h.sim.faspex5.addPackage({ title: 'to team', files: { 'a.txt': 'a' }, recipients: [{ name: 'Team', type: 'workgroup' }] });
    const resolver = createResolver({ ...h.config, faspex5Clients: clientsJson }, h.logger);
    onTestFinished(() => resolver.close());
    const inbox = (pkg: { links: { inbox: string } }, box?: { kind: 'shared_inbox' | 'workgroup'; id: string }) => ({ ...parsePackageLink(pkg.links.inbox), ...(box ? { box } : {}) });
    // ascli's way (the first recipient, bob) is refused: "Not authorized"
    expect((await resolver.resolve(inbox(both, { kind: 'shared_inbox', id: desk.id }))).title).toBe('to bob and desk');
    expect((await resolver.resolve(inbox(group, { kind: 'workgroup', id: team.id }))).title).toBe('to team');
    // a mail link (no box): the user is not a recipient, so a box of the user's that is
    expect((await resolver.resolve(inbox(both))).title).toBe('to bob and desk');
    const transfers = h.sim.requests.filter((r) => r.path.endsWith('transfer_spec/download')).map((r) => r.url);
    expect(transfers.some((l) => l.includes(`recipient_workgroup_id=${desk.id}`))).toBe(true);
    expect(transfers.some((l) => l.includes(`recipient_workgroup_id=${team.id}`))).toBe(true);
    expect(transfers.some((l) => l.includes('recipient_user_id='))).toBe(false);
  });
});
