/**
 * pino, with every argument passed through maskDeep before it is serialised, so no call site
 * can leak a secret by forgetting to redact it.
 */
import { pino, type Logger, type LoggerOptions, type DestinationStream } from 'pino';
import { maskDeep } from './secrets.js';

export type { Logger } from 'pino';

export function createLogger(options: { level?: string; name?: string; destination?: DestinationStream } = {}): Logger {
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
        return maskDeep(e);
      },
    },
    formatters: {
      level: (label) => ({ level: label }),
    },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const logger = options.destination ? pino(opts, options.destination) : pino(opts, pino.destination({ dest: 2, sync: false }));
  return maskChildBindings(logger);
}

/** pino serialises child bindings once, outside logMethod: mask them on the way in. */
function maskChildBindings(logger: Logger): Logger {
  const child = logger.child;
  logger.child = function (this: Logger, bindings: Record<string, unknown>, opts?: unknown) {
    return maskChildBindings(child.call(this, maskDeep(bindings), opts as never) as unknown as Logger);
  } as unknown as Logger['child'];
  return logger;
}
