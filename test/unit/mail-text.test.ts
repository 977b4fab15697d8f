import { describe, expect, it } from 'vitest';
import { cleanUrl, decodeEntities, hrefsFromHtml, urlsFromText } from '../../src/mail/extract/index.js';

const U = 'https://faspex.example.com/aspera/faspex/external_deliveries/9?passcode=ab&expiration=Zg==';

describe('urlsFromText', () => {
  it.each([
    ['bare', `Download: ${U}`, [U]],
    ['angle brackets (Outlook)', `Download Package<${U}>`, [U]],
    ['angle brackets wrapped over lines', `Download Package<${U.slice(0, 40)}\r\n${U.slice(40, 70)}\n  ${U.slice(70)}>`, [U]],
    ['<URL:...> (RFC 3986 app. C)', `see <URL:${U}> now`, [U]],
    ['URL: prefix', `URL:${U}`, [U]],
    ['square brackets from HTML-to-text', `Download Package\n[${U}]`, [U]],
    ['trailing sentence punctuation', `Go to ${U}.`, [U]],
    ['trailing mixed punctuation', `(see ${U}!?)`, [U]],
    ['quoted', `"${U}", '${U}'`, [U, U]],
    ['&gt; remnant', `&lt;${U}&gt;`, [U]],
    ['&gt; remnant at the end of a bare URL', `${U}&gt;`, [U]],
    ['&amp; inside a pasted href', `${U.replace('&', '&amp;')}`, [U]],
    ['quoted reply', `> ${U}\n> more`, [U]],
    ['faspe://', 'open faspe://host.example:33001/pkg?token=abc now', ['faspe://host.example:33001/pkg?token=abc']],
    ['balanced parentheses stay', 'https://en.example/wiki/A_(b) and', ['https://en.example/wiki/A_(b)']],
    ['Proofpoint v3 keeps its $ and *', 'https://urldefense.com/v3/__https://h.example/a*b__;Jg!!c!d$ end', ['https://urldefense.com/v3/__https://h.example/a*b__;Jg!!c!d$']],
    ['nothing', 'no links here, just http:// and words', []],
  ])('%s', (_name, text, expected) => {
    expect(urlsFromText(text)).toEqual(expected);
  });

  it('keeps order between delimited and bare URLs', () => {
    expect(urlsFromText('https://a.example/1 then <https://b.example/2> then https://c.example/3')).toEqual(['https://a.example/1', 'https://b.example/2', 'https://c.example/3']);
  });

  it('cleanUrl refuses a scheme without a host', () => {
    expect(cleanUrl('https://')).toBeUndefined();
  });
});

describe('hrefsFromHtml', () => {
  it('decodes entities in attributes and keeps order', () => {
    const html = `<p><a href="${U.replace('&', '&amp;')}">x</a><a HREF='https://b.example/&#x3F;q=1'>y</a><area href=" https://c.example/ "><a>no href</a></p>`;
    expect(hrefsFromHtml(html)).toEqual([U, 'https://b.example/?q=1', 'https://c.example/']);
  });
  it('survives broken HTML', () => {
    expect(hrefsFromHtml('<a href="https://a.example/x"><div <<<')).toEqual(['https://a.example/x']);
  });
});

describe('decodeEntities', () => {
  it.each([
    ['a&amp;b', 'a&b'],
    ['&lt;&gt;&quot;&#39;&#x2F;', `<>"'/`],
    ['&bogus; & &#0;', '&bogus; & &#0;'],
  ])('%s', (input, output) => {
    expect(decodeEntities(input)).toBe(output);
  });
});
