/**
 * `faspex-ingest demo`: the whole pipeline on one machine with no outside server. The Faspex
 * server and ascp are the test stand-ins (clearly labelled); Redis, the IMAP server (Dovecot,
 * when installed), the listener, the queue, the workers and the dashboard are the real ones.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadServiceConfig } from '../config/config.js';
import { IngestError } from '../errors.js';
import { chooseLogFormat, createLogger } from '../log/logger.js';
import { extractPackageLinks } from '../mail/extract/index.js';
import { downloadJobOptions, enqueueDownloads } from '../queue/producer.js';
import { startService } from '../service/run-service.js';
import { DOVECOT_INSTALL_HINT, dovecotInstalled, startDovecot, type Dovecot } from '../standins/dovecot.js';
import { createFaspexSim } from '../standins/faspex-sim/index.js';
import { faspex4Notification } from '../standins/notification-mail.js';
import { FAKE_ASCP } from '../standins/fake-ascp/records.js';
import { findOnPath, missingTools, missingToolsMessage } from './demo-needs.js';

export interface DemoOptions {
  dir: string;
  dashboardPort: number;
  /** exit once every sample package is on disk (tests); otherwise run until Ctrl-C */
  exitWhenDone: boolean;
  out: (line: string) => void;
}

// Sizes and speed (below) are chosen so that a person opening the dashboard sees the
// transfers move for about a minute; with --exit (tests) they run fast.
const SAMPLES = [
  { title: 'Trailer v3', sender: 'maya.chen@northlight.example', files: { 'trailer_v3.mov': 60_000_000, 'notes.txt': 'Final grade, stereo mix.\n' }, link: 'external' as const, wrap: false },
  { title: 'Lab results 2026-11', sender: 'results@lab.example.org', files: { 'results.csv': 'sample,value\nA1,0.93\nA2,0.87\n', 'plots/summary.png': 8_000_000 }, link: 'received' as const, wrap: false },
  { title: 'Agency deck', sender: 'tom@agency.example.com', files: { 'deck.pdf': 24_000_000 }, link: 'external' as const, wrap: true },
];
const WATCHABLE_BPS = 1_000_000;
const FAST_BPS = 40_000_000;

