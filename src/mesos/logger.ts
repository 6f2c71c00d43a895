// The logging surface the library needs; pino loggers satisfy it. Defaults to silence.
export interface MesosLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = () => {};
export const silentLogger: MesosLogger = { debug: noop, info: noop, warn: noop, error: noop };
