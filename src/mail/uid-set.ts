/** IMAP sequence sets for the UIDs a command is about (fetch-message.ts, handled-marks.ts). Pure. */

/** An IMAP sequence set for ascending or unordered UIDs, runs collapsed: 1:3,7,9:10. */
export function uidSet(uids: readonly number[]): string {
  const sorted = [...new Set(uids)].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    out.push(i === j ? String(sorted[i]) : `${sorted[i]}:${sorted[j]}`);
    i = j + 1;
  }
  return out.join(',');
}
