/**
 * Faspex links in the shapes the servers write them (email.md A1), and the security gateways'
 * rewritings of them (email.md A2), for extraction tests and the generated-mail property.
 */

/** A Faspex 5 context whose base64 holds `+`, `/` and `=` (the characters gateways mangle). */
export function faspex5Context(id: string, passcode: string, salt = 0): string {
  for (let n = salt; ; n++) {
    const json = JSON.stringify({ resource: 'packages', type: 'external_download_package', id, passcode, package_id: id, email: `ext${'>'.repeat(n % 7)}?@partner.example`, n });
    const b64 = Buffer.from(json).toString('base64');
    if (b64.includes('+') && b64.includes('/') && b64.endsWith('=')) return b64;
  }
}

export const faspex5Link = (host: string, id: string, passcode: string, salt = 0, extra = '') =>
  `https://${host}/aspera/faspex/public/package?context=${encodeURIComponent(faspex5Context(id, passcode, salt))}${extra}`;

export const faspex4External = (host: string, id: number, passcode: string, expiration?: string) =>
  `https://${host}/aspera/faspex/external_deliveries/${id}?passcode=${passcode}${expiration ? `&expiration=${Buffer.from(expiration).toString('base64')}` : ''}`;

export const faspex4Received = (host: string, id: number) => `https://${host}/aspera/faspex/received/${id}`;

/** The passcode in SAMPLE_LINKS' Faspex 4 external link. */
export const SAMPLE_PASSCODE = 'c0ffee0123456789abcdef0123456789abcdef01';

/** One link of each shape the servers write, the rows of the extraction tables. */
export const SAMPLE_LINKS = {
  /** Faspex 4 external delivery */
  F4X: faspex4External('faspex.example.com', 4822, SAMPLE_PASSCODE),
  /** Faspex 4 external delivery with an expiration */
  F4XE: faspex4External('faspex.example.com', 4823, SAMPLE_PASSCODE.replace('c0', 'd1'), '2029-06-16T08:32:37Z'),
  /** Faspex 4 received package (an account's) */
  F4R: faspex4Received('faspex.example.com', 4044),
  /** Faspex 5 public link (a context) */
  F5: faspex5Link('faspex5.example.com', '9f1', 'aaaabbbbccccddddeeeeffff0000111122223333'),
  /** Faspex 5 public link, as the mail's button has it (`&redirected=true`) */
  F5R: faspex5Link('faspex5.example.com', '9f2', 'aaaabbbbccccddddeeeeffff0000111122223334', 3, '&redirected=true'),
};

const enc = encodeURIComponent;

/** Proofpoint v2: `-XX` for `%XX`, `_` for `/` (URLDefenseDecode.py, reversed). */
function proofpointV2(url: string): string {
  return url.replace(/[^A-Za-z0-9.]/g, (c) => (c === '/' ? '_' : `-${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`));
}

/** Proofpoint v3: `%`, `&`, `#` and `=` taken out of the URL, each replaced by `*`, carried in the base64 token. */
function proofpointV3(url: string): string {
  const removed: string[] = [];
  const body = url.replace(/[%&#=]/g, (c) => {
    removed.push(c);
    return '*';
  });
  return `https://urldefense.com/v3/__${body}__;${Buffer.from(removed.join('')).toString('base64url')}!!CustId!SigXyz$`;
}

/** Every gateway src/mail/extract/unwrap.ts unwraps, as it rewrites `url`. */
export const WRAPPERS: Record<string, (url: string) => string> = {
  'Safe Links': (u) => `https://eur03.safelinks.protection.outlook.com/?url=${enc(u)}&data=05%7C02%7Cx%40example.com&sdata=AbC%3D&reserved=0`,
  'Azure email safe links': (u) => `https://eu.safelink.emails.azure.net/redirect/?destination=${enc(u)}&p=bT0xMjM`,
  Barracuda: (u) => `https://linkprotect.cudasvc.com/url?a=${enc(u)}&c=E,1,AbCd&typo=1`,
  Cisco: (u) => `https://secure-web.cisco.com/1AbCdEf-TokEn_123/${enc(u)}`,
  Google: (u) => `https://www.google.com/url?q=${enc(u)}&sa=D&source=editors&ust=1700000000000000&usg=AOvVaw0`,
  Sophos: (u) => `https://eu-west-1.protection.sophos.com/?d=example.com&u=${enc(Buffer.from(u).toString('base64'))}&i=NjU&t=ZGVm&h=abc`,
  'Trend Micro': (u) => `https://imsva91-ctp.trendmicro.com/wis/clicktime/v1/query?url=${enc(u)}&umid=ABC-123&auth=x`,
  FireEye: (u) => `https://protect2.fireeye.com/v1/url?k=abc-123&q=def&e=ghi&u=${enc(u)}`,
  EsvaLabs: (u) => `https://urlsand.esvalabs.com/?u=${enc(u)}&e=abc&h=def&t=ghi`,
  'AWS SES': (u) => `https://abc123.r.us-east-1.awstrack.me/L0/${enc(u)}/1/0100018e-abc/xyz=123`,
  'Proofpoint v1': (u) => `https://urldefense.proofpoint.com/v1/url?u=${enc(u)}&k=AbC%3D%0A&r=x&m=y&s=z`,
  'Proofpoint v2': (u) => `https://urldefense.proofpoint.com/v2/url?u=${proofpointV2(u)}&d=DwMFaQ&c=x&r=y&m=z&s=w&e=`,
  'Proofpoint v3': proofpointV3,
};

