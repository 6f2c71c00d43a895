// Runs node-step handlers in-process against an emulated node, as the executor would.
import { Secret } from "../../src/common/secret.js";
import type { NodeTaskResult } from "../../src/framework/node-task/protocol.js";
import { HandlerRegistry, runStep } from "../../src/executor/run-step.js";
import { hostProfileFromEnv, type ProgramRunner } from "../../src/host/profile.js";
import { scaleioNodeHandlers } from "../../src/platforms/scaleio/node/index.js";
import type { EmuNodes } from "./scaleio-node.js";

export const registry = new HandlerRegistry(scaleioNodeHandlers);

export interface StepRun {
  result: NodeTaskResult;
  progress: string[];
  secretFetches: number;
}

export async function step(
  nodes: EmuNodes,
  ip: string,
  kind: string,
  params: unknown,
  o: {
    password?: string;
    signal?: AbortSignal;
    onProgress?: (m: string) => void;
    /** Replaces how the host layer runs programs (e.g. to record what a step runs). */
    run?: ProgramRunner;
  } = {},
): Promise<StepRun> {
  return nodes.onNode(ip, async () => {
    const progress: string[] = [];
    let secretFetches = 0;
    const result = await runStep(
      registry,
      {
        protocol: 1,
        stepId: `test-${kind}`,
        attempt: 1,
        kind,
        params,
        ...(o.password !== undefined ? { secretToken: "t".repeat(32) } : {}),
      },
      {
        host: await hostProfileFromEnv(process.env, o.run ? { run: o.run } : {}),
        fetchSecrets: async () => {
          secretFetches += 1;
          return { adminPassword: new Secret(o.password!, "test") };
        },
        progress: (m) => {
          progress.push(m);
          o.onProgress?.(m);
        },
        signal: o.signal ?? new AbortController().signal,
      },
    );
    return { result, progress, secretFetches };
  });
}

export function data<T = Record<string, unknown>>(r: StepRun): T {
  if (!r.result.ok) throw new Error(`step failed: ${r.result.error}`);
  return r.result.data as T;
}
