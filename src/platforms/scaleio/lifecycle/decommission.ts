// Decommission of a data node (reference 6.4): first the refusal arithmetic (the rest of each
// pool must hold the SDS's data with its spare kept, and keep three fault units; an MDM
// member is replaced, never decommissioned), then the `decommission` plan: the SDS removed
// gracefully (the MDM migrates its data; the step shows it moving and ends once the SDS is
// gone), the SDC only when asked and nothing is mapped to it, REX-Ray's and the isolator's
// configuration once nothing is mapped to the node, the components uninstalled, the agent's
// reservations released, and the node marked decommissioned. In existing-cluster mode only
// what the framework added goes (the uninstall's rule, `addedByFramework`): an SDS, SDC or
// LIA whose package the operator installed stays, and the step says so.
import type {
  PhaseDefinition,
  PlanDefinition,
  StepContext,
} from "../../../framework/plan/types.js";
import { PermanentStepError } from "../../../framework/plan/types.js";
import { GatewayError, type GatewayClient } from "../gateway/client.js";
import { sdsIps, type Sds } from "../gateway/types.js";
import { findSystem } from "../cluster/system.js";
import type { Component } from "../node/common.js";
import type { RemoveConsumerConfigResult } from "../node/remove-consumer-config.js";

/** ScaleIO serves volumes from a pool only with three fault units (reference 5.5). */
export const MIN_FAULT_UNITS = 3;
export const DECOMMISSION_PLAN = "decommission";

/** A pool the leaving SDS has devices in, as it is now (KB). */
export interface PoolRoomInput {
  /** `<domain>/<pool>`. */
  pool: string;
  poolId: string;
  maxKb: number;
  limitKb: number;
  inUseKb: number;
  /** The leaving SDS's devices in this pool: raw size, usable limit, and what they hold. */
  sdsMaxKb: number;
  sdsLimitKb: number;
  sdsInUseKb: number;
  /** The spare the pool keeps once the SDS has gone (the policy's value for one SDS fewer). */
  sparePercentAfter: number;
  /** Fault units (fault sets, or SDSs outside any) with devices in the pool without it. */
  faultUnitsAfter: number;
}

/** Whether the rest of one pool can take the SDS's data, with the figures. */
export interface PoolRoom {
  pool: string;
  /** What the SDS holds in the pool (its used capacity). */
  sdsUsedKb: number;
  /** Free capacity the pool would have without the SDS, its spare kept. */
  freeAfterKb: number;
  spareAfterKb: number;
  sparePercentAfter: number;
  faultUnitsAfter: number;
  /** Why the pool cannot let the SDS go; empty when it can. */
  problems: string[];
}

const gb = (kb: number) => `${(kb / 1048576).toFixed(1)} GB`;

/**
 * The refusal arithmetic for one pool: without the SDS, the pool's usable capacity (limit less
 * the spare it keeps) less what the other SDSs hold must take what the SDS holds; and at least
 * three fault units must remain.
 */
export function poolRoom(p: PoolRoomInput): PoolRoom {
  const maxAfter = Math.max(0, p.maxKb - p.sdsMaxKb);
  const limitAfter = Math.max(0, p.limitKb - p.sdsLimitKb);
  const spareAfterKb = Math.floor((maxAfter * p.sparePercentAfter) / 100);
  const othersKb = Math.max(0, p.inUseKb - p.sdsInUseKb);
  const freeAfterKb = Math.max(0, limitAfter - spareAfterKb - othersKb);
  const problems: string[] = [];
  if (p.sdsInUseKb > freeAfterKb)
    problems.push(
      `pool ${p.pool}: the SDS holds ${gb(p.sdsInUseKb)}; without it the pool would have ${gb(freeAfterKb)} free after keeping ${p.sparePercentAfter} % spare (${gb(spareAfterKb)})`,
    );
  if (p.faultUnitsAfter < MIN_FAULT_UNITS)
    problems.push(
      `pool ${p.pool}: ${p.faultUnitsAfter} fault unit${p.faultUnitsAfter === 1 ? "" : "s"} would remain; at least ${MIN_FAULT_UNITS} are needed`,
    );
  return {
    pool: p.pool,
    sdsUsedKb: p.sdsInUseKb,
    freeAfterKb,
    spareAfterKb,
    sparePercentAfter: p.sparePercentAfter,
    faultUnitsAfter: p.faultUnitsAfter,
    problems,
  };
}

/** What the cluster says of the node now: its SDS and pools, and whether it is an MDM. */
export interface DecommissionFacts {
  sds?: { id: string; name: string | null; state: string | undefined };
  pools: PoolRoomInput[];
  /** Its MDM role when the node's address is an MDM member's. */
  mdmRole?: string;
}

