// Runs one node step: finds the handler by kind, validates the params (a mismatch is a
// permanent failure naming the field), runs it, and turns any outcome into a
// NodeTaskResult with every secret the step saw redacted from the error text.
import type { Secret } from "../common/secret.js";
import { redactSecrets } from "../common/secret.js";
import {
  describeIssues,
  StepError,
  type NodeSecrets,
  type NodeStepHandler,
  type StepContext,
} from "../framework/node-task/handler.js";
import type { NodeTaskResult, NodeTaskSpec } from "../framework/node-task/protocol.js";
import type { HostProfile } from "../host/profile.js";

export interface StepDeps {
  host: HostProfile;
  /** Fetches the secrets with the spec's token (called at most once, only if a handler asks). */
  fetchSecrets: (token: string, signal: AbortSignal) => Promise<NodeSecrets>;
  progress: (message: string) => void;
  signal: AbortSignal;
}

export class HandlerRegistry {
  private readonly byKind = new Map<string, NodeStepHandler>();
  constructor(handlers: Iterable<NodeStepHandler>) {
    for (const h of handlers) {
      if (this.byKind.has(h.kind)) throw new Error(`two handlers for kind '${h.kind}'`);
      this.byKind.set(h.kind, h);
    }
  }
  get(kind: string): NodeStepHandler | undefined {
    return this.byKind.get(kind);
  }
  kinds(): string[] {
    return [...this.byKind.keys()].sort();
  }
}

export async function runStep(
  registry: HandlerRegistry,
  spec: NodeTaskSpec,
  deps: StepDeps,
): Promise<NodeTaskResult> {
  const handler = registry.get(spec.kind);
  if (!handler) {
    return {
      ok: false,
      permanent: true,
      error: `unknown step kind '${spec.kind}' (this executor runs ${registry.kinds().join(", ")})`,
    };
  }
  const parsed = handler.params.safeParse(spec.params);
  if (!parsed.success) {
    return {
      ok: false,
      permanent: true,
      error: `${spec.kind}: bad params: ${describeIssues(parsed.error)}`,
    };
  }
  const seen: Secret[] = [];
  let secrets: Promise<NodeSecrets> | undefined;
  const ctx: StepContext = {
    host: deps.host,
    signal: deps.signal,
    progress: deps.progress,
    secrets() {
      if (!spec.secretToken) {
        return Promise.reject(
          new StepError(`${spec.kind} needs secrets but the task carries no secret token`, {
            permanent: true,
          }),
        );
      }
      secrets ??= deps.fetchSecrets(spec.secretToken, deps.signal).then((s) => {
        seen.push(s.adminPassword);
        return s;
      });
      return secrets;
    },
  };
  try {
    const data = await handler.run(parsed.data, ctx);
    return data === undefined ? { ok: true } : { ok: true, data };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    const aborted = deps.signal.aborted;
    const message = aborted ? `aborted: ${describeAbort(deps.signal)}` : e.message;
    return {
      ok: false,
      error: redactSecrets(`${spec.kind}: ${message}`, seen),
      ...(err instanceof StepError && err.permanent && !aborted ? { permanent: true } : {}),
    };
  }
}

function describeAbort(signal: AbortSignal): string {
  const r = signal.reason as unknown;
  return r instanceof Error ? r.message : String(r ?? "killed");
}
