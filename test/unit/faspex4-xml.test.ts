import { describe, expect, it } from 'vitest';
import { IngestError } from '../../src/errors.js';
import { decodeEntities, readPackageXml } from '../../src/faspex/faspex4-xml.js';

const FASP = 'faspe://faspex@fx.example.com:33001/abc.aspera-package/PKG%20-%20Q3?cookie=c1&amp;token=t1&amp;port=33001';
const FASP_DECODED = 'faspe://faspex@fx.example.com:33001/abc.aspera-package/PKG%20-%20Q3?cookie=c1&token=t1&port=33001';

const ENTRY = `<?xml version="1.0" encoding="UTF-8"?>
<entry>
  <id>urn:uuid:2f1c9a9e</id>
  <title>Q3 &amp; Q4 report</title>
  <delivery_id>4822</delivery_id>
  <from><name>boss@example.com</name></from>
  <to><name>ext.user@example.com</name><recipient_delivery_id>4823</recipient_delivery_id></to>
  <to><name>alice</name><recipient_delivery_id>4824</recipient_delivery_id></to>
  <note>see &lt;attached&gt;</note>
  <metadata><field name="Project">Apollo</field><field name="Ref">A&amp;B</field></metadata>
  <link rel="package" href="${FASP}"/>
  <link rel="content" href="faspe://faspex@fx.example.com:33001/abc.aspera-package/PKG%20-%20Q3/a.txt?token=t2" title="a.txt" length="12"/>
</entry>`;

describe('readPackageXml: what it reads', () => {
  it('reads every field of a single entry', () => {
    expect(readPackageXml(ENTRY)).toEqual({
      id: 'urn:uuid:2f1c9a9e',
      title: 'Q3 & Q4 report',
      deliveryId: '4822',
      recipients: [
        { name: 'ext.user@example.com', recipientDeliveryId: '4823' },
        { name: 'alice', recipientDeliveryId: '4824' },
      ],
      metadata: { Project: 'Apollo', Ref: 'A&B' },
      sender: 'boss@example.com',
      note: 'see <attached>',
      packageUrl: FASP_DECODED,
      fileLinks: [{ rel: 'content', href: 'faspe://faspex@fx.example.com:33001/abc.aspera-package/PKG%20-%20Q3/a.txt?token=t2', title: 'a.txt', length: 12 }],
    });
  });

  const cases: Array<{ name: string; xml: string; expect: Record<string, unknown> }> = [
    {
      name: 'only the package link (everything else is optional)',
      xml: `<package><link rel="package" href="${FASP}"/></package>`,
      expect: { packageUrl: FASP_DECODED, recipients: [], metadata: {}, fileLinks: [] },
    },
    {
      name: 'namespaces (default and prefixed) are ignored',
      xml: `<?xml version="1.0"?><a:entry xmlns:a="urn:a" xmlns="urn:b"><a:title>T</a:title><a:link rel="package" href="${FASP}"/></a:entry>`,
      expect: { title: 'T', packageUrl: FASP_DECODED },
    },
    {
      name: 'a BOM and leading whitespace',
      xml: `\uFEFF  \n<entry><link rel="package" href="${FASP}"/></entry>`,
      expect: { packageUrl: FASP_DECODED },
    },
    {
      name: 'numeric character references in attributes',
      xml: '<entry><link rel="package" href="faspe://h/p?a=1&#38;b=2&#x26;c=3"/></entry>',
      expect: { packageUrl: 'faspe://h/p?a=1&b=2&c=3' },
    },
    {
      name: 'an escaped entity stays escaped once (&amp;lt; → &lt;)',
      xml: '<entry><title>a &amp;lt; b</title><link rel="package" href="faspe://h/p"/></entry>',
      expect: { title: 'a &lt; b' },
    },
    {
      name: 'CDATA is taken verbatim',
      xml: '<entry><note><![CDATA[1 &amp; 2 <b>]]></note><link rel="package" href="faspe://h/p"/></entry>',
      expect: { note: '1 &amp; 2 <b>' },
    },
    {
      name: 'Atom author as sender, summary as note',
      xml: '<entry><author><name>Bob</name><email>b@x</email></author><summary>hi</summary><link rel="package" href="faspe://h/p"/></entry>',
      expect: { sender: 'Bob', note: 'hi' },
    },
    {
      name: 'a feed: the first entry with a package link',
      xml: `<feed><link rel="next" href="https://fx/inbox.atom?page=1"/><entry><title>no link</title></entry><entry><title>second</title><link rel="package" href="${FASP}"/></entry></feed>`,
      expect: { title: 'second', packageUrl: FASP_DECODED, fileLinks: [] },
    },
    {
      name: 'rel values are case-insensitive; self/alternate links are not files',
      xml: '<entry><link rel="PACKAGE" href="faspe://h/p"/><link rel="self" href="https://x"/><link rel="alternate" href="https://y"/></entry>',
      expect: { packageUrl: 'faspe://h/p', fileLinks: [] },
    },
  ];
  it.each(cases)('$name', ({ xml, expect: expected }) => {
    expect(readPackageXml(xml)).toMatchObject(expected);
  });

  it('picks the feed entry by delivery id or recipient delivery id', () => {
    const feed = `<feed>
      <entry><title>one</title><delivery_id>1</delivery_id><to><name>a</name><recipient_delivery_id>11</recipient_delivery_id></to><link rel="package" href="faspe://h/1"/></entry>
      <entry><title>two</title><delivery_id>2</delivery_id><to><name>a</name><recipient_delivery_id>22</recipient_delivery_id></to><link rel="package" href="faspe://h/2"/></entry>
    </feed>`;
    expect(readPackageXml(feed, { deliveryId: '22' }).title).toBe('two');
    expect(readPackageXml(feed, { deliveryId: '2' }).title).toBe('two');
    expect(readPackageXml(feed, { deliveryId: '1' }).title).toBe('one');
    expect(() => readPackageXml(feed, { deliveryId: '3' })).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });

  it('a single entry is read whatever deliveryId is asked for (the server chose it)', () => {
    expect(readPackageXml(ENTRY, { deliveryId: '9999' }).title).toBe('Q3 & Q4 report');
  });
});