/**
 * Google's own encoder (the `/url?q=` redirects of Docs, Sheets, Slides, Gmail): the target's
 * `:`, `/` and `?` stay raw, everything else reserved is percent-encoded, `=` as `%3D`, `&` as
 * `%26`, `+` as `%2B` and `%` itself as `%25` (so the target's own `%2B` arrives as `%252B`).
 */
export const googleEncoded = (u: string): string => enc(u).replace(/%3A/g, ':').replace(/%2F/g, '/').replace(/%3F/g, '?');

/** AWS SES click tracking writes the target into a path segment: `/`, `?`, `&`, `%` encoded, `:` and `=` raw. */
const sesEncoded = (u: string): string => enc(u).replace(/%3A/g, ':').replace(/%3D/g, '=');

/**
 * Each gateway as it encodes its target, where that differs from encodeURIComponent (issue 23
 * item 5): Google leaves the target's delimiters `:/?` raw; Sophos may leave its base64's `+`,
 * `/` and `=` raw; SES leaves `:` and `=` raw. The `, delimiters raw` forms are the same class
 * tried on every gateway that carries its target in a query parameter or path segment: one
 * decode must give the target back whichever characters the encoder chose to leave alone.
 */
export const NATIVE_WRAPPERS: Record<string, (url: string) => string> = {
  'Google, as Google writes it': (u) => `https://www.google.com/url?q=${googleEncoded(u)}&sa=D&source=editors&ust=1700000000000000&usg=AOvVaw0`,
  'Google, as Gmail writes it': (u) => `https://www.google.com/url?hl=en&q=${googleEncoded(u)}&source=gmail&ust=1700000000000000&usg=AOvVaw0`,
  'Sophos, base64 raw': (u) => `https://eu-west-1.protection.sophos.com/?d=example.com&u=${Buffer.from(u).toString('base64')}&i=NjU&t=ZGVm&h=abc`,
  'Sophos, URL-safe base64': (u) => `https://eu-west-1.protection.sophos.com/?d=example.com&u=${Buffer.from(u).toString('base64url')}&i=NjU&t=ZGVm&h=abc`,
  'AWS SES, as SES writes it': (u) => `https://abc123.r.us-east-1.awstrack.me/L0/${sesEncoded(u)}/1/0100018e-abc/xyz=123`,
  'Safe Links, delimiters raw': (u) => `https://eur03.safelinks.protection.outlook.com/?url=${googleEncoded(u)}&data=05%7C02&reserved=0`,
  'Azure email safe links, delimiters raw': (u) => `https://eu.safelink.emails.azure.net/redirect/?destination=${googleEncoded(u)}&p=bT0xMjM`,
  'Barracuda, delimiters raw': (u) => `https://linkprotect.cudasvc.com/url?a=${googleEncoded(u)}&c=E,1,AbCd&typo=1`,
  'Cisco, delimiters raw': (u) => `https://secure-web.cisco.com/1AbCdEf-TokEn_123/${googleEncoded(u)}`,
  'Trend Micro, delimiters raw': (u) => `https://imsva91-ctp.trendmicro.com/wis/clicktime/v1/query?url=${googleEncoded(u)}&umid=ABC-123&auth=x`,
  'FireEye, delimiters raw': (u) => `https://protect2.fireeye.com/v1/url?k=abc-123&q=def&e=ghi&u=${googleEncoded(u)}`,
  'EsvaLabs, delimiters raw': (u) => `https://urlsand.esvalabs.com/?u=${googleEncoded(u)}&e=abc&h=def&t=ghi`,
  'Proofpoint v1, delimiters raw': (u) => `https://urldefense.proofpoint.com/v1/url?u=${googleEncoded(u)}&k=AbC%3D%0A&r=x&m=y&s=z`,
};

/** Wrappers that some senders fill with the target verbatim (its own `?` and `%XX` left raw). */
export const VERBATIM_WRAPPERS: Record<string, (url: string) => string> = {
  'Google, verbatim': (u) => `https://www.google.com/url?q=${u}&sa=D&usg=AOvVaw0`,
  'Google, verbatim in url=': (u) => `https://www.google.com/url?sa=t&url=${u}&usg=AOvVaw0`,
  'Safe Links, verbatim': (u) => `https://nam12.safelinks.protection.outlook.com/?url=${u}&data=05&reserved=0`,
  'Barracuda, verbatim': (u) => `https://linkprotect.cudasvc.com/url?a=${u}&c=E,1`,
  'Trend Micro, verbatim': (u) => `https://imsva91-ctp.trendmicro.com/wis/clicktime/v1/query?url=${u}&umid=1`,
  'FireEye, verbatim': (u) => `https://protect2.fireeye.com/v1/url?k=1&u=${u}`,
  'EsvaLabs, verbatim': (u) => `https://urlsand.esvalabs.com/?u=${u}&e=1`,
  'Azure, verbatim': (u) => `https://emails.azure.microsoft.com/redirect/?destination=${u}&p=1`,
  'Cisco, verbatim': (u) => `https://secure-web.cisco.com/1AbCd/${u}`,
};
