// Exchanges a step's single-use token for its secrets at the scheduler:
// GET <SCALEIO_FRAMEWORK_URL>/v1/executor/secrets with `Authorization: Bearer <token>` and
// the task's id in `x-scaleio-task-id`, answered `{"adminPassword": "..."}`. The values are
// wrapped in Secret at once. Over https the scheduler's certificate is checked against the CA
// the scheduler named (SCALEIO_FRAMEWORK_SCHEDULER_CA), else SCALEIO_FRAMEWORK_CA_FILE, else
// the system's CAs; the connection leaves from the agent's address, which the scheduler checks.
import { readFile } from "node:fs/promises";
import { isIP } from "node:net";
import { networkInterfaces } from "node:os";
import { Agent, fetch } from "undici";
import { z } from "zod";
import { Secret } from "../common/secret.js";
import {
  EXECUTOR_ENV,
  SECRETS_PATH,
  SECRETS_TASK_HEADER,
} from "../framework/node-task/protocol.js";
import { StepError, type NodeSecrets } from "../framework/node-task/handler.js";

const answer = z.object({ adminPassword: z.string().min(1) }).passthrough();

export interface SecretsOptions {
  /** The id of the task whose token this is (the scheduler binds tokens to their task). */
  taskId?: string;
  /** PEM CA(s) trusted for the scheduler's certificate instead of the system's. */
  ca?: string;
  /** Local address the connection leaves from (the agent's). */
  localAddress?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export type SecretsFetcher = (
  token: string,
  signal: AbortSignal,
  taskId?: string,
) => Promise<NodeSecrets>;

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
  const dispatcher =
    opts.ca || opts.localAddress ? dispatcherFor(opts.ca, opts.localAddress) : undefined;
  let res;
  try {
    res = await fetch(url, {
      headers: {
        authorization: `Bearer ${token}`,
        accept: "application/json",
        ...(opts.taskId ? { [SECRETS_TASK_HEADER]: opts.taskId } : {}),
      },
      signal,
      ...(dispatcher ? { dispatcher } : {}),
    });
  } catch (err) {
    const e = err as Error & { cause?: Error & { code?: string } };
    const why = e.cause?.message ?? e.message;
    // A certificate that does not chain to the named CA: retrying cannot help.
    const badCert = /certificate|self.signed|altnames|CERT_|SELF_SIGNED/i.test(
      `${e.cause?.code ?? ""} ${why}`,
    );
    throw new StepError(
      `cannot fetch secrets from ${url.origin}: ${why}${badCert ? " (the scheduler's certificate is not trusted)" : ""}`,
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
 * One connection pool per CA and local address: an executor fetches secrets for several
 * steps, and a TLS handshake per fetch costs both sides more than the fetch itself.
 */
const dispatchers = new Map<string, Agent>();
function dispatcherFor(ca: string | undefined, localAddress: string | undefined): Agent {
  const key = `${localAddress ?? ""}\n${ca ?? ""}`;
  let d = dispatchers.get(key);
  if (!d) {
    d = new Agent({
      ...(ca ? { connect: { ca } } : {}),
      ...(localAddress ? { localAddress } : {}),
      keepAliveTimeout: 30_000,
    });
    dispatchers.set(key, d);
  }
  return d;
}

/** The host part of `host:port` or `[v6]:port`. */
function endpointHost(endpoint: string | undefined): string | undefined {
  if (!endpoint) return undefined;
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(endpoint) ?? /^([^:]+)(?::\d+)?$/.exec(endpoint);
  return m?.[1];
}

/**
 * The agent's address when it is one of this host's, so a connection can leave from it
 * (Linux answers for all of 127.0.0.0/8, as the development cluster's agents use).
 */
export function agentLocalAddress(env: NodeJS.ProcessEnv): string | undefined {
  const host = endpointHost(env.MESOS_AGENT_ENDPOINT) ?? env.LIBPROCESS_IP;
  if (!host || !isIP(host) || host === "0.0.0.0" || host === "::") return undefined;
  if (/^127\./.test(host)) return host;
  const local = Object.values(networkInterfaces())
    .flat()
    .some((i) => i?.address === host);
  return local ? host : undefined;
}

/**
 * The executor's secrets fetcher, configured from its environment: the scheduler's URL and
 * CA, and the agent's address to connect from.
 */
export async function secretsFetcherFromEnv(env: NodeJS.ProcessEnv): Promise<SecretsFetcher> {
  const schedulerUrl = env[EXECUTOR_ENV.schedulerUrl];
  const caFile = env[EXECUTOR_ENV.caFile];
  let ca = env[EXECUTOR_ENV.schedulerCa] || undefined;
  if (!ca && caFile) {
    try {
      ca = await readFile(caFile, "utf8");
    } catch (err) {
      // Not the system's CAs instead: the operator named this file for a reason.
      const why = `cannot read ${EXECUTOR_ENV.caFile} ${caFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
      return () => Promise.reject(new StepError(why));
    }
  }
  const localAddress = agentLocalAddress(env);
  return (token, signal, taskId) =>
    fetchSecrets(schedulerUrl, token, {
      signal,
      ...(taskId ? { taskId } : {}),
      ...(ca ? { ca } : {}),
      ...(localAddress ? { localAddress } : {}),
    });
}
