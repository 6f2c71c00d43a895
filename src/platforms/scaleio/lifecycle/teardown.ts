// Uninstall, the ScaleIO side: the `teardown` plan that takes away what the framework built,
// in the order that works (reference 6.1 backwards): volumes (only when the operator asked to
// destroy data) → REX-Ray's and the isolator's configuration on every agent → SDSs → pools,
// fault sets and protection domains → the SDS, SDC and LIA packages → the SDCs the MDM still
// lists → the MDM cluster (tie-breakers, then secondaries, the primary and its gateway last:
// removing the MDM package from its last member ends the cluster).
//
// In existing-cluster mode only what the framework added goes: the packages it installed (its
// record of installs), the SDSs on agents whose SDS package it installed, the SDCs of agents
// whose SDC package it installed, the pools, fault sets and domains it recorded creating, and
// REX-Ray's and the isolator's configuration. Never the
// operator's MDM cluster, SDSs, pools or volumes (with destroyData, volumes mapped to our
// SDCs are only unmapped from them).
//
// Every step looks first and does only what is left, so the plan can run again after a crash
// at any point; its progress is persisted by the engine like any plan's.
import type {
  PhaseDefinition,
  PlanDefinition,
  StepContext,
  StepDefinition,
} from "../../../framework/plan/types.js";
import { PermanentStepError } from "../../../framework/plan/types.js";
import { fingerprintOf } from "../../../framework/plan/fingerprint.js";
import type { GatewayClient } from "../gateway/client.js";
import { sdsIps } from "../gateway/types.js";
import type { Component } from "../node/common.js";
import type { MdmMember } from "../topology/mdm-placement.js";

export const TEARDOWN_PLAN = "teardown";

/** Why an uninstall is refused, with a stable code; the API answers `statusCode`. */
export class TeardownRefused extends Error {
  constructor(
    readonly code: "VOLUMES_EXIST" | "CLUSTER_UNREADABLE",
    message: string,
    readonly statusCode = code === "VOLUMES_EXIST" ? 409 : 503,
  ) {
    super(message);
    this.name = "TeardownRefused";
  }
}

/** Packages the framework installed itself (none of them was there before), per agent. */
export type InstalledRecord = Record<string, Component[]>;

export interface TeardownVolume {
  id: string;
  name: string;
  mapped: { sdcId: string; sdcIp?: string }[];
}

/** The cluster-side calls an uninstall needs (the REST gateway's, or a test's). */
export interface TeardownClusterOps {
  volumes(): Promise<TeardownVolume[]>;
  unmapVolume(volumeId: string, sdcId: string): Promise<void>;
  removeVolume(volumeId: string): Promise<void>;
  sdss(): Promise<{ id: string; name: string; ips: string[] }[]>;
  removeSds(id: string): Promise<void>;
  storage(): Promise<{
    pools: { id: string; name: string }[];
    faultSets: { id: string; name: string }[];
    domains: { id: string; name: string }[];
  }>;
  removePool(id: string): Promise<void>;
  removeFaultSet(id: string): Promise<void>;
  removeDomain(id: string): Promise<void>;
  sdcs(): Promise<{ id: string; ip?: string }[]>;
  removeSdc(id: string): Promise<void>;
}

