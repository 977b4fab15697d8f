/**
 * Everything a real `faspex-ingest` process needs to run against the test stand-ins: the test
 * Redis, a Dovecot, the Faspex simulator and the fake ascp. Shared by the end-to-end, crash and
 * secrets suites and the benchmarks.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Dovecot } from '../../src/standins/dovecot.js';
import type { FaspexSim } from '../../src/standins/faspex-sim/index.js';

import { FAKE_ASCP } from '../../src/standins/fake-ascp/records.js';

export { FAKE_ASCP };

export function serviceEnv(o: { redisUrl: string; prefix: string; dovecot: Dovecot; sim: FaspexSim; dir: string; dashboardPort?: number; extra?: Record<string, string> }): Record<string, string> {
  const key = join(o.dir, 'aspera_tokenauth_id_rsa');
  writeFileSync(key, 'not a real key: the fake ascp only checks that it exists\n', { mode: 0o600 });
  return {
    REDIS_URL: o.redisUrl,
    QUEUE_PREFIX: o.prefix,
    DATA_DIR: join(o.dir, 'data'),
    DOWNLOAD_DIR: join(o.dir, 'downloads'),
    IMAP_HOST: o.dovecot.host,
    IMAP_PORT: String(o.dovecot.imapPort),
    IMAP_SECURE: 'false',
    IMAP_USER: o.dovecot.user,
    IMAP_PASSWORD: o.dovecot.password,
    FASPEX_ALLOWED_HOSTS: o.sim.allowEntry,
    FASPEX_CA_FILE: o.sim.caFile,
    FASPEX_USERNAME: o.sim.credentials.username,
    FASPEX_PASSWORD: o.sim.credentials.password,
    ASCP_PATH: FAKE_ASCP,
    ASCP_SSH_KEY: key,
    FAKE_ASCP_STORE: o.sim.storeDir,
    FAKE_FASPEX_SECRET: o.sim.tokenSecret,
    FAKE_ASCP_STATE_DIR: join(o.dir, 'ascp-state'),
    DASHBOARD_PORT: String(o.dashboardPort ?? 0),
    RETRY_BASE_SECONDS: '1',
    RETRY_MAX_SECONDS: '2',
    WORKER_LOCK_SECONDS: '5',
    // a SIGKILLed listener's lease must run out before its restart reads mail again
    LISTENER_LEASE_SECONDS: '3',
    LOG_LEVEL: 'info',
    ...o.extra,
  };
}
