/**
 * `boxes [--json]`: for each Faspex 5 server of FASPEX5_CLIENTS, the boxes its user can read and
 * what a sweep would queue now, without queuing or remembering anything: a check of the
 * configuration (API client, key, box names, access) before the service runs. With REDIS_URL set,
 * the sweep's memory (done packages, first sweep or not) is read too, never written.
 * A failing exit status when any box cannot be read (unknown name, submit-only, refused JWT), each named
 * with the reason.
 */
import type { DestinationStream } from 'pino';
import { environmentWithDotenv, loadConfig } from '../../config/config.js';
import { IngestError, permanent } from '../../errors.js';
import type { CliCommand } from '../command.js';

interface BoxReport {
  box: string;
  id?: string | undefined;
  ok: boolean;
  error?: string;
  listed?: number;
  byStatus?: Record<string, number>;
  firstSweep?: boolean;
  wouldQueue?: Array<{ id: string; title?: string | undefined }>;
  wouldRemember?: number;
}

export const boxesCommand: CliCommand = {
  register(program, io) {
    program
      .command('boxes')
      .description('list the Faspex 5 boxes of FASPEX5_CLIENTS and what a sweep would queue now (queues nothing)')
      .option('--json', 'print JSON')
      .helpOption('-h, --help', 'show help')
      .action(async (options: { json?: boolean }) => {
        const [{ createLogger, chooseLogFormat }, { parseFaspex5Clients }, { Faspex5Session }, { createFaspexHttp }, { boxLabel }, { planSweep }, { SweepStore }] = await Promise.all([
          import('../../log/logger.js'), import('../../faspex/faspex5-clients.js'), import('../../faspex/faspex5-session.js'), import('../../faspex/http.js'),
          import('../../faspex/faspex5-box-spec.js'), import('../../sweep/sweep-plan.js'), import('../../sweep/sweep-store.js'),
        ]);
        const config = loadConfig(environmentWithDotenv(io.env, io.cwd), 'resolve', io.cwd);
        const clients = [...parseFaspex5Clients(config.faspex.faspex5Clients, io.cwd).values()];
        if (clients.length === 0) throw permanent('CONFIG', 'FASPEX5_CLIENTS names no Faspex 5 server: there is no box to list (see docs/faspex5.md)');
        const level = io.env.LOG_LEVEL ? config.logLevel : 'warn';
        const logger = createLogger({ level, destination: io.stderr as unknown as DestinationStream, format: chooseLogFormat(config.logFormat, io.stderr.isTTY === true) });
        const http = createFaspexHttp(config.faspex, logger);
        let store: InstanceType<typeof SweepStore> | undefined;
        let closeRedis = async () => {};
        if (io.env.REDIS_URL) {
          const { connectRedisTarget } = await import('../../service/redis-target.js');
          const target = await connectRedisTarget(config);
          const redis = target.connect('producer', { retryStrategy: () => null });
          redis.on('error', () => undefined);
          store = new SweepStore(redis, config.redis.prefix);
          closeRedis = async () => void (await redis.quit().catch(() => redis.disconnect()));
        }
        const servers = [];
        try {
          for (const client of clients) {
            const session = new Faspex5Session({ http, client, logger });
            const boxes: BoxReport[] = [];
            for (const spec of client.boxes) {
              const label = boxLabel(spec);
              try {
                const box = await session.findBox(spec);
                const listed = await session.listBox(box);
                const byStatus: Record<string, number> = {};
                for (const p of listed) byStatus[p.status ?? 'unknown'] = (byStatus[p.status ?? 'unknown'] ?? 0) + 1;
                const history = store ? await store.history(client.server, label) : { initialised: false };
                const done = store ? await store.done(client.server, listed.map((p) => p.id)) : new Set<string>();
                const plan = planSweep({ listed, initialised: history.initialised, backfill: client.backfill, done });
                boxes.push({ box: label, id: box.id, ok: true, listed: listed.length, byStatus, firstSweep: !history.initialised, wouldQueue: plan.queue.map((p) => ({ id: p.id, title: p.title })), wouldRemember: plan.remember.length });
              } catch (e) {
                boxes.push({ box: label, ok: false, error: e instanceof Error ? e.message : String(e) });
                // a refused JWT refuses every box of the server alike: say it once
                if (e instanceof IngestError && e.code === 'AUTH_FAILED') break;
              }
            }
            servers.push({ server: client.server, user: client.user, clientId: client.clientId, boxes });
          }
        } finally {
          await http.close();
          await closeRedis();
        }
        if (options.json) io.stdout.write(`${JSON.stringify({ servers }, null, 2)}\n`);
        else {
          for (const s of servers) {
            io.stdout.write(`${s.server} (user ${s.user}, API client ${s.clientId})\n`);
            for (const b of s.boxes) {
              if (!b.ok) {
                io.stdout.write(`  ${b.box}: ERROR ${b.error}\n`);
                continue;
              }
              const statuses = Object.entries(b.byStatus ?? {}).map(([k, n]) => `${n} ${k}`).join(', ') || 'none';
              const would = b.firstSweep && (b.wouldRemember ?? 0) > 0 ? `; first sweep: remembers ${b.wouldRemember} without downloading` : '';
              io.stdout.write(`  ${b.box}${b.id ? ` (id ${b.id})` : ''}: ${b.listed} package(s) (${statuses}); a sweep would queue ${b.wouldQueue!.length}${would}\n`);
              for (const q of b.wouldQueue ?? []) io.stdout.write(`    ${q.id}  ${q.title ?? ''}\n`);
            }
          }
        }
        const bad = servers.flatMap((s) => s.boxes.filter((b) => !b.ok).map((b) => `${s.server} ${b.box}`));
        if (bad.length > 0) throw permanent('CONFIG', `${bad.length} box(es) cannot be read: ${bad.join(', ')} (reasons above)`);
      });
  },
};
