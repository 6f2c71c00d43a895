// Restarting a Mesos agent so that it loads a changed isolator configuration: an explicit
// operator choice (off by default), and never without draining the agent first. The agent's
// machine is put in a Mesos maintenance window (DRAINING: frameworks get inverse offers),
// the restart waits until no other framework has a task there, the agent service is
// restarted by a node step, and the machine leaves the schedule. Nothing here reboots.
import type { StepContext } from "../../framework/plan/types.js";
import type { MaintenanceClient } from "../../mesos/maintenance/client.js";

export interface AgentRestartOptions {
  maintenance: MaintenanceClient;
  /** This framework's id: its own tasks (the node steps) do not keep an agent busy. */
  frameworkId: () => string | undefined;
  /** How long to wait for the drain before the step fails (and is retried); default 10 min. */
  drainTimeoutMs?: number;
  /** How often the master is asked whether the agent is drained; default 2 s. */
  checkEveryMs?: number;
  /** Announced length of the maintenance window; default 15 min. */
  windowMs?: number;
}

export interface AgentRef {
  agentId: string;
  hostname: string;
  ip: string;
}

export class DrainTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DrainTimeoutError";
  }
}

/** Waits for `ms` unless the step is aborted first. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason as Error);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

export async function drainAndRestart(
  agent: AgentRef,
  restart: () => Promise<void>,
  o: AgentRestartOptions,
  ctx: Pick<StepContext, "signal" | "progress">,
): Promise<void> {
  const machine = { hostname: agent.hostname, ip: agent.ip };
  const started = await o.maintenance.drain(machine, o.windowMs ?? 15 * 60_000);
  ctx.progress(
    `${agent.hostname}: ${started ? "maintenance window scheduled" : "already in a maintenance window"}; draining`,
  );
  const deadline = Date.now() + (o.drainTimeoutMs ?? 10 * 60_000);
  for (;;) {
    const ours = o.frameworkId();
    const others = (await o.maintenance.activeTasks(agent.agentId)).filter(
      (t) => t.frameworkId !== ours,
    );
    if (others.length === 0) break;
    if (Date.now() > deadline)
      throw new DrainTimeoutError(
        `${agent.hostname} is not drained: ${others.length} task(s) of other frameworks still run there (${others
          .slice(0, 3)
          .map((t) => t.taskId)
          .join(", ")}); the agent was not restarted`,
      );
    ctx.progress(`${agent.hostname}: waiting for ${others.length} task(s) to leave`);
    await pause(o.checkEveryMs ?? 2000, ctx.signal);
  }
  ctx.progress(`${agent.hostname}: drained; restarting the agent service`);
  await restart();
  await o.maintenance.release(machine);
  ctx.progress(`${agent.hostname}: agent restarted, maintenance window removed`);
}
