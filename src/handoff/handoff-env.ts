/**
 * The environment ON_COMPLETE_COMMAND runs with: the package's facts, and only the harmless
 * part of the service's own environment. Never inherited whole: the service's environment holds
 * IMAP and Faspex passwords, REDIS_URL and the webhook secret, and a hand-off script (or
 * whatever it calls) must not see them. Pure.
 */
import { join } from 'node:path';
import { MANIFEST_NAME } from '../ascp/manifest.js';

/** What a program needs to start and behave (find its tools, its home, locale, time zone, temp). */
const PASSED_THROUGH = ['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TZ', 'TMPDIR', 'SHELL'] as const;

export interface HandoffFacts {
  folder: string;
  title?: string;
  sender?: string;
  inbox?: string;
}

export function handoffEnvironment(facts: HandoffFacts, base: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PASSED_THROUGH) {
    const value = base[name];
    if (value !== undefined) env[name] = value;
  }
  env.FASPEX_INGEST_PACKAGE_DIR = facts.folder;
  env.FASPEX_INGEST_MANIFEST = join(facts.folder, MANIFEST_NAME);
  env.FASPEX_INGEST_TITLE = facts.title ?? '';
  env.FASPEX_INGEST_SENDER = facts.sender ?? '';
  env.FASPEX_INGEST_INBOX = facts.inbox ?? '';
  return env;
}