type Stats = Record<string, Record<string, unknown>>;
const num = (v: unknown): number => {
  const n = typeof v === "number" ? v : Number(v);
  return Number.isFinite(n) ? n : 0;
};

/** The SDS at an address, if any. */
export async function sdsAt(client: GatewayClient, ip: string): Promise<Sds | undefined> {
  return (await client.allSds()).find((s) => sdsIps(s).includes(ip));
}

/**
 * Reads, fresh from the gateway, what the refusal arithmetic needs for the node at `ip`.
 * `spareAfter` gives the spare percentage a pool (`<domain>/<pool>`) will keep once the node
 * has gone, when the framework sets it; otherwise the pool's own value is kept.
 */
export async function readDecommissionFacts(
  client: GatewayClient,
  system: { name?: string; id?: string },
  ip: string,
  spareAfter: (pool: string) => number | undefined,
): Promise<DecommissionFacts> {
  const sys = await findSystem(client, system);
  const [mdm, sdss] = await Promise.all([client.mdmCluster(sys.id), client.allSds()]);
  const members = [
    ...(mdm.master ? [{ ...mdm.master, role: "master" }] : []),
    ...(mdm.slaves ?? []).map((m) => ({ ...m, role: "slave" })),
    ...(mdm.tieBreakers ?? []).map((m) => ({ ...m, role: "tie-breaker" })),
    ...(mdm.standbyMDMs ?? []).map((m) => ({ ...m, role: "standby" })),
  ];
  const member = members.find((m) => [...(m.ips ?? []), ...(m.managementIPs ?? [])].includes(ip));
  const sds = sdss.find((s) => sdsIps(s).includes(ip));
  const out: DecommissionFacts = {
    pools: [],
    ...(member ? { mdmRole: member.role } : {}),
  };
  if (!sds) return out;
  out.sds = { id: sds.id, name: sds.name, state: sds.sdsState };
  const [pools, pds, devices] = await Promise.all([
    client.allStoragePools(),
    client.allProtectionDomains(),
    client.allDevices(),
  ]);
  const mine = devices.filter((d) => d.sdsId === sds.id);
  const poolIds = [...new Set(mine.map((d) => d.storagePoolId))];
  if (poolIds.length === 0) return out;
  const [poolStats, deviceStats] = (await Promise.all([
    client.selectedStatistics("StoragePool", poolIds, [
      "maxCapacityInKb",
      "capacityLimitInKb",
      "capacityInUseInKb",
    ]),
    client.selectedStatistics(
      "Device",
      mine.map((d) => d.id),
      ["maxCapacityInKb", "capacityLimitInKb", "capacityInUseInKb"],
    ),
  ])) as [Stats, Stats];
  const faultUnitOf = new Map(
    sdss.map((s) => [s.id, s.faultSetId ? `fs:${s.faultSetId}` : `sds:${s.id}`]),
  );
  for (const poolId of poolIds) {
    const pool = pools.find((p) => p.id === poolId);
    const pdName =
      pds.find((d) => d.id === pool?.protectionDomainId)?.name ?? pool?.protectionDomainId;
    const key = `${pdName}/${pool?.name ?? poolId}`;
    const units = new Set(
      devices
        .filter((d) => d.storagePoolId === poolId && d.sdsId !== sds.id)
        .map((d) => faultUnitOf.get(d.sdsId) ?? `sds:${d.sdsId}`),
    );
    const s = poolStats[poolId] ?? {};
    const here = mine.filter((d) => d.storagePoolId === poolId).map((d) => deviceStats[d.id] ?? {});
    const sum = (k: string) => here.reduce((n, d) => n + num(d[k]), 0);
    out.pools.push({
      pool: key,
      poolId,
      maxKb: num(s.maxCapacityInKb),
      limitKb: num(s.capacityLimitInKb),
      inUseKb: num(s.capacityInUseInKb),
      sdsMaxKb: sum("maxCapacityInKb"),
      sdsLimitKb: sum("capacityLimitInKb"),
      sdsInUseKb: sum("capacityInUseInKb"),
      sparePercentAfter: spareAfter(key) ?? num(pool?.sparePercentage),
      faultUnitsAfter: units.size,
    });
  }
  return out;
}

// ---- the plan ---------------------------------------------------------------------------

/** A node being decommissioned. */
export interface DecommissionTarget {
  agentId: string;
  hostname: string;
  ip: string;
  removeSdc: boolean;
}

