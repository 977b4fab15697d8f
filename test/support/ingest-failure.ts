/** Tests that expect a refusal in the product's own terms: an IngestError, with its code and retry decision. */
import { IngestError } from '../../src/errors.js';

/** The IngestError `p` rejects with; the test fails if `p` resolves, and any other error is thrown on as it was. */
export async function ingestFailure(p: Promise<unknown>): Promise<IngestError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof IngestError) return e;
    throw e;
  }
  throw new Error('expected an IngestError, but it succeeded');
}
