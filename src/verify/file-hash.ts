/**
 * SHA-256 of a file, streamed in fixed-size chunks: memory stays flat whatever the file's size
 * (bench/verify-memory.ts measures it on a 2 GB sparse file).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** Read size: large enough that hashing, not system calls, is the cost; small enough to stay flat. */
const CHUNK_BYTES = 1024 * 1024;

export async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK_BYTES, signal })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
