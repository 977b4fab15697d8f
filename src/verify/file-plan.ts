/**
 * From what the server lists to what a transfer should leave on disk. Pure.
 *
 * Paths on disk: ascp lands the package's one source folder (`PKG - <title>`) inside the package
 * folder, so a listed `a/b.mov` is `PKG - <title>/a/b.mov` there. A file list (a filter) keeps
 * that layout: each wanted file goes to ascp as a source / destination pair.
 *
 * Encrypted files are `<name>.aspera-env` on the server. Decrypted on receive they land as
 * `<name>`, of a size the server does not list (it lists the envelope's); kept encrypted, they
 * land as listed.
 */
import { permanent } from '../errors.js';
import type { PackageFile } from '../faspex/resolved-package.js';
import type { ExpectedFile } from './compare-files.js';
import { isFiltering, isWanted, type FileFilter } from './file-filter.js';

export const ENVELOPE_SUFFIX = '.aspera-env';

export interface FilePlan {
  /** what must be on disk afterwards (relative to the package folder); undefined: the server listed nothing */
  expected: ExpectedFile[] | undefined;
  /** a filtered download: the pairs for ascp's --file-pair-list; undefined: the whole package */
  pairs?: Array<{ source: string; destination: string }>;
  /** listed files the filter leaves on the server */
  skipped: Array<{ path: string; size?: number }>;
}

export interface PlanInput {
  /** the server's list, paths relative to the package's content folder */
  listed: readonly PackageFile[] | undefined;
  /** the transfer's source paths */
  sources: readonly string[];
  filter: FileFilter;
  decrypt: boolean;
}

export function isEnvelope(path: string): boolean {
  return path.endsWith(ENVELOPE_SUFFIX) && path.length > ENVELOPE_SUFFIX.length && !path.endsWith(`/${ENVELOPE_SUFFIX}`);
}

/** A server-given path, made relative and refused when it could mean anything but a file inside. */
export function listedPath(raw: string): string {
  const p = raw.replace(/^\/+/, '');
  // eslint-disable-next-line no-control-regex
  if (p === '' || /[\u0000-\u001f]/.test(p) || p.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw permanent('UNSAFE_PATH', `the server lists a file as ${JSON.stringify(raw.slice(0, 80))}, which is not a plain path inside the package`);
  }
  return p;
}

export function planFiles(input: PlanInput): FilePlan {
  const filtering = isFiltering(input.filter);
  const listed = input.listed && input.listed.length > 0 ? input.listed : undefined;
  const single = input.sources.length === 1 ? input.sources[0]!.replace(/\/+$/, '') : undefined;
  const root = single?.split('/').filter(Boolean).pop();
  if (!listed || root === undefined) {
    if (filtering) {
      throw permanent('NOT_SUPPORTED', `FILE_INCLUDE / FILE_EXCLUDE (or the inbox's include / exclude) need the server's list of the package's files, ${
        listed ? 'and this transfer has several sources' : 'which this link does not give (a faspe:// link, or a server that lists no files)'}; nothing was transferred`);
    }
    return { expected: undefined, skipped: [] };
  }
  const files = listed.map((f) => ({ ...f, path: listedPath(f.path) }));
  const wanted = filtering ? files.filter((f) => isWanted(f.path, input.filter)) : files;
  const skipped = filtering ? files.filter((f) => !isWanted(f.path, input.filter)).map((f) => (f.size === undefined ? { path: f.path } : { path: f.path, size: f.size })) : [];
  const expected = wanted.map((f): ExpectedFile => {
    const onDisk = `${root}/${f.path}`;
    if (input.decrypt && isEnvelope(f.path)) return { path: onDisk.slice(0, -ENVELOPE_SUFFIX.length) };
    return f.size === undefined ? { path: onDisk } : { path: onDisk, size: f.size };
  });
  const plan: FilePlan = { expected, skipped };
  if (filtering) plan.pairs = wanted.map((f) => ({ source: `${single}/${f.path}`, destination: `${root}/${f.path}` }));
  return plan;
}
