// The contract between the scheduler and the executor for node-side steps. A node step is
// one Mesos task on the agent's executor: its TaskInfo.data carries a NodeTaskSpec, its
// status updates carry progress (TASK_RUNNING, `message`) and the outcome (TASK_FINISHED
// with a NodeTaskResult in `data`, or TASK_FAILED with the error in `message` and `data`).
// Secrets never travel in the spec: it carries a single-use token the executor exchanges
// for them at the scheduler's secrets endpoint.
import { z } from "zod";

export const NODE_TASK_PROTOCOL = 1;

export const nodeTaskSpecSchema = z
  .object({
    protocol: z.literal(NODE_TASK_PROTOCOL),
    /** The plan step this task performs (for logs and the operator). */
    stepId: z.string().min(1).max(200),
    attempt: z.number().int().min(1),
    /** Handler name: the platform's name, a dot, the step (`<platform>.install-package`). */
    kind: z.string().regex(/^[a-z0-9]+(\.[a-z0-9-]+)+$/),
    /** Handler-specific parameters, validated by the handler. */
    params: z.unknown(),
    /** Single-use token for `GET <secretsUrl>` (Authorization: Bearer), when the step needs secrets. */
    secretToken: z.string().min(16).max(200).optional(),
  })
  .strict();

export type NodeTaskSpec = z.infer<typeof nodeTaskSpecSchema>;

export type NodeTaskResult =
  | { ok: true; data?: unknown }
  | {
      ok: false;
      error: string;
      /** Retrying cannot help (bad input, device in use...). */ permanent?: boolean;
    };

/** Environment variables the scheduler sets on the executor (CommandInfo.environment). */
export const EXECUTOR_ENV = {
  /** Base URL of the scheduler's executor endpoints, e.g. http://10.0.0.5:35000. */
  schedulerUrl: "SCALEIO_FRAMEWORK_URL",
  /** `linux` (a real host) or `dev` (the development cluster's emulated node). */
  hostProfile: "SCALEIO_FRAMEWORK_HOST_PROFILE",
  /** PEM CA to verify the scheduler (and gateway) certificates, if they use TLS. */
  caFile: "SCALEIO_FRAMEWORK_CA_FILE",
  /**
   * The CA (PEM text) of the scheduler's TLS certificate, set by the scheduler when it serves
   * TLS: the executor trusts only this CA for the secrets endpoint.
   */
  schedulerCa: "SCALEIO_FRAMEWORK_SCHEDULER_CA",
} as const;

/** Path of the secrets endpoint on the scheduler. */
export const SECRETS_PATH = "/v1/executor/secrets";
/** Header in which the executor shows the id of the task whose token it trades. */
export const SECRETS_TASK_HEADER = "x-scaleio-task-id";

export function encodeSpec(spec: NodeTaskSpec): string {
  return Buffer.from(JSON.stringify(spec), "utf8").toString("base64");
}

export function decodeSpec(data: string | undefined): NodeTaskSpec {
  if (!data) throw new Error("task has no data: not a node step");
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(data, "base64").toString("utf8"));
  } catch {
    throw new Error("task data is not JSON");
  }
  const parsed = nodeTaskSpecSchema.safeParse(json);
  if (!parsed.success) {
    throw new Error(
      `task data is not a node step: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(top)"}: ${i.message}`).join("; ")}`,
    );
  }
  return parsed.data;
}

export function encodeResult(result: NodeTaskResult): string {
  return Buffer.from(JSON.stringify(result), "utf8").toString("base64");
}

export function decodeResult(data: string | undefined): NodeTaskResult | undefined {
  if (!data) return undefined;
  try {
    const r = JSON.parse(Buffer.from(data, "base64").toString("utf8")) as NodeTaskResult;
    return typeof r === "object" && r !== null && typeof r.ok === "boolean" ? r : undefined;
  } catch {
    return undefined;
  }
}
