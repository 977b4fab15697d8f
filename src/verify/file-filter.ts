/**
 * FILE_INCLUDE / FILE_EXCLUDE (and an inbox's include / exclude): globs on the path inside the
 * package. Pure.
 *
 *   *   any characters but `/`        **  any characters, `/` included (whole segments: a/** /b)
 *   ?   one character but `/`          a pattern without `/` matches the file's name at any depth
 *
 * A file is wanted when it matches some include (or there is none) and no exclude. Matching is
 * case-sensitive, as the server's file names are.
 */
export interface FileFilter {
  include: readonly string[];
  exclude: readonly string[];
}

export const NO_FILTER: FileFilter = { include: [], exclude: [] };

export function isFiltering(f: FileFilter): boolean {
  return f.include.length + f.exclude.length > 0;
}

/** A comma-separated list of globs; refuses what cannot be meant (empty items are dropped). */
export function parseGlobList(raw: string): string[] {
  const globs = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const g of globs) {
    if (g.startsWith('/')) throw new Error(`"${g}": globs match the path inside the package, which never starts with /`);
    if (g.split('/').includes('..')) throw new Error(`"${g}": .. has no meaning inside a package`);
  }
  return globs;
}

const cache = new Map<string, RegExp>();

export function globToRegExp(glob: string): RegExp {
  const hit = cache.get(glob);
  if (hit) return hit;
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      i++;
      // `**/` also matches no folder at all
      if (glob[i + 1] === '/') {
        i++;
        re += '(?:.*/)?';
      } else re += '.*';
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  const rx = new RegExp(glob.includes('/') ? `^${re}$` : `^(?:.*/)?${re}$`, 's');
  if (cache.size < 1000) cache.set(glob, rx);
  return rx;
}

export function isWanted(path: string, f: FileFilter): boolean {
  const p = path.replace(/^\/+/, '');
  if (f.include.length > 0 && !f.include.some((g) => globToRegExp(g).test(p))) return false;
  return !f.exclude.some((g) => globToRegExp(g).test(p));
}

/** An inbox's own include / exclude replaces the global one, field by field. */
export function effectiveFilter(global: FileFilter, inbox: Partial<FileFilter> | undefined): FileFilter {
  return { include: inbox?.include ?? global.include, exclude: inbox?.exclude ?? global.exclude };
}
