// JSON-lines logs to stderr (stdout stays free), synchronous so nothing is lost at exit.
// Secrets are never handed to the logger; the redact paths are a second line of defence.
import { destination, pino, type Logger } from "pino";

export type { Logger };

export function executorLogger(level = process.env.SCALEIO_FRAMEWORK_LOG_LEVEL || "info"): Logger {
  return pino(
    {
      level,
      base: { component: "executor", pid: process.pid },
      redact: {
        paths: ["password", "adminPassword", "token", "secretToken", "*.password", "*.secretToken"],
        censor: "[redacted]",
      },
    },
    destination({ dest: 2, sync: true }),
  );
}
