// The ScaleIO `recovery` plan: what the framework made true and is now false, repaired with
// no operator action. Computed from the latest observation's conditions (level-based: a
// condition that clears takes its step away), one step per broken object:
//   repair/sds/<ip>      SDS disconnected while its agent is up: restart it, wait until it is back
//   repair/sdc/<ip>      SDC disconnected: MDM addresses re-applied, scini restarted, wait
//   repair/mdm/<ip>      MDM member down while its agent is up: restart it, wait
//   repair/spare/<pool>  spare below the largest fault unit on a pool the policy manages
//   repair/devices/<agent>  devices the framework added that the SDS lost, the disks still there
// A few run at a time; each object backs off when it breaks again soon after a repair.
// Level-based: each step's fingerprint holds what it acts on and when the object was last
// seen broken after its previous repair, so the engine itself runs a finished repair again
// when its object breaks again (or its inputs, such as the MDM addresses, change).
import { delay } from "../../mesos/backoff.js";
import { fingerprintOf } from "../../framework/plan/fingerprint.js";
import type { ConditionFinding } from "../../framework/health/types.js";
import type { PlanDefinition, StepContext, StepDefinition } from "../../framework/plan/types.js";
import type { ObservedCluster } from "./observe/model.js";

export const RECOVERY_PLAN_ID = "recovery";

export interface RecoveryPorts {
  node(agentId: string, kind: string, params: unknown, ctx: StepContext): Promise<unknown>;
  /** Resolves once an observation begun from now on satisfies `ok`; rejects after the time
   *  or when `ctx.signal` aborts. */
  observedUntil(
    ok: (o: ObservedCluster) => boolean,
    what: string,
    ctx: StepContext,
    timeoutMs: number,
  ): Promise<void>;
  setSpare(poolId: string, percent: number, ctx: StepContext): Promise<void>;
  /** Adds the agent's assigned devices its SDS lacks (idempotent). */
  rejoin(agentId: string, ctx: StepContext): Promise<void>;
}

export interface RecoveryAgent {
  agentId: string;
  hostname: string;
  lost: boolean;
}

export interface RecoveryInput {
  findings: readonly ConditionFinding[];
  observed: ObservedCluster;
  agentByIp: ReadonlyMap<string, RecoveryAgent>;
  /** Manager MDM addresses (an SDC is pointed at them again). */
  managers: string[];
  /** Spare each policy-managed pool needs, by `<domain>/<pool>`. */
  neededSpare: ReadonlyMap<string, number>;
  /** Per agent, the devices the layout assigns that its SDS no longer has (disk present). */
  missingDevices: ReadonlyMap<string, string[]>;
  backoff: RepairBackoff;
  /**
   * By step id: when the object's current break began — the start of the observation that
   * first showed it broken, or broken again after its last repair had finished. Part of the
   * step's fingerprint: a new break is a new input, so a finished repair runs again.
   */
  brokenSince?: (stepId: string) => number;
  maxParallel?: number;
  /** How long a restarted process may take to show as back (default 60 s). */
  settleTimeoutMs?: number;
}

/**
 * Per object: repairs in the last hour, and the wait before the next one — nothing when the
 * object broke once, then doubling (initial, 2×, 4× … up to max) while it keeps breaking.
 */
export class RepairBackoff {
  private readonly repairs = new Map<string, number[]>();

  constructor(
    private readonly opts: { initialMs?: number; maxMs?: number; windowMs?: number } = {},
    private readonly now: () => number = Date.now,
  ) {}

  private recent(key: string): number[] {
    const window = this.opts.windowMs ?? 3_600_000;
    const since = this.now() - window;
    const list = (this.repairs.get(key) ?? []).filter((t) => t >= since);
    if (list.length) this.repairs.set(key, list);
    else this.repairs.delete(key);
    return list;
  }

  /** When the next repair of this object may start (now, when it is not backing off). */
  readyAt(key: string): number {
    const list = this.recent(key);
    if (list.length === 0) return this.now();
    const initial = this.opts.initialMs ?? 30_000;
    const max = this.opts.maxMs ?? 30 * 60_000;
    return list.at(-1)! + Math.min(max, initial * 2 ** (list.length - 1));
  }

  count(key: string): number {
    return this.recent(key).length;
  }

  record(key: string): void {
    this.recent(key);
    this.repairs.set(key, [...(this.repairs.get(key) ?? []), this.now()]);
  }
}

const ipOf = (object: string) => object.slice(object.indexOf("/") + 1);