export interface DecommissionPorts {
  gateway(): GatewayClient;
  system: { name?: string; id?: string };
  /** Runs a node step on the agent's executor. */
  node(agentId: string, kind: string, params: unknown, ctx: StepContext): Promise<unknown>;
  /** Gives back the agent's executor and reservations. */
  release(agentId: string, ctx: StepContext): Promise<void>;
  /** The node is out: recorded (persisted) as decommissioned. */
  finished(agentId: string): Promise<void>;
  /** Of `among`, what the framework added on the agent (teardown's `addedByFramework`). */
  added(agentId: string, among: Component[]): Component[];
  /** The module description the isolator step wrote (module mode; none: no isolator). */
  modulesFile?: string;
  /** Waits while the cluster rebuilds or is in a critical condition (the health gate). */
  gate?(ctx: StepContext): Promise<void>;
  /** How often the removal is looked at while the data moves (default 2 s). */
  pollMs?: number;
}

/** An abortable pause between two looks at a removal in progress. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason as Error);
    };
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

const REMOVAL_IN_PROGRESS = 103;

/** The operator's, not the framework's: it stays (existing-cluster mode). */
const kept = (what: string, t: DecommissionTarget) =>
  `${what} of ${t.hostname} kept: the framework did not install it (existing cluster: only what it added goes)`;

/** The volumes mapped to the SDC at the node's address (none without an SDC). */
async function mappedToNode(client: GatewayClient, ip: string): Promise<string[]> {
  const sdc = (await client.allSdcs()).find((c) => c.sdcIp === ip);
  if (!sdc) return [];
  return (await client.volumes())
    .filter((v) => (v.mappedSdcInfo ?? []).some((m) => m.sdcId === sdc.id))
    .map((v) => v.name ?? v.id);
}

const volumeList = (names: string[]) =>
  `${names.length} volume${names.length === 1 ? "" : "s"} mapped (${names.slice(0, 5).join(", ")}${
    names.length > 5 ? ", …" : ""
  })`;

/**
 * Removes the node's SDS gracefully and follows the data as it moves: the step's message
 * says how much is left to move and that the SDS is still listed; it ends when the SDS is gone.
 */
export async function removeSdsGracefully(
  t: DecommissionTarget,
  ports: DecommissionPorts,
  ctx: StepContext,
): Promise<void | string> {
  const client = ports.gateway();
  const first = await sdsAt(client, t.ip);
  if (!first) {
    ctx.progress(`no SDS at ${t.ip}: nothing to remove`);
    return;
  }
  if (ports.added(t.agentId, ["sds"]).length === 0) return kept(`SDS ${first.name ?? first.id}`, t);
  const name = first.name ?? first.id;
  const poolIds = [...new Set((await client.devicesOfSds(first.id)).map((d) => d.storagePoolId))];
  if (first.sdsState !== "RemovalInProgress") {
    if (ports.gate) await ports.gate(ctx);
    ctx.progress(`removing SDS ${name} (its data moves to the rest of its pools)`);
    try {
      await client.removeSds(first.id);
    } catch (err) {
      if (!(err instanceof GatewayError) || err.errorCode !== REMOVAL_IN_PROGRESS) {
        // The MDM's own refusal (not enough room, too few fault units) needs an operator.
        if (err instanceof GatewayError && err.httpStatus !== 0 && err.httpStatus !== 503)
          throw new PermanentStepError(`the MDM refused to remove SDS ${name}: ${err.message}`);
        throw err;
      }
    }
  }
  let most = 0;
  for (;;) {
    const now = (await client.allSds()).find((s) => s.id === first.id);
    if (!now) {
      ctx.progress(`SDS ${name} removed; its data moved to the rest of its pools`);
      return;
    }
    const stats = (
      poolIds.length
        ? await client.selectedStatistics("StoragePool", poolIds, ["movingCapacityInKb"])
        : {}
    ) as Stats;
    const moving = poolIds.reduce((n, id) => n + num(stats[id]?.movingCapacityInKb), 0);
    most = Math.max(most, moving);
    const done = most > 0 ? Math.floor(((most - moving) / most) * 100) : 0;
    ctx.progress(
      moving > 0
        ? `moving data off SDS ${name}: ${gb(moving)} left (${done} %); still listed (${now.sdsState ?? "?"})`
        : `SDS ${name} still listed (${now.sdsState ?? "?"}); no data left to move`,
    );
    await pause(ports.pollMs ?? 2000, ctx.signal);
  }
}

