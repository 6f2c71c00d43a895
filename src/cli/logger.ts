// JSON logs (pino) on stderr. Secrets are kept out by design; as lines of defence, fields
// named like secrets are censored, and any string that contains a known secret is scrubbed
// before it is written.
import { destination, pino, type DestinationStream, type Logger } from "pino";
import { redactSecrets, type Secret } from "../common/secret.js";

const SECRET_FIELDS = [
  "password",
  "adminPassword",
  "secret",
  "mesosSecret",
  "token",
  "apiToken",
  "secretToken",
  "authorization",
];

export const REDACT_PATHS = [
  ...SECRET_FIELDS,
  ...SECRET_FIELDS.map((f) => `*.${f}`),
  "headers.authorization",
  "req.headers.authorization",
];

const DEBUG_LEVELS = new Set(["trace", "debug"]);

/**
 * Errors in log lines: their message and code, the stack only at debug or trace. Anything
 * with a message (an Error, or the plain objects some parts log) is reduced to that, so lines
 * carry no `"type":"Object","stack":""`; a string stays a string.
 */
export function errorSerializer(
  level: string,
  secrets: (Secret | undefined)[] = [],
): (err: unknown) => unknown {
  const withStack = DEBUG_LEVELS.has(level);
  return (err) => {
    if (typeof err === "string") return redactSecrets(err, secrets);
    if (!err || typeof err !== "object" || typeof (err as Error).message !== "string") return err;
    const e = err as { message: string; code?: unknown; stack?: unknown };
    return {
      message: redactSecrets(e.message, secrets),
      ...(e.code !== undefined && e.code !== null ? { code: e.code } : {}),
      ...(withStack && typeof e.stack === "string" && e.stack
        ? { stack: redactSecrets(e.stack, secrets) }
        : {}),
    };
  };
}

export function createLogger(
  level: string,
  secrets: (Secret | undefined)[],
  dest: DestinationStream = destination(2),
): Logger {
  const scrub = (v: unknown): unknown => {
    if (typeof v === "string") return redactSecrets(v, secrets);
    if (Array.isArray(v)) return v.map(scrub);
    if (v && typeof v === "object" && !(v instanceof Error)) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, scrub(x)]));
    }
    return v;
  };
  return pino(
    {
      level,
      base: { name: "scaleio-framework" },
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      serializers: { err: errorSerializer(level, secrets) },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map(scrub) as Parameters<typeof method>);
        },
      },
    },
    dest,
  );
}
