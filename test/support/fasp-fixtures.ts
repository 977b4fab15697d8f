/** The seed Faspex 4 package link shared by the FASP unit and CLI tests. */
export const SEED_COOKIE =
  'aspera.faspex20:d:176cc5df-2df8-4c09-ae93-2b39f3e0ed7b:dG9ibw:eyJfcGtnX3V1aWQiOiIwMDJkZTM4NC04NWJhLTRhM2MtOTIzOS1hYWU1N2Y2NTc4MTQiLCJfcGtnX25hbWUiOiJ0ZXN0IiwiX2NyZWF0ZWRfdXRjIjoiMjAxNC8wNS8yNiAxMzo0ODozNyArMDAwMCJ9:dGVzdA';

export const SEED_URL =
  `faspe://faspex@acme-faspex:33001/002de384-85ba-4a3c-9239-aae57f657814.aspera-package/PKG%20-%20test?cookie=${SEED_COOKIE}` +
  '&port=33001&policy=fair&targetrate=45000&minrate=0&enc=aes128&fallback=yes&httpport=443&auth=no&createpath=no&lockpolicy=yes&lockminrate=yes&bwcap=100000&v=2';

export const SEED_SOURCE = '/002de384-85ba-4a3c-9239-aae57f657814.aspera-package/PKG - test';