/** The SDC only when nothing is mapped to it: otherwise the step fails and says what is. */
export async function removeSdc(
  t: DecommissionTarget,
  ports: DecommissionPorts,
  ctx: StepContext,
): Promise<string> {
  if (ports.added(t.agentId, ["sdc"]).length === 0) return kept("the SDC", t);
  const client = ports.gateway();
  const volumes = await mappedToNode(client, t.ip);
  if (volumes.length > 0)
    throw new PermanentStepError(
      `the SDC of ${t.hostname} has ${volumeList(volumes)}: unmap ${volumes.length === 1 ? "it" : "them"} first, then restart this step`,
    );
  await ports.node(t.agentId, "scaleio.remove-packages", { components: ["sdc"] }, ctx);
  // The MDM forgets an SDC that maps nothing once it disconnects; a real one may keep it listed.
  const still = (await client.allSdcs()).find((c) => c.sdcIp === t.ip);
  if (still) await client.call("POST", `/api/instances/Sdc::${still.id}/action/removeSdc`, {});
  ctx.progress(`SDC of ${t.hostname} removed`);
  return `SDC of ${t.hostname} removed`;
}

/**
 * What the framework wrote for volume consumers on the node (REX-Ray's configuration, the
 * isolator's module description and agent flags), as an uninstall takes it: only once nothing
 * is mapped to the node's SDC. While a volume is, the applications using it still need REX-Ray
 * to unmount and unmap it: the configuration stays and the step says why.
 */
export async function removeConsumerConfig(
  t: DecommissionTarget,
  ports: DecommissionPorts,
  ctx: StepContext,
): Promise<string> {
  const what = ports.modulesFile
    ? "REX-Ray's and the isolator's configuration"
    : "REX-Ray's configuration";
  const volumes = await mappedToNode(ports.gateway(), t.ip);
  if (volumes.length > 0)
    return `${what} kept on ${t.hostname}: its SDC has ${volumeList(volumes)}, which need REX-Ray to be unmapped; unmap them, then restart this step to remove it`;
  const r = (await ports.node(
    t.agentId,
    "scaleio.remove-consumer-config",
    { rexray: true, ...(ports.modulesFile ? { modulesFile: ports.modulesFile } : {}) },
    ctx,
  )) as Partial<RemoveConsumerConfigResult> | undefined;
  return `${what} removed from ${t.hostname}${
    r?.agentRestartRequired
      ? " (the agent unloads the isolator at its next restart; it was not restarted)"
      : ""
  }`;
}

export function decommissionPhase(
  t: DecommissionTarget,
  ports: DecommissionPorts,
): PhaseDefinition {
  const a = t.agentId;
  const step = (id: string, name: string, run: (ctx: StepContext) => Promise<void | string>) => ({
    id: `${id}/${a}`,
    name,
    run,
    // One node step at a time on the agent, across plans.
    asset: a,
  });
  const components: Component[] = ["sds", "lia"];
  const consumers = ports.modulesFile
    ? "REX-Ray's and the isolator's configuration"
    : "REX-Ray's configuration";
  return {
    id: `node/${a}`,
    name: `Decommission ${t.hostname}`,
    strategy: "serial",
    steps: [
      step("remove-sds", `remove the SDS of ${t.hostname} (its data migrates)`, (ctx) =>
        removeSdsGracefully(t, ports, ctx),
      ),
      ...(t.removeSdc
        ? [step("remove-sdc", `remove the SDC of ${t.hostname}`, (ctx) => removeSdc(t, ports, ctx))]
        : []),
      step("consumers", `remove ${consumers} on ${t.hostname}`, (ctx) =>
        removeConsumerConfig(t, ports, ctx),
      ),
      step("uninstall", `uninstall ${components.join(" and ")} on ${t.hostname}`, async (ctx) => {
        const ours = ports.added(a, components);
        const others = components.filter((c) => !ours.includes(c));
        if (ours.length > 0)
          await ports.node(a, "scaleio.remove-packages", { components: ours }, ctx);
        return [
          ...(ours.length ? [`uninstalled ${ours.join(" and ")}`] : []),
          ...(others.length
            ? [
                `kept ${others.join(" and ")}: the framework did not install ${others.length === 1 ? "it" : "them"} (existing cluster: only what it added goes)`,
              ]
            : []),
        ].join("; ");
      }),
      step("release", `release the reservations on ${t.hostname}`, (ctx) => ports.release(a, ctx)),
      step("mark", `mark ${t.hostname} decommissioned`, async (ctx) => {
        await ports.finished(a);
        ctx.progress(`${t.hostname} is decommissioned: not on-boarded again until recommissioned`);
      }),
    ],
  };
}

/** One phase per node, side by side (the API lets one decommission run at a time). */
export function buildDecommissionPlan(
  targets: DecommissionTarget[],
  ports: DecommissionPorts,
): PlanDefinition {
  return {
    id: DECOMMISSION_PLAN,
    name: "Decommission nodes",
    strategy: "parallel",
    phases: targets.map((t) => decommissionPhase(t, ports)),
  };
}