export function gatewayTeardownOps(gw: () => GatewayClient): TeardownClusterOps {
  const name = (o: { id: string; name?: string | null }) => o.name ?? o.id;
  return {
    async volumes() {
      return (await gw().volumes()).map((v) => ({
        id: v.id,
        name: name(v),
        mapped: (v.mappedSdcInfo ?? []).map((m) => ({ sdcId: m.sdcId, sdcIp: m.sdcIp })),
      }));
    },
    unmapVolume: async (volumeId, sdcId) => void (await gw().unmapVolume(volumeId, sdcId)),
    removeVolume: async (id) =>
      void (await gw().call("POST", `/api/instances/Volume::${id}/action/removeVolume`, {
        // Snapshots of it go with it: nothing of the data is to stay.
        removeMode: "INCLUDING_DESCENDANTS",
      })),
    async sdss() {
      return (await gw().allSds()).map((s) => ({ id: s.id, name: name(s), ips: sdsIps(s) }));
    },
    removeSds: async (id) => void (await gw().removeSds(id)),
    async storage() {
      const client = gw();
      const [pools, faultSets, domains] = await Promise.all([
        client.allStoragePools(),
        client.faultSets(),
        client.allProtectionDomains(),
      ]);
      const short = (l: { id: string; name?: string | null }[]) =>
        l.map((o) => ({ id: o.id, name: name(o) }));
      return { pools: short(pools), faultSets: short(faultSets), domains: short(domains) };
    },
    removePool: async (id) => void (await gw().removeStoragePool(id)),
    removeFaultSet: async (id) => void (await gw().removeFaultSet(id)),
    removeDomain: async (id) => void (await gw().removeProtectionDomain(id)),
    async sdcs() {
      return (await gw().allSdcs()).map((c) => ({
        id: c.id,
        ...(c.sdcIp ? { ip: c.sdcIp } : {}),
      }));
    },
    removeSdc: async (id) => void (await gw().removeSdc(id)),
  };
}

export interface TeardownInput {
  /** The framework built the cluster (provision mode): all of it goes. */
  provisioned: boolean;
  destroyData: boolean;
  /** The agents to clean (those reachable; a lost agent's leftovers are reported, not waited for). */
  agents: { agentId: string; ip: string; hostname?: string }[];
  /** The MDM members it placed (provision mode). */
  mdms: MdmMember[];
  installed: InstalledRecord;
  /** Existing mode: the pools, fault sets and domains the framework created (by id). */
  created?: { pools: string[]; faultSets: string[]; domains: string[] };
  /** The module description the isolator step wrote (module mode). */
  modulesFile?: string;
}

export interface TeardownPorts {
  cluster: TeardownClusterOps;
  node(agentId: string, kind: string, params: unknown, ctx: StepContext): Promise<unknown>;
}

/** Components whose package goes with the node's own step (the MDM's and gateway's last). */
const NODE_COMPONENTS: Component[] = ["sdc", "sds", "lia"];
const MDM_COMPONENTS: Component[] = ["gateway", "lia", "sdc", "sds", "mdm"];

/** The volumes an uninstall would touch: all (provisioned) or those mapped to our SDCs. */
export function volumesInScope(
  volumes: TeardownVolume[],
  input: Pick<TeardownInput, "provisioned" | "agents">,
): TeardownVolume[] {
  if (input.provisioned) return volumes;
  const ours = new Set(input.agents.map((a) => a.ip));
  return volumes.filter((v) => v.mapped.some((m) => m.sdcIp !== undefined && ours.has(m.sdcIp)));
}

/** Checks an uninstall request before anything is done; rejects with TeardownRefused. */
export async function checkTeardown(
  cluster: TeardownClusterOps,
  input: Pick<TeardownInput, "provisioned" | "agents" | "destroyData">,
  clusterExists: boolean,
): Promise<void> {
  if (input.destroyData || !clusterExists) return;
  let volumes: TeardownVolume[];
  try {
    volumes = volumesInScope(await cluster.volumes(), input);
  } catch (err) {
    throw new TeardownRefused(
      "CLUSTER_UNREADABLE",
      `cannot tell whether volumes exist (${(err as Error).message}); try again, or ask with destroyData`,
    );
  }
  if (volumes.length > 0) throw new TeardownRefused("VOLUMES_EXIST", refusal(volumes, input));
}

function refusal(volumes: TeardownVolume[], input: Pick<TeardownInput, "provisioned">): string {
  const names = volumes
    .slice(0, 5)
    .map((v) => v.name)
    .join(", ");
  const more = volumes.length > 5 ? ` and ${volumes.length - 5} more` : "";
  const what = input.provisioned ? "exist" : "are mapped to this framework's SDCs";
  return `${volumes.length} volume(s) ${what} (${names}${more}): remove them first, or uninstall with destroyData to ${input.provisioned ? "remove them" : "unmap them"} (their data is lost to the applications)`;
}

/** Who built what: the whole cluster (provision mode), or only what the install record holds. */
export interface Ownership {
  provisioned: boolean;
  installed: InstalledRecord;
}

