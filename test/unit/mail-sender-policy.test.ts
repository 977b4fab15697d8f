import { describe, expect, it } from 'vitest';
import { checkSender, forwarderAllowed, parseAuthResults } from '../../src/mail/sender-policy.js';

const policy = { allowedForwarders: ['bob@studio.example', 'partner.example', '*@post.example'], authservId: 'mx.example.com' };

describe('checkSender', () => {
  it.each([
    ['dmarc pass', 'bob@studio.example', ['mx.example.com; spf=pass smtp.mailfrom=studio.example; dmarc=pass (p=reject) header.from=studio.example'], true],
    ['aligned dkim pass', 'ann@partner.example', ['mx.example.com 1; dkim=pass header.d=partner.example header.s=sel; dmarc=none'], true],
    ['a sub-domain of an allowed domain is not allowed', 'ann@mail.partner.example', ['mx.example.com; dmarc=pass'], false],
    ['unaligned dkim', 'ann@partner.example', ['mx.example.com; dkim=pass header.d=mailer.example; dmarc=fail'], false],
    ['dmarc fail', 'bob@studio.example', ['mx.example.com; dmarc=fail header.from=studio.example'], false],
    ['forged A-R from another server is ignored', 'bob@studio.example', ['evil.example; dmarc=pass', 'mx.example.com; dmarc=fail'], false],
    ['only the topmost of ours counts', 'bob@studio.example', ['mx.example.com; dmarc=fail', 'mx.example.com; dmarc=pass'], false],
    ['none of ours', 'bob@studio.example', ['other.example; dmarc=pass'], false],
    ['unknown forwarder', 'eve@studio.example', ['mx.example.com; dmarc=pass'], false],
    ['*@domain entry', 'x@post.example', ['mx.example.com; dmarc=pass'], true],
    ['comments do not fool the parser', 'bob@studio.example', ['mx.example.com; dmarc=fail (dmarc=pass) header.from=studio.example'], false],
    ['case-insensitive', 'Bob@Studio.Example', ['MX.example.com; DMARC=Pass'], true],
  ])('%s', (_name, from, ar, ok) => {
    expect(checkSender({ from, authenticationResults: ar }, policy).ok).toBe(ok);
  });

  it('accepts dkim of a parent domain (relaxed alignment), not of a sibling', () => {
    const sub = { ...policy, allowedForwarders: ['mail.partner.example'] };
    expect(checkSender({ from: 'a@mail.partner.example', authenticationResults: ['mx.example.com; dkim=pass header.d=partner.example'] }, sub)).toEqual({ ok: true, via: 'dkim' });
    expect(checkSender({ from: 'a@mail.partner.example', authenticationResults: ['mx.example.com; dkim=pass header.d=other.partner.example'] }, sub).ok).toBe(false);
  });

  it('needs a From address', () => {
    expect(checkSender({ from: undefined, authenticationResults: [] }, policy)).toEqual({ ok: false, reason: 'the mail has no From address' });
  });

  it('forwarderAllowed: a domain entry matches the exact domain only', () => {
    expect(forwarderAllowed('a@partner.example', 'partner.example', ['partner.example'])).toBe(true);
    expect(forwarderAllowed('a@evilpartner.example', 'evilpartner.example', ['partner.example'])).toBe(false);
  });

  it('parseAuthResults reads methods and properties across folded lines', () => {
    expect(parseAuthResults('mx.example.com;\r\n\tdkim=pass (2048-bit key) header.d=a.example header.i=@a.example;\r\n\tspf=pass smtp.mailfrom=a.example')).toEqual({
      authservId: 'mx.example.com',
      results: [
        { method: 'dkim', result: 'pass', props: { 'header.d': 'a.example', 'header.i': '@a.example' } },
        { method: 'spf', result: 'pass', props: { 'smtp.mailfrom': 'a.example' } },
      ],
    });
  });
});
