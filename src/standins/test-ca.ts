/**
 * A throw-away certificate authority made with the real `openssl` CLI, so TLS tests exercise
 * the same verification path as production (no NODE_TLS_REJECT_UNAUTHORIZED, no mocks): a CA
 * key and certificate, and a server certificate for 127.0.0.1 and localhost (in the SAN, which
 * is what Node checks) signed by it.
 *
 * `getTestCa()` is cached per process (openssl takes a few hundred ms); `createTestCa()` makes an
 * independent one, e.g. a server whose certificate the client must NOT trust.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCa {
  dir: string;
  /** PEM file of the CA certificate: what FASPEX_CA_FILE points at */
  caFile: string;
  caPem: string;
  serverCertFile: string;
  serverKeyFile: string;
  serverCertPem: string;
  serverKeyPem: string;
}

let cached: Promise<TestCa> | undefined;
const made: string[] = [];

export function getTestCa(): Promise<TestCa> {
  cached ??= createTestCa('shared');
  return cached;
}

export async function createTestCa(label = 'ca'): Promise<TestCa> {
  const dir = mkdtempSync(join(tmpdir(), `fi-test-ca-${label}-`));
  made.push(dir);
  const p = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => run('openssl', args, { cwd: dir });

  await openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('ca.key'), '-out', p('ca.pem'),
    '-days', '2', '-subj', `/CN=faspex-ingest test CA ${label}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  await openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', '/CN=127.0.0.1');
  writeFileSync(p('server.ext'), [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '',
  ].join('\n'));
  await openssl('x509', '-req', '-in', p('server.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial',
    '-out', p('server.pem'), '-days', '2', '-extfile', p('server.ext'));

  return {
    dir,
    caFile: p('ca.pem'),
    caPem: readFileSync(p('ca.pem'), 'utf8'),
    serverCertFile: p('server.pem'),
    serverKeyFile: p('server.key'),
    serverCertPem: readFileSync(p('server.pem'), 'utf8'),
    serverKeyPem: readFileSync(p('server.key'), 'utf8'),
  };
}

// The CA key is a secret of the test run only: remove every generated folder when the process ends.
process.once('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});