/**
 * Of `among`, the components the framework added on an agent and may take away again (an
 * uninstall's or a decommission's): all of them when it built the cluster; in existing-cluster
 * mode only the packages it recorded installing there (an SDS or SDC on an agent whose package
 * it did not install is the operator's, and stays with its package).
 */
export function addedByFramework(o: Ownership, agentId: string, among: Component[]): Component[] {
  if (o.provisioned) return among;
  const mine = new Set(o.installed[agentId] ?? []);
  return among.filter((c) => mine.has(c));
}

export function buildTeardownPlan(input: TeardownInput, ports: TeardownPorts): PlanDefinition {
  const { cluster } = ports;
  const ips = new Set(input.agents.map((a) => a.ip));
  const label = (a: { agentId: string; hostname?: string }) => a.hostname ?? a.agentId;
  const step = (
    id: string,
    name: string,
    run: StepDefinition["run"],
    asset?: string,
  ): StepDefinition => ({
    id,
    name,
    run,
    ...(asset ? { asset } : {}),
  });
  /** Existing mode: the SDS/SDC IPs of agents whose package of that component we installed. */
  const oursWith = (c: Component) =>
    new Set(
      input.agents.filter((a) => addedByFramework(input, a.agentId, [c]).length).map((a) => a.ip),
    );

  const phases: PhaseDefinition[] = [];
  phases.push({
    id: "data",
    name: "Volumes",
    strategy: "serial",
    steps: [
      {
        ...step("data/volumes", "remove volumes (only with destroyData)", async (ctx) => {
          const volumes = volumesInScope(await cluster.volumes(), input);
          if (volumes.length === 0) return "no volume in scope";
          if (!input.destroyData) throw new PermanentStepError(refusal(volumes, input));
          for (const v of volumes) {
            ctx.signal.throwIfAborted();
            for (const m of v.mapped) {
              if (!input.provisioned && (m.sdcIp === undefined || !ips.has(m.sdcIp))) continue;
              await cluster.unmapVolume(v.id, m.sdcId);
            }
            if (input.provisioned) await cluster.removeVolume(v.id);
            ctx.progress(`${input.provisioned ? "removed" : "unmapped"} volume ${v.name}`);
          }
          return `${input.provisioned ? "removed" : "unmapped"} ${volumes.length} volume(s)`;
        }),
        // Refused for volumes made after the request: asked again with destroyData, it runs again.
        fingerprint: fingerprintOf({ destroyData: input.destroyData }),
      },
    ],
  });
  phases.push({
    id: "consumers",
    name: "REX-Ray and isolator configuration",
    strategy: "parallel",
    steps: input.agents.map((a) =>
      step(
        `consumers/${a.agentId}`,
        `remove REX-Ray's and the isolator's configuration on ${label(a)}`,
        async (ctx) => {
          await ports.node(
            a.agentId,
            "scaleio.remove-consumer-config",
            { rexray: true, ...(input.modulesFile ? { modulesFile: input.modulesFile } : {}) },
            ctx,
          );
        },
        a.agentId,
      ),
    ),
  });
  phases.push({
    id: "storage",
    name: "SDSs, pools and domains",
    strategy: "serial",
    steps: [
      step("storage/sds", "remove the SDSs", async (ctx) => {
        const scope = input.provisioned ? undefined : oursWith("sds");
        const sdss = (await cluster.sdss()).filter(
          (s) => !scope || s.ips.some((ip) => scope.has(ip)),
        );
        if (sdss.length === 0) return "no SDS left";
        for (const s of sdss) {
          ctx.signal.throwIfAborted();
          // Asked again while it drains: the MDM says so, and the look below waits for it.
          await cluster.removeSds(s.id).catch((err: Error & { errorCode?: number }) => {
            // A real gateway says "SDS is being removed" (code 103); the emulator "in progress".
            if (err.errorCode !== 103 && !/in progress|being removed/i.test(err.message)) throw err;
          });
        }
        const left = (await cluster.sdss()).filter((s) => sdss.some((x) => x.id === s.id));
        if (left.length > 0)
          throw new Error(`${left.length} SDS(s) still being removed: ${names(left)}`);
        return `removed ${sdss.length} SDS(s)`;
      }),
      ...(input.provisioned
        ? [
            step("storage/pools", "remove the pools, fault sets and domains", async () => {
              const s = await cluster.storage();
              for (const p of s.pools) await cluster.removePool(p.id);
              for (const f of s.faultSets) await cluster.removeFaultSet(f.id);
              for (const d of s.domains) await cluster.removeDomain(d.id);
              return `removed ${s.pools.length} pool(s), ${s.faultSets.length} fault set(s), ${s.domains.length} domain(s)`;
            }),
          ]
        : [
            step(
              "storage/created",
              "remove the pools and domains the framework created",
              async () => {
                const c = input.created ?? { pools: [], faultSets: [], domains: [] };
                const s = await cluster.storage();
                const left: string[] = [];
                const removeAll = async (
                  kind: string,
                  ids: string[],
                  listed: { id: string; name: string }[],
                  remove: (id: string) => Promise<void>,
                ) => {
                  for (const o of listed.filter((x) => ids.includes(x.id))) {
                    // The operator may have put something of theirs in it since: then it stays.
                    await remove(o.id).catch((err: Error) =>
                      left.push(`${kind} ${o.name} (${err.message})`),
                    );
                  }
                };
                await removeAll("pool", c.pools, s.pools, (id) => cluster.removePool(id));
                await removeAll("fault set", c.faultSets, s.faultSets, (id) =>
                  cluster.removeFaultSet(id),
                );
                await removeAll("domain", c.domains, s.domains, (id) => cluster.removeDomain(id));
                return left.length
                  ? `left in place: ${left.join("; ")}`
                  : "removed what it created";
              },
            ),
          ]),
    ],
  });
  const mdmAgents = new Set(input.provisioned ? input.mdms.map((m) => m.agentId) : []);
  phases.push({
    id: "packages",
    name: "SDS, SDC and LIA packages",
    strategy: "parallel",
    steps: input.agents
      .filter((a) => !mdmAgents.has(a.agentId))
      .flatMap((a) => {
        const components = addedByFramework(input, a.agentId, NODE_COMPONENTS);
        if (components.length === 0) return [];
        return [removePackages(ports, a.agentId, label(a), components, step)];
      }),
  });
  phases.push({
    id: "clients",
    name: "SDCs",
    strategy: "serial",
    steps: [
      step("clients/sdcs", "remove the SDCs the MDM still lists", async () => {
        const scope = input.provisioned ? undefined : oursWith("sdc");
        const sdcs = (await cluster.sdcs()).filter(
          (c) => !scope || (c.ip !== undefined && scope.has(c.ip)),
        );
        for (const c of sdcs) await cluster.removeSdc(c.id);
        return sdcs.length ? `removed ${sdcs.length} SDC(s)` : "no SDC left";
      }),
    ],
  });
  if (input.provisioned) {
    // Tie-breakers, then secondaries, the primary (and its gateway) last.
    const order: MdmMember["role"][] = ["tiebreaker", "secondary", "primary"];
    const known = new Map(input.agents.map((a) => [a.agentId, a]));
    phases.push({
      id: "mdm",
      name: "MDM cluster",
      strategy: "serial",
      steps: [...input.mdms]
        .sort((a, b) => order.indexOf(a.role) - order.indexOf(b.role))
        .filter((m) => known.has(m.agentId))
        .map((m) =>
          removePackages(ports, m.agentId, label(known.get(m.agentId)!), MDM_COMPONENTS, step),
        ),
    });
  }
  return {
    id: TEARDOWN_PLAN,
    name: "Uninstall",
    strategy: "serial",
    phases: phases.filter((p) => p.steps.length > 0),
  };
}

function removePackages(
  ports: TeardownPorts,
  agentId: string,
  label: string,
  components: Component[],
  step: (
    id: string,
    name: string,
    run: (ctx: StepContext) => Promise<void>,
    asset?: string,
  ) => StepDefinition,
): StepDefinition {
  return step(
    `packages/${agentId}`,
    `remove ${components.join(", ")} from ${label}`,
    async (ctx) => {
      await ports.node(agentId, "scaleio.remove-packages", { components }, ctx);
    },
    agentId,
  );
}

function names(l: { name: string }[]): string {
  return l.map((x) => x.name).join(", ");
}
