// Last-resort handlers of a long-running process (the scheduler, the executor): an error
// that escaped every handler (an uncaught exception, an unhandled rejection) is logged as
// one line and the process exits non-zero at once, so that its supervisor (Marathon, the
// Mesos agent) starts it again instead of it running on half-dead.

/** Exit code of a process stopped by an error nothing handled. */
export const EXIT_INTERNAL_ERROR = 1;

export interface GuardLogger {
  error(obj: object, msg?: string): void;
  fatal?(obj: object, msg?: string): void;
}

export interface ProcessGuardOptions {
  log: GuardLogger;
  /** Replaceable for tests; exits the process by default. */
  exit?: (code: number) => void;
}

/** Installs the handlers; returns a function that removes them. */
export function installProcessGuards(opts: ProcessGuardOptions): () => void {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let done = false;
  const fail = (kind: string) => (reason: unknown) => {
    if (done) return;
    done = true;
    const err = reason instanceof Error ? reason : undefined;
    const fields = {
      kind,
      err: err ? err.message : String(reason),
      ...(err?.stack ? { stack: err.stack.slice(0, 2000) } : {}),
    };
    try {
      (opts.log.fatal ?? opts.log.error).call(opts.log, fields, "internal error; exiting");
    } finally {
      exit(EXIT_INTERNAL_ERROR);
    }
  };
  const onException = fail("uncaughtException");
  const onRejection = fail("unhandledRejection");
  process.on("uncaughtException", onException);
  process.on("unhandledRejection", onRejection);
  return () => {
    process.off("uncaughtException", onException);
    process.off("unhandledRejection", onRejection);
  };
}
