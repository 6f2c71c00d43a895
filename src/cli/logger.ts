// JSON logs (pino) on stderr. Secrets are kept out by design; as a last line of defence any
// string that contains a known secret is scrubbed before it is written.
import { destination, pino, type Logger } from "pino";
import { redactSecrets, type Secret } from "../common/secret.js";

export function createLogger(level: string, secrets: (Secret | undefined)[]): Logger {
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
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map(scrub) as Parameters<typeof method>);
        },
      },
    },
    destination(2),
  );
}
