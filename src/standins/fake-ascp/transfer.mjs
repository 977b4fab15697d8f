// The fake ascp's data side: which files a source means, where they land, and a copy that
// writes partial files as it goes and resumes from them (-k 1..3) like a real ascp; decrypting
// envelopes (--file-crypt=decrypt) as it copies.
import { Buffer } from 'node:buffer';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readSync, renameSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { cryptAt, ENVELOPE_SUFFIX, HEADER_BYTES, openKey, readHeader } from './envelope.mjs';

export const PARTIAL_SUFFIX = '.partial';

/** Store path for a FASP source path, refusing anything that climbs out of the store. */
export function storePath(store, source) {
  const root = resolve(store);
  const p = resolve(root, `.${source.startsWith('/') ? source : `/${source}`}`);
  if (p !== root && !p.startsWith(root + sep)) return undefined;
  return p;
}

/** Files for one source: a directory lands as `<dest>/<basename>/...`, a file as `<dest>/<basename>`. */
export function plan(srcPath, dest) {
  const name = basename(srcPath);
  if (statSync(srcPath).isFile()) return [{ src: srcPath, dest: join(dest, name), rel: name, size: statSync(srcPath).size }];
  const out = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile()) out.push({ src: p, dest: join(dest, name, relative(srcPath, p)), rel: join(name, relative(srcPath, p)), size: statSync(p).size });
    }
  };
  walk(srcPath);
  return out;
}

/** One file of a --file-pair-list: the source file lands at `<dest>/<destination>`. */
export function planPair(srcPath, dest, destination) {
  const target = resolve(dest, destination);
  if (target !== resolve(dest) && !target.startsWith(resolve(dest) + sep)) return undefined;
  if (!statSync(srcPath).isFile()) return undefined;
  return { src: srcPath, dest: target, rel: relative(resolve(dest), target), size: statSync(srcPath).size };
}

/**
 * --file-crypt=decrypt: an envelope opened by the passphrase lands decrypted, without its
 * suffix; `badPass` marks one the passphrase does not open (it stays as it is, or fails the
 * session with --fail-bad-filepass).
 */
export function withDecryption(file, passphrase) {
  if (!file.src.endsWith(ENVELOPE_SUFFIX)) return file;
  const header = readHeader(file.src);
  if (!header) return file;
  const opened = openKey(header, passphrase ?? '');
  if (!opened) return { ...file, badPass: true };
  const strip = (p) => p.slice(0, -ENVELOPE_SUFFIX.length);
  return { ...file, dest: strip(file.dest), rel: strip(file.rel), size: file.size - HEADER_BYTES, opened };
}

function samePrefix(aPath, bPath, length) {
  const a = openSync(aPath, 'r');
  const b = openSync(bPath, 'r');
  try {
    const bufA = Buffer.alloc(64 * 1024);
    const bufB = Buffer.alloc(64 * 1024);
    for (let pos = 0; pos < length; ) {
      const n = Math.min(bufA.length, length - pos);
      readSync(a, bufA, 0, n, pos);
      readSync(b, bufB, 0, n, pos);
      if (!bufA.subarray(0, n).equals(bufB.subarray(0, n))) return false;
      pos += n;
    }
    return true;
  } finally {
    closeSync(a);
    closeSync(b);
  }
}

/**
 * Where to start a file: 'skip' when the final file is already complete, else the offset of a
 * reusable partial file. -k 0 never reuses; -k 1 trusts sizes; -k 2/3 compare the content.
 */
export function resumePoint(file, resumeLevel) {
  // a decrypted file differs from its source byte for byte: compared by size only
  const sizeOnly = resumeLevel === 1 || file.opened !== undefined;
  if (resumeLevel > 0 && existsSync(file.dest) && statSync(file.dest).size === file.size) {
    if (sizeOnly || samePrefix(file.src, file.dest, file.size)) return { skip: true, start: file.size };
  }
  const partial = file.dest + PARTIAL_SUFFIX;
  if (resumeLevel > 0 && existsSync(partial)) {
    const have = statSync(partial).size;
    if (have <= file.size && (sizeOnly || samePrefix(file.src, partial, have))) return { skip: false, start: have };
  }
  return { skip: false, start: 0 };
}

/** An open file copy; `step(n)` copies up to n more bytes and returns how many it copied. */
export function openCopy(file, start) {
  mkdirSync(dirname(file.dest), { recursive: true });
  const partial = file.dest + PARTIAL_SUFFIX;
  const out = openSync(partial, start > 0 ? 'r+' : 'w');
  const input = openSync(file.src, 'r');
  let pos = start;
  const buf = Buffer.alloc(256 * 1024);
  return {
    get position() {
      return pos;
    },
    step(n) {
      const want = Math.min(n, file.size - pos, buf.length);
      if (want <= 0) return 0;
      const offset = file.opened ? HEADER_BYTES : 0;
      const got = readSync(input, buf, 0, want, pos + offset);
      const data = file.opened ? cryptAt(file.opened, pos, buf.subarray(0, got)) : buf.subarray(0, got);
      writeSync(out, data, 0, got, pos);
      pos += got;
      return got;
    },
    finish() {
      closeSync(out);
      closeSync(input);
      renameSync(partial, file.dest);
    },
    abandon() {
      closeSync(out);
      closeSync(input);
    },
  };
}
