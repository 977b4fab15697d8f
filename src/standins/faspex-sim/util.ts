/**
 * Small helpers written independently of src/ on purpose: the simulator must not share a bug
 * with the client it tests.
 */

/** The five XML entities, one pass. */
export function decodeEntitiesForSim(s: string): string {
  const map: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&apos;': "'" };
  return s.replace(/&(?:amp|lt|gt|quot|apos);/g, (e) => map[e]!);
}

/** The decoded path of a faspe:// URL (what the token's path claim must equal). */
export function faspPathOf(url: string): string | undefined {
  const m = /^faspe?:\/\/[^/]*(\/[^?]*)/.exec(url);
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1]!.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}