describe('readPackageXml: what it refuses', () => {
  const bomb = ['<?xml version="1.0"?>', '<!DOCTYPE lolz [', '<!ENTITY lol "lol">',
    ...Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`),
    ']>', '<entry><title>&lol9;</title><link rel="package" href="faspe://h/&lol9;"/></entry>'].join('\n');

  const cases: Array<{ name: string; body: string; code: string; message: RegExp }> = [
    { name: 'HTML login page (doctype)', body: '<!DOCTYPE html>\n<html><body><form>login</form></body></html>', code: 'LINK_EXPIRED', message: /web page instead of the package description: the link has expired, was already used, or the passcode is wrong/ },
    { name: 'HTML without doctype', body: '<html lang="en"><head></head></html>', code: 'LINK_EXPIRED', message: /web page/ },
    { name: 'HTML after a comment', body: '<!-- x -->\n<!doctype HTML><html></html>', code: 'LINK_EXPIRED', message: /web page/ },
    { name: 'XHTML with an XML declaration', body: '<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>', code: 'LINK_EXPIRED', message: /web page/ },
    { name: 'XML without any link', body: '<entry><title>x</title></entry>', code: 'PACKAGE_DELETED', message: /no download link: it was probably deleted/ },
    { name: 'XML with only per-file links', body: '<entry><link rel="content" href="faspe://h/a"/></entry>', code: 'PACKAGE_DELETED', message: /deleted/ },
    { name: 'package link with an empty href', body: '<entry><link rel="package" href=""/></entry>', code: 'PACKAGE_DELETED', message: /deleted/ },
    { name: 'an empty feed', body: '<feed></feed>', code: 'PACKAGE_DELETED', message: /empty/ },
    { name: 'a billion-laughs DOCTYPE', body: bomb, code: 'BAD_RESPONSE', message: /DOCTYPE or entities, which is refused/ },
    { name: 'an external entity', body: '<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]><entry>&x;</entry>', code: 'BAD_RESPONSE', message: /refused/ },
    { name: 'JSON', body: '{"error":{"user_message":"nope"}}', code: 'BAD_RESPONSE', message: /not XML/ },
    { name: 'an empty body', body: '', code: 'BAD_RESPONSE', message: /not XML/ },
    { name: 'truncated XML', body: '<entry><title>x</title><link rel="package" href="faspe://h/p"/>', code: 'BAD_RESPONSE', message: /not well-formed/ },
  ];
  it.each(cases)('$name → $code', ({ body, code, message }) => {
    let caught: unknown;
    try {
      readPackageXml(body);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(IngestError);
    expect((caught as IngestError).code).toBe(code);
    expect((caught as IngestError).retry).toBe('never');
    expect((caught as IngestError).message).toMatch(message);
  });

  it('refuses the bomb without expanding it (fast, no memory growth)', () => {
    const before = process.memoryUsage().heapUsed;
    const started = Date.now();
    for (let i = 0; i < 100; i++) expect(() => readPackageXml(bomb)).toThrow();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(50 * 1024 * 1024);
  });
});

describe('decodeEntities', () => {
  it.each([
    ['a&amp;b', 'a&b'],
    ['&lt;&gt;&quot;&apos;', `<>"'`],
    ['&#233;&#xE9;', 'éé'],
    ['&amp;amp;', '&amp;'],
    ['&unknown; &AMP;', '&unknown; &AMP;'],
    ['&#0; &#xD800; &#x110000;', '&#0; &#xD800; &#x110000;'],
    ['no entities', 'no entities'],
  ])('%s → %s', (input, output) => {
    expect(decodeEntities(input)).toBe(output);
  });
});
