/**
 * A streaming reader for ascp's management port (`-M`), protocol `FASPMGR 2`
 * (faspex-protocol.md §6.2). Bytes arrive in arbitrary chunks; complete events come out.
 *
 *   FASPMGR 2            header: starts an event
 *   Type: STATS          fields: split at the FIRST ':', at most one following space removed
 *   TransferBytes: 42
 *   <empty line>         ends the event
 *
 * Pure (no I/O): the runner feeds it socket text, tests feed it strings.
 */

export interface MgmtEvent {
  /** the `Type` field: INIT, NOTIFICATION, STATS, STOP, DONE, ERROR, ... ('' if absent) */
  type: string;
  fields: Readonly<Record<string, string>>;
}

export class ManagementProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManagementProtocolError';
  }
}

export const MGMT_HEADER = 'FASPMGR 2';
/** fields whose values ascp escapes: newline, carriage return and ESC become ESC+n, ESC+r, ESC+ESC */
export const PATH_FIELDS: ReadonlySet<string> = new Set(['Source', 'Destination', 'File']);
const ESC = '\x1b';
/** a line longer than this is not management output; stop before it eats the memory */
const MAX_LINE = 1024 * 1024;

export function unescapePathField(value: string): string {
  if (!value.includes(ESC)) return value;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c !== ESC || i + 1 >= value.length) {
      out += c;
      continue;
    }
    const next = value[++i]!;
    out += next === 'n' ? '\n' : next === 'r' ? '\r' : next === ESC ? ESC : ESC + next;
  }
  return out;
}

export class ManagementParser {
  private buffer = '';
  private current: Record<string, string> | undefined;
  /** the last complete event: the outcome rule looks at it */
  lastEvent: MgmtEvent | undefined;
  eventCount = 0;
  /** recoverable oddities (an incomplete event discarded), for diagnostics */
  readonly warnings: string[] = [];

  /** Feeds decoded text; returns the events completed by it. Throws ManagementProtocolError. */
  push(chunk: string): MgmtEvent[] {
    this.buffer += chunk;
    const events: MgmtEvent[] = [];
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      let line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      // Raw CR only appears as CRLF framing: CRs inside path values are escaped.
      if (line.endsWith('\r')) line = line.slice(0, -1);
      const event = this.line(line);
      if (event) events.push(event);
    }
    if (this.buffer.length > MAX_LINE) throw new ManagementProtocolError('management line too long');
    return events;
  }

  /** The stream ended: true when an event was cut off half way. */
  end(): { incomplete: boolean } {
    const incomplete = this.current !== undefined || this.buffer.length > 0;
    this.current = undefined;
    this.buffer = '';
    return { incomplete };
  }

  private line(line: string): MgmtEvent | undefined {
    if (line === MGMT_HEADER) {
      if (this.current !== undefined) {
        // Newer ascp behaviour: a header inside an event abandons the incomplete one.
        this.warnings.push(`incomplete ${this.current.Type ? `${this.current.Type} ` : ''}event discarded`);
      }
      this.current = {};
      return undefined;
    }
    if (line === '') {
      // A blank line between events carries nothing; tolerate it.
      if (this.current === undefined) return undefined;
      const fields = this.current;
      this.current = undefined;
      const event: MgmtEvent = { type: fields.Type ?? '', fields };
      this.lastEvent = event;
      this.eventCount++;
      return event;
    }
    if (this.current === undefined) {
      throw new ManagementProtocolError(`data before a FASPMGR header: ${JSON.stringify(line.slice(0, 80))}`);
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new ManagementProtocolError(`not a management field: ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, colon);
    let value = line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    this.current[name] = PATH_FIELDS.has(name) ? unescapePathField(value) : value;
    return undefined;
  }
}

/** An integer field; `Rate: 50%` style percentages and junk give undefined. */
export function intField(event: MgmtEvent, name: string): number | undefined {
  const raw = event.fields[name];
  if (raw === undefined || !/^-?\d+$/.test(raw.trim())) return undefined;
  const n = Number(raw.trim());
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Encodes one event in the wire format (used by tests and the fake ascp's JS twin). */
export function formatEvent(type: string, fields: Record<string, string | number>): string {
  const esc = (v: string) => v.replaceAll(ESC, ESC + ESC).replaceAll('\n', `${ESC}n`).replaceAll('\r', `${ESC}r`);
  const lines = [MGMT_HEADER, `Type: ${type}`];
  for (const [k, v] of Object.entries(fields)) lines.push(`${k}: ${PATH_FIELDS.has(k) ? esc(String(v)) : String(v)}`);
  return `${lines.join('\n')}\n\n`;
}
