import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { parseAllowlist } from '../../src/faspex/allowlist.js';
import { extractPackageLinks, MIMECAST_WARNING } from '../../src/mail/extract/index.js';
import { maskText } from '../../src/log/secrets.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'mail');
const P1 = '0123456789abcdef0123456789abcdef01234567';
const F4X = `https://faspex.example.com/aspera/faspex/external_deliveries/1017?passcode=${P1}&expiration=MjAyOS0wNi0xNlQwODozMjozN1o=`;
const F4R = 'https://faspex.example.com/aspera/faspex/received/4242';
const CTX =
  'eyJyZXNvdXJjZSI6InBhY2thZ2VzIiwidHlwZSI6ImV4dGVybmFsX2Rvd25sb2FkX3BhY2thZ2UiLCJpZCI6IjlmMSIsInBhc3Njb2RlIjoiYWFhYWJiYmJjY2NjZGRkZGVlZWVmZmZmMDAwMDExMTEyMjIyMzMzMyIsInBhY2thZ2VfaWQiOiJhQmNEMTIzNCIsImVtYWlsIjoiZXh0QHBhcnRuZXIuZXhhbXBsZSJ9';
const F5 = `https://faspex5.example.com/aspera/faspex/public/package?context=${CTX}`;
const FASP = 'faspe://xfer.faspex.example.com:33001/4a2b8c1d-1111-2222-3333-444455556666.aspera-package/PKG?token=ATV7_faketoken';
const ALLOW = parseAllowlist('faspex.example.com, faspex5.example.com, xfer.faspex.example.com');

async function extract(file: string, allowlist = ALLOW) {
  const parsed = await simpleParser(readFileSync(join(FIXTURES, file)));
  return extractPackageLinks(parsed, { allowlist });
}

describe('extractPackageLinks on fixtures', () => {
  it.each([
    ['f4-external.eml', [[F4X, 'faspex4-external']], 'Faspex 4 external: HTML href with &amp; and the same link in text, one link'],
    ['f4-received.eml', [[F4R, 'faspex4-received']], 'Faspex 4 registered: trailing "." stripped; the login page is dropped'],
    ['f5-received-button.eml', [[`${F5}&redirected=true`, 'faspex5-public']], 'Faspex 5: the link is only in the HTML button'],
    ['outlook-inline-forward.eml', [[F4X, 'faspex4-external']], 'Outlook text forward: <...> URL with a line break inside'],
    ['gmail-forward.eml', [[F4R, 'faspex4-received']], 'Gmail inline forward'],
    ['forward-as-attachment.eml', [[F4X, 'faspex4-external']], 'message/rfc822 attachment, re-parsed'],
    ['safelinks-proofpoint.eml', [[F4X, 'faspex4-external']], 'Safe Links around Proofpoint v2, in text and HTML'],
    ['quoted-printable.eml', [[F4X, 'faspex4-external']], 'QP soft breaks and =3D'],
    ['html-only.eml', [[F5, 'faspex5-public']], 'HTML only (mailparser derives text with [url])'],
    ['reply-quoting.eml', [[F4X, 'faspex4-external']], 'a reply quoting the link with "> "'],
    ['package-downloaded.eml', [[F4R, 'faspex4-received']], 'a "downloaded" receipt: same shape, same job id as the original, so no new download'],
    ['submission-invitation.eml', [], 'submission/dropbox invitations are upload forms'],
    ['tnef.eml', [[F4R, 'faspex4-received']], 'winmail.dat beside a text part'],
    ['faspe-header.eml', [[FASP, 'fasp-url']], 'X-Aspera-Filepkg-Location header and the same faspe:// URL in text'],
  ])('%s', async (file, expected) => {
    const { links, warnings } = await extract(file);
    expect(links.map((l) => [l.url, l.kind])).toEqual(expected);
    expect(warnings).toEqual([]);
  });

  it('reports a Mimecast-wrapped link as a warning, not a link', async () => {
    const { links, warnings } = await extract('mimecast.eml');
    expect(links).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(MIMECAST_WARNING);
    expect(warnings[0]).toContain('faspex.example.com');
  });

  it('reports a look-alike host as a warning, never a link, and leaves its passcode out', async () => {
    const { links, warnings } = await extract('lookalike.eml');
    expect(links).toEqual([]);
    expect(warnings).toEqual(['a Faspex-shaped link to faspex.example.com.evil.example was ignored: that host is not in FASPEX_ALLOWED_HOSTS']);
    const withoutAllowlist = await simpleParser(readFileSync(join(FIXTURES, 'lookalike.eml'))).then((p) => extractPackageLinks(p));
    expect(withoutAllowlist.links).toHaveLength(1);
  });

  it('registers passcodes and contexts as secrets on sight', async () => {
    await extract('f5-received-button.eml');
    await extract('f4-external.eml');
    expect(maskText(`x ${CTX} y`)).not.toContain(CTX);
    expect(maskText(`x ${P1} y`)).not.toContain(P1);
  });

  it('stops opening attached messages beyond maxDepth', async () => {
    const parsed = await simpleParser(readFileSync(join(FIXTURES, 'forward-as-attachment.eml')));
    const result = await extractPackageLinks(parsed, { maxDepth: 0 });
    expect(result.links).toEqual([]);
    expect(result.warnings[0]).toMatch(/levels deep/);
  });

  it('opens a forward of a forward (nested message/rfc822)', async () => {
    const inner = readFileSync(join(FIXTURES, 'forward-as-attachment.eml'), 'utf8');
    const outer = `From: x@studio.example\r\nSubject: FW: FW\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="O"\r\n\r\n--O\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--O\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n${inner}\r\n--O--\r\n`;
    const result = await extractPackageLinks(await simpleParser(outer));
    expect(result.links.map((l) => l.url)).toEqual([F4X]);
  });

  it('keeps links in order of appearance and one per package', async () => {
    const mail = `From: a@b.example\r\nSubject: two\r\nContent-Type: text/plain\r\n\r\nfirst ${F4R}\r\nsecond ${F4X}\r\nagain ${F4R}#frag\r\nhttp://FASPEX.example.com/aspera/faspex/received/4242\r\n`;
    const result = await extractPackageLinks(await simpleParser(mail));
    // the http:// copy names the same package (same job id): only the first form counts
    expect(result.links.map((l) => l.url)).toEqual([F4R, F4X]);
  });
});
