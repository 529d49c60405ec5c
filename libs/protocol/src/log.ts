/**
 * The one logging shape every Switchyard package accepts. Libraries log through it and default to
 * a `debug` namespace (`switchyard:hub`, `switchyard:ws`, …) that is off unless enabled with
 * `DEBUG=switchyard:*` in Node or `localStorage.debug = 'switchyard:*'` in a browser; the server
 * app passes pino children instead.
 */
import createDebug from 'debug';

/** Severity of a log line. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Structured fields of a log line. */
export type LogFields = Readonly<Record<string, unknown>>;

/** A structured log sink: `log('warn', 'closing slow consumer', { id })`. */
export type Logger = (level: LogLevel, message: string, fields?: LogFields) => void;

/** A logger that drops everything. */
export const silentLogger: Logger = () => undefined;

/** A logger on the `debug` namespace `namespace`, silent until that namespace is enabled. */
export function debugLogger(namespace: string): Logger {
  const debug = createDebug(namespace);
  return (level, message, fields) => {
    if (!debug.enabled) return;
    if (fields === undefined) debug('%s %s', level, message);
    else debug('%s %s %O', level, message, fields);
  };
}