export async function runDemo(options: DemoOptions): Promise<void> {
  const { out } = options;
  const missing = missingTools((command) => findOnPath(command));
  if (missing.length > 0) throw new IngestError('CONFIG', missingToolsMessage(missing), { retry: 'never' });
  const dir = resolve(options.dir);
  mkdirSync(dir, { recursive: true });
  out(`faspex-ingest demo — everything lives in ${dir}`);
  out('  STAND-IN Faspex server: a local simulator (src/standins/faspex-sim), not IBM software');
  out('  STAND-IN ascp: src/standins/fake-ascp/ascp copies files from the simulator; real downloads need IBM ascp');

  const sim = await createFaspexSim({ storeDir: join(dir, 'stand-in-faspex-store') });
  const packages = SAMPLES.map((s) => ({ sample: s, pkg: sim.addPackage({ title: s.title, sender: s.sender, files: s.files }) }));
  const key = join(dir, 'stand-in-ssh-key');
  writeFileSync(key, 'stand-in key: the stand-in ascp only checks that it exists\n', { mode: 0o600 });

  let dovecot: Dovecot | undefined;
  try {
    dovecot = await startDovecot({ user: 'ingest', password: 'demo-password' });
    out(`  IMAP: a real Dovecot on 127.0.0.1:${dovecot.imapPort} holding the sample notification mails`);
  } catch (e) {
    // The mail part is optional: without it the links are queued as the listener would queue them.
    if (dovecotInstalled()) out(`  IMAP: Dovecot is installed but did not start (${(e as Error).message.split('\n').filter(Boolean).join(': ')}),`);
    else out(`  IMAP: Dovecot is not installed (${DOVECOT_INSTALL_HINT} to see the mail listener too),`);
    out('        so the sample mails go straight to the link extractor');
  }

  // The stand-in ascp reads these from its environment.
  process.env.FAKE_ASCP_STORE = sim.storeDir;
  process.env.FAKE_FASPEX_SECRET = sim.tokenSecret;
  process.env.FAKE_ASCP_RATE_BPS = String(options.exitWhenDone ? FAST_BPS : WATCHABLE_BPS);
  const env: NodeJS.ProcessEnv = {
    DATA_DIR: join(dir, 'data'),
    DOWNLOAD_DIR: join(dir, 'downloads'),
    QUEUE_PREFIX: 'faspex-ingest-demo',
    FASPEX_ALLOWED_HOSTS: sim.allowEntry,
    FASPEX_CA_FILE: sim.caFile,
    FASPEX_USERNAME: sim.credentials.username,
    FASPEX_PASSWORD: sim.credentials.password,
    ASCP_PATH: FAKE_ASCP,
    ASCP_SSH_KEY: key,
    DASHBOARD_PORT: String(options.dashboardPort),
    RETRY_BASE_SECONDS: '2',
    LOG_LEVEL: 'warn',
    // --log-format / LOG_FORMAT of the demo command itself
    ...(process.env.LOG_FORMAT ? { LOG_FORMAT: process.env.LOG_FORMAT } : {}),
    ...(dovecot
      ? { IMAP_HOST: dovecot.host, IMAP_PORT: String(dovecot.imapPort), IMAP_SECURE: 'false', IMAP_USER: dovecot.user, IMAP_PASSWORD: dovecot.password }
      : {}),
  };
  const config = await loadServiceConfig(env, 'demo', dir);
  const logger = createLogger({ level: 'warn', name: 'faspex-ingest-demo', format: chooseLogFormat(config.logFormat, process.stderr.isTTY === true) });
  const service = await startService(config, 'demo', dovecot ? ['downloader', 'listener', 'dashboard'] : ['downloader', 'dashboard'], { logger });
  const dashboard = service.roles.find((r) => r.name === 'dashboard') as { url?: string } | undefined;
  out(`  dashboard: ${dashboard?.url ?? `http://127.0.0.1:${options.dashboardPort}/`}`);
  out('');

  const mails = packages.map(({ sample, pkg }) => {
    const link = sample.link === 'external' ? pkg.links.external : pkg.links.received;
    // a mail security gateway's rewriting, to show the unwrapping
    const shown = sample.wrap ? `https://eur01.safelinks.protection.outlook.com/?url=${encodeURIComponent(link)}&data=05&reserved=0` : link;
    return faspex4Notification({ link: shown, title: sample.title });
  });
  if (dovecot) {
    for (const mail of mails) await dovecot.deliver(mail);
    out(`delivered ${mails.length} sample notification mails to the inbox; the listener picks them up…`);
  } else {
    const { simpleParser } = await import('mailparser');
    for (const mail of mails) {
      const { links } = await extractPackageLinks(await simpleParser(mail), { allowlist: config.faspex.allowedHosts });
      await enqueueDownloads(service.ctx.queues.downloads, links.map((link) => ({ link, source: { type: 'demo' as const } })), downloadJobOptions(config.workers));
    }
    out(`queued the links of ${mails.length} sample notification mails…`);
  }

  const seen = new Set<string>();
  const downloads = config.downloads.dir;
  await new Promise<void>((resolveDone) => {
    const timer = setInterval(() => {
      for (const folder of existsSync(downloads) ? readdirSync(downloads) : []) {
        if (!seen.has(folder) && existsSync(join(downloads, folder, 'faspex-package.json'))) {
          seen.add(folder);
          out(`  ✓ ${join(downloads, folder)}`);
        }
      }
      if (seen.size >= SAMPLES.length) {
        clearInterval(timer);
        resolveDone();
      }
    }, 200);
    void service.done.then(() => {
      clearInterval(timer);
      resolveDone();
    });
  });
  out('');
  out(seen.size >= SAMPLES.length ? `all ${SAMPLES.length} sample packages are on disk.` : 'stopped before every sample package landed.');
  if (!options.exitWhenDone && seen.size >= SAMPLES.length) {
    out('The dashboard stays up: try `faspex-ingest status` with DATA_DIR set to the demo data folder. Ctrl-C to stop.');
    await service.done;
  } else {
    await service.stop();
  }
  await Promise.all([dovecot?.stop(), sim.close()]);
}
