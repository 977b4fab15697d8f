/**
 * pino, with every argument passed through maskDeep before it is serialised, so no call site
 * can leak a secret by forgetting to redact it. JSON lines for machines (the default); human
 * lines (human-format.ts) for a person at a terminal. Either way an IngestError, an expected
 * failure, is logged as its code and message without a stack: stacks are for bugs.
 */
import { pino, type Logger, type LoggerOptions, type DestinationStream } from 'pino';
import { IngestError } from '../errors.js';
import { formatHumanLine } from './human-format.js';
import { maskDeep } from './secrets.js';

export type { Logger } from 'pino';
export { chooseLogFormat, type LogFormatSetting } from './human-format.js';

export function createLogger(options: { level?: string; name?: string; destination?: DestinationStream; format?: 'json' | 'human' } = {}): Logger {
  const opts: LoggerOptions = {
    level: options.level ?? 'info',
    base: { pid: process.pid, ...(options.name ? { name: options.name } : {}) },
    hooks: {
      logMethod(args, method) {
        const masked = args.map((a) => maskDeep(a)) as Parameters<typeof method>;
        return method.apply(this, masked);
      },
    },
    serializers: {
      err: (err: unknown) => {
        const e = pino.stdSerializers.err(err as Error) as unknown as Record<string, unknown>;
        if (isExpectedFailure(err)) {
          delete e.stack;
          e.type = 'IngestError';
        }
        return maskDeep(e);
      },
    },
    formatters: {
      level: (label) => ({ level: label }),
    },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const destination = options.destination ?? pino.destination({ dest: 2, sync: false });
  const logger = pino(opts, options.format === 'human' ? humanDestination(destination) : destination);
  return maskChildBindings(logger);
}

/** An IngestError, or the masked copy of one that logMethod made (same name and code). */
function isExpectedFailure(err: unknown): boolean {
  return err instanceof IngestError || (err instanceof Error && err.name === 'IngestError' && typeof (err as { code?: unknown }).code === 'string');
}

/** pino writes one JSON line per record: turn each into a human line on the way out. */
function humanDestination(out: DestinationStream): DestinationStream {
  return {
    write(line: string) {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return out.write(line);
      }
      return out.write(formatHumanLine(record));
    },
  };
}

/** pino serialises child bindings once, outside logMethod: mask them on the way in. */
function maskChildBindings(logger: Logger): Logger {
  const child = logger.child;
  logger.child = function (this: Logger, bindings: Record<string, unknown>, opts?: unknown) {
    return maskChildBindings(child.call(this, maskDeep(bindings), opts as never) as unknown as Logger);
  } as unknown as Logger['child'];
  return logger;
}
