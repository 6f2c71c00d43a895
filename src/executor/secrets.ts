// Exchanges a step's single-use token for its secrets at the scheduler:
// GET <SCALEIO_FRAMEWORK_URL>/v1/executor/secrets with `Authorization: Bearer <token>`,
// answered `{"adminPassword": "..."}`. The values are wrapped in Secret at once.
import { Agent, fetch } from "undici";
import { z } from "zod";
import { Secret } from "../common/secret.js";
import { SECRETS_PATH } from "../framework/node-task/protocol.js";
import { StepError, type NodeSecrets } from "../framework/node-task/handler.js";

const answer = z.object({ adminPassword: z.string().min(1) }).passthrough();

export interface SecretsOptions {
  ca?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export async function fetchSecrets(
  schedulerUrl: string | undefined,
  token: string,
  opts: SecretsOptions = {},
): Promise<NodeSecrets> {
  if (!schedulerUrl) {
    throw new StepError("SCALEIO_FRAMEWORK_URL is not set: cannot fetch this step's secrets", {
      permanent: true,
    });
  }
  // Relative to the base, so a scheduler behind a path prefix (a proxy) works too.
  const base = schedulerUrl.endsWith("/") ? schedulerUrl : `${schedulerUrl}/`;
  let url: URL;
  try {
    url = new URL(SECRETS_PATH.replace(/^\//, ""), base);
  } catch {
    throw new StepError(`SCALEIO_FRAMEWORK_URL '${schedulerUrl}' is not a URL`, {
      permanent: true,
    });
  }
  const signal = AbortSignal.any([
    AbortSignal.timeout(opts.timeoutMs ?? 30_000),
    ...(opts.signal ? [opts.signal] : []),
  ]);
  const dispatcher = opts.ca ? dispatcherFor(opts.ca) : undefined;
  let res;
  try {
    res = await fetch(url, {
      headers: { authorization: `Bearer ${token}`, accept: "application/json" },
      signal,
      ...(dispatcher ? { dispatcher } : {}),
    });
  } catch (err) {
    const e = err as Error & { cause?: Error };
    throw new StepError(
      `cannot fetch secrets from ${url.origin}: ${e.cause?.message ?? e.message}`,
    );
  }
  const text = await res.text();
  if (res.status !== 200) {
    // The token is single use: a second fetch (an executor restarted mid-step) is refused;
    // the scheduler retries the step with a fresh token.
    throw new StepError(`the scheduler refused this step's secrets (HTTP ${res.status})`);
  }
  let parsed;
  try {
    parsed = answer.parse(JSON.parse(text));
  } catch {
    throw new StepError('the scheduler\'s secrets answer is not {"adminPassword": string}');
  }
  return { adminPassword: new Secret(parsed.adminPassword, "scheduler") };
}

/**
 * One connection pool per CA: an executor fetches secrets for several steps, and a TLS
 * handshake per fetch costs both sides more than the fetch itself.
 */
const dispatchers = new Map<string, Agent>();
function dispatcherFor(ca: string): Agent {
  let d = dispatchers.get(ca);
  if (!d) {
    d = new Agent({ connect: { ca }, keepAliveTimeout: 30_000 });
    dispatchers.set(ca, d);
  }
  return d;
}
