import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { parsePackageLink } from '../../src/faspex/link.js';
import { createResolver } from '../../src/faspex/resolver.js';
import { createLogger } from '../../src/log/logger.js';

describe('a raw faspe:// link', () => {
  it('is refused, before anything is contacted, when its transfer host is not allowed (even with a token)', async () => {
    const config = loadConfig({ FASPEX_ALLOWED_HOSTS: 'faspex.example.com' }, 'resolve', '/tmp');
    const resolver = createResolver(config.faspex, createLogger({ level: 'silent' }));
    try {
      const link = parsePackageLink('faspe://faspex@evil.example.org:33001/0123abcd-0000.aspera-package/PKG%20-%20x?token=ATV2_s3cret&port=33001');
      await expect(resolver.resolve(link)).rejects.toMatchObject({
        code: 'HOST_NOT_ALLOWED',
        retry: 'never',
        message: 'the transfer host evil.example.org of this faspe:// link is not in FASPEX_ALLOWED_HOSTS, so nothing was transferred',
      });
    } finally {
      await resolver.close();
    }
  });
});