export function buildRecoveryPlan(input: RecoveryInput, ports: RecoveryPorts): PlanDefinition {
  const steps: StepDefinition[] = [];
  const settle = input.settleTimeoutMs ?? 60_000;
  const seen = new Set<string>();

  /** Waits out the object's backoff (saying so), records the repair, then runs it. */
  const repair = (
    id: string,
    name: string,
    asset: string | undefined,
    inputs: unknown,
    work: (ctx: StepContext) => Promise<void>,
  ): StepDefinition => ({
    id,
    name,
    ...(asset !== undefined ? { asset } : {}),
    fingerprint: fingerprintOf({ inputs, brokenSince: input.brokenSince?.(id) ?? null }),
    run: async (ctx) => {
      const wait = input.backoff.readyAt(id) - Date.now();
      if (wait > 0) {
        ctx.progress(
          `backing off: repaired ${input.backoff.count(id)} times in the last hour; next attempt in ${Math.ceil(wait / 1000)} s`,
        );
        await delay(wait, ctx.signal);
      }
      input.backoff.record(id);
      await work(ctx);
    },
  });

  const restartAndWait = (
    component: "sds" | "sdc" | "mdm",
    ip: string,
    back: (o: ObservedCluster) => boolean,
  ) => {
    const agent = input.agentByIp.get(ip);
    // Only what an agent we can reach runs; a lost agent is the lifecycle's business.
    if (!agent || agent.lost) return;
    const id = `repair/${component}/${ip}`;
    if (seen.has(id)) return;
    seen.add(id);
    const params = component === "sdc" ? { component, mdmIps: input.managers } : { component };
    steps.push(
      repair(
        id,
        `restart the ${component.toUpperCase()} on ${agent.hostname}`,
        agent.agentId,
        { agentId: agent.agentId, params },
        async (ctx) => {
          // Watched from the restart on, not from when the node step reports: a process seen
          // back and killed again in between was repaired (its next break is a new repair),
          // and must not hold this step until the timeout.
          const watch = new AbortController();
          const forward = () => watch.abort(ctx.signal.reason);
          ctx.signal.addEventListener("abort", forward, { once: true });
          const seen = ports.observedUntil(
            back,
            `the ${component.toUpperCase()} on ${ip} is back`,
            { ...ctx, signal: watch.signal },
            settle,
          );
          // The watch may end (its time run out) while the restart is still under way (an
          // agent cut off before Mesos calls it lost): its outcome is taken at once and
          // looked at after the restart, never left as an unhandled rejection.
          const watched = seen.then(
            () => ({ ok: true as const }),
            (err: unknown) => ({ ok: false as const, err }),
          );
          try {
            try {
              await ports.node(agent.agentId, "scaleio.restart-service", params, ctx);
            } catch (err) {
              // The restart's failure is the step's; the watch only has to end.
              watch.abort(err);
              await watched;
              throw err;
            }
            ctx.progress(
              `waiting for the ${component.toUpperCase()} on ${agent.hostname} to be back`,
            );
            const w = await watched;
            if (!w.ok) throw w.err;
          } finally {
            ctx.signal.removeEventListener("abort", forward);
          }
        },
      ),
    );
  };

  for (const f of input.findings) {
    const ip = ipOf(f.object);
    if (f.type === "SdsDisconnected")
      restartAndWait("sds", ip, (o) => o.sds.some((s) => s.ips.includes(ip) && s.connected));
    else if (f.type === "SdcDisconnected")
      restartAndWait("sdc", ip, (o) => o.sdcs.some((c) => c.ip === ip && c.connected));
    else if (f.type === "MdmClusterDegraded" && f.object.startsWith("mdm/"))
      restartAndWait("mdm", ip, (o) =>
        o.mdm.members.some((m) => m.ips.includes(ip) && m.status === "Normal"),
      );
    else if (f.type === "SpareBelowLargestFaultUnit") {
      const pool = input.observed.pools.find(
        (p) => `pool/${p.protectionDomainName ?? "?"}/${p.name ?? p.id}` === f.object,
      );
      const key = pool ? `${pool.protectionDomainName}/${pool.name}` : undefined;
      const want = key ? input.neededSpare.get(key) : undefined;
      // An operator's own spare value is reported, never overridden.
      if (!pool || want === undefined || pool.sparePercentage >= want) continue;
      steps.push(
        repair(
          `repair/spare/${key}`,
          `spare of pool ${key} to ${want} %`,
          undefined,
          { poolId: pool.id, want },
          (ctx) => ports.setSpare(pool.id, want, ctx),
        ),
      );
    }
  }
  for (const [agentId, devices] of input.missingDevices) {
    const agent = [...input.agentByIp.values()].find((a) => a.agentId === agentId);
    if (!agent || agent.lost || devices.length === 0) continue;
    steps.push(
      repair(
        `repair/devices/${agentId}`,
        `add ${devices.join(", ")} back to the SDS on ${agent.hostname}`,
        agentId,
        // Not the list: rejoin adds whatever is missing when it runs, and the list shrinks
        // as it does (a changing fingerprint would interrupt it).
        { agentId },
        (ctx) => ports.rejoin(agentId, ctx),
      ),
    );
  }
  return {
    id: RECOVERY_PLAN_ID,
    name: "Repair the cluster",
    strategy: "parallel",
    phases: [
      {
        id: "repairs",
        name: "Repairs",
        strategy: "parallel",
        maxParallel: input.maxParallel ?? 2,
        steps,
      },
    ],
  };
}
