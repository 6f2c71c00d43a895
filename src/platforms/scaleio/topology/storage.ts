// Decides which devices of which agent go to which protection domain and pool (SDS side) and
// which pool each agent consumes from (SDC side, for REX-Ray). Three strategies, as in the
// predecessor's documentation: a single global pool, imperative agent attributes, and a
// declarative YAML description. Problems with one agent are reported on that agent and keep
// it out of the SDS plan; they never stop the rest of the cluster.
import { splitList, type AgentFacts } from "./facts.js";
import type { DeclarativeTopology, AgentSelector } from "./declarative.js";

export interface PoolDevices {
  pool: string;
  devices: string[];
}

export interface SdsAssignment {
  protectionDomain: string;
  faultSet?: string;
  pools: PoolDevices[];
}

export interface SdcAssignment {
  protectionDomain: string;
  storagePool: string;
}

export interface NodeAssignment {
  agentId: string;
  sds?: SdsAssignment;
  sdc: SdcAssignment;
  /** Why (part of) this agent's storage was left out; empty when all is well. */
  problems: string[];
}

export interface PoolSpec {
  name: string;
  sparePercentage?: number;
}

export interface DomainSpec {
  name: string;
  faultSets: string[];
  pools: PoolSpec[];
}

export interface StorageLayout {
  domains: DomainSpec[];
  nodes: NodeAssignment[];
}

export type StrategyInput =
  | { strategy: "single-pool"; protectionDomain: string; storagePool: string }
  | { strategy: "imperative"; protectionDomain: string; storagePool: string }
  | { strategy: "declarative"; topology: DeclarativeTopology };

const DEVICE_PATH = /^\/dev\/[A-Za-z0-9._:+@-]+(\/[A-Za-z0-9._:+@-]+)*$/;
const NAME = /^[A-Za-z0-9_.-]{1,31}$/;

/** Checks a device path named by an operator against what the executor discovered. */
function checkDevice(agent: AgentFacts, path: string): string | undefined {
  if (!DEVICE_PATH.test(path) || path.split("/").includes("..")) {
    return `device path '${path}' is not a plain /dev path`;
  }
  if (!agent.devices) return undefined; // not discovered yet: the node step re-checks on the host
  const found = agent.devices.find((d) => d.path === path);
  if (!found) return `device ${path} does not exist on ${agent.hostname}`;
  if (!found.usable) return `device ${path} is not usable: ${found.reason ?? "in use"}`;
  return undefined;
}

function usableDevices(agent: AgentFacts): string[] {
  return (agent.devices ?? []).filter((d) => d.usable).map((d) => d.path);
}

function addDomain(
  domains: Map<string, DomainSpec>,
  pd: string,
  pool: string,
  faultSet?: string,
): void {
  const d = domains.get(pd) ?? { name: pd, faultSets: [], pools: [] };
  if (!d.pools.some((p) => p.name === pool)) d.pools.push({ name: pool });
  if (faultSet && !d.faultSets.includes(faultSet)) d.faultSets.push(faultSet);
  domains.set(pd, d);
}

function singlePool(agents: AgentFacts[], pd: string, pool: string): StorageLayout {
  const domains = new Map<string, DomainSpec>();
  addDomain(domains, pd, pool);
  const nodes = agents.map((agent) => {
    const devices = usableDevices(agent);
    return {
      agentId: agent.agentId,
      ...(devices.length ? { sds: { protectionDomain: pd, pools: [{ pool, devices }] } } : {}),
      sdc: { protectionDomain: pd, storagePool: pool },
      problems: [],
    };
  });
  return { domains: [...domains.values()], nodes };
}

/** The imperative strategy: `scaleio-sds-domains`, `scaleio-sds-<domain>`, `scaleio-sds-<pool>`, `scaleio-sdc-*`. */
function imperative(agents: AgentFacts[], defaultPd: string, defaultPool: string): StorageLayout {
  const domains = new Map<string, DomainSpec>();
  const nodes: NodeAssignment[] = [];
  const sdcWanted = new Map<string, SdcAssignment | undefined>();
  for (const agent of agents) {
    const a = agent.attributes;
    const problems: string[] = [];
    let sds: SdsAssignment | undefined;
    const pds = splitList(a["scaleio-sds-domains"]);
    if (pds.length > 1) {
      problems.push(
        `scaleio-sds-domains names ${pds.length} protection domains (${pds.join(", ")}); ScaleIO runs one SDS per agent address, so an agent can serve one protection domain`,
      );
    } else if (pds.length === 1) {
      const pd = pds[0]!;
      const pools = splitList(a[`scaleio-sds-${pd}`]);
      const local: string[] = [];
      if (!NAME.test(pd)) local.push(`protection domain name '${pd}' is not a valid ScaleIO name`);
      if (pools.length === 0)
        local.push(
          `scaleio-sds-domains names '${pd}' but there is no attribute scaleio-sds-${pd} listing its pools`,
        );
      const seen = new Map<string, string>();
      const assigned: PoolDevices[] = [];
      for (const pool of pools) {
        if (!NAME.test(pool)) local.push(`storage pool name '${pool}' is not a valid ScaleIO name`);
        if (pool === pd)
          local.push(`'${pool}' is used both as a protection domain and as a pool name`);
        const devices = splitList(a[`scaleio-sds-${pool}`]);
        if (devices.length === 0)
          local.push(`pool '${pool}' has no attribute scaleio-sds-${pool} listing its devices`);
        for (const dev of devices) {
          const other = seen.get(dev);
          if (other) local.push(`device ${dev} is listed in two pools: ${other} and ${pool}`);
          seen.set(dev, pool);
          const bad = checkDevice(agent, dev);
          if (bad) local.push(bad);
        }
        assigned.push({ pool, devices });
      }
      if (local.length === 0) {
        sds = { protectionDomain: pd, pools: assigned };
        for (const p of assigned) addDomain(domains, pd, p.pool);
      }
      problems.push(...local);
    }
    // What this agent consumes: explicit SDC attributes, else its own first pool, else defaults.
    const sdcPds = splitList(a["scaleio-sdc-domains"]);
    let sdc: SdcAssignment | undefined;
    if (sdcPds.length > 0) {
      const pd = sdcPds[0]!;
      const pool = splitList(a[`scaleio-sdc-${pd}`])[0];
      if (sdcPds.length > 1)
        problems.push(
          `scaleio-sdc-domains names several domains; REX-Ray uses one, '${pd}' is used`,
        );
      if (!pool)
        problems.push(`scaleio-sdc-domains names '${pd}' but scaleio-sdc-${pd} names no pool`);
      else sdc = { protectionDomain: pd, storagePool: pool };
    } else if (sds) {
      sdc = { protectionDomain: sds.protectionDomain, storagePool: sds.pools[0]!.pool };
    }
    sdcWanted.set(agent.agentId, sdc);
    nodes.push({
      agentId: agent.agentId,
      ...(sds ? { sds } : {}),
      sdc: sdc ?? { protectionDomain: defaultPd, storagePool: defaultPool },
      problems,
    });
  }
  if (domains.size === 0) addDomain(domains, defaultPd, defaultPool);
  // A consumer naming a pool nobody provides is an error on that agent (it falls back to the default).
  for (const node of nodes) {
    const want = sdcWanted.get(node.agentId);
    if (!want) continue;
    const known = domains
      .get(want.protectionDomain)
      ?.pools.some((p) => p.name === want.storagePool);
    if (!known) {
      node.problems.push(
        `scaleio-sdc attributes name pool '${want.storagePool}' in domain '${want.protectionDomain}', which no agent provides`,
      );
      node.sdc = { protectionDomain: defaultPd, storagePool: defaultPool };
    }
  }
  return { domains: [...domains.values()], nodes };
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${escaped}$`, "i");
}

export function matches(selector: AgentSelector | undefined, agent: AgentFacts): boolean {
  if (!selector) return true;
  if (selector.hostname && !globToRegExp(selector.hostname).test(agent.hostname)) return false;
  for (const [k, v] of Object.entries(selector.attributes ?? {})) {
    if (agent.attributes[k] !== v) return false;
  }
  return true;
}

function declarative(agents: AgentFacts[], topo: DeclarativeTopology): StorageLayout {
  const domains: DomainSpec[] = topo.protectionDomains.map((pd) => ({
    name: pd.name,
    faultSets: [],
    pools: pd.pools.map((p) => ({
      name: p.name,
      ...(p.sparePercentage !== undefined ? { sparePercentage: p.sparePercentage } : {}),
    })),
  }));
  const nodes: NodeAssignment[] = [];
  for (const agent of agents) {
    const problems: string[] = [];
    const perPd = new Map<string, PoolDevices[]>();
    const owner = new Map<string, string>();
    for (const pd of topo.protectionDomains) {
      for (const pool of pd.pools) {
        for (const rule of pool.devices) {
          if (!matches(rule.agents, agent)) continue;
          const paths = rule.paths ?? usableDevices(agent);
          const list = perPd.get(pd.name) ?? [];
          let entry = list.find((p) => p.pool === pool.name);
          if (!entry) {
            entry = { pool: pool.name, devices: [] };
            list.push(entry);
          }
          for (const dev of paths) {
            const where = `${pd.name}/${pool.name}`;
            const prev = owner.get(dev);
            if (prev && prev !== where)
              problems.push(`device ${dev} is selected by two pools: ${prev} and ${where}`);
            owner.set(dev, where);
            if (rule.paths) {
              const bad = checkDevice(agent, dev);
              if (bad) problems.push(bad);
            }
            if (!entry.devices.includes(dev)) entry.devices.push(dev);
          }
          perPd.set(pd.name, list);
        }
      }
    }
    let sds: SdsAssignment | undefined;
    const pdNames = [...perPd.keys()].filter((k) =>
      perPd.get(k)!.some((p) => p.devices.length > 0),
    );
    if (pdNames.length > 1) {
      problems.push(
        `selected by ${pdNames.length} protection domains (${pdNames.join(", ")}); an agent can serve one`,
      );
    } else if (pdNames.length === 1 && problems.length === 0) {
      const pdName = pdNames[0]!;
      const spec = topo.protectionDomains.find((p) => p.name === pdName)!;
      const pools = perPd.get(pdName)!.filter((p) => p.devices.length > 0);
      let faultSet: string | undefined;
      if (spec.faultSetAttribute) {
        faultSet = agent.attributes[spec.faultSetAttribute];
        if (!faultSet)
          problems.push(
            `protection domain ${pdName} groups fault sets by attribute '${spec.faultSetAttribute}', which this agent lacks`,
          );
        else if (!NAME.test(faultSet))
          problems.push(
            `fault set name '${faultSet}' (attribute ${spec.faultSetAttribute}) is not a valid ScaleIO name`,
          );
      }
      if (problems.length === 0) {
        sds = { protectionDomain: pdName, ...(faultSet ? { faultSet } : {}), pools };
        const d = domains.find((x) => x.name === pdName)!;
        if (faultSet && !d.faultSets.includes(faultSet)) d.faultSets.push(faultSet);
      }
    }
    const consumer = topo.consumers.find((c) => matches(c.agents, agent));
    const first = topo.protectionDomains[0]!;
    const sdc: SdcAssignment = consumer
      ? { protectionDomain: consumer.protectionDomain, storagePool: consumer.pool }
      : sds
        ? { protectionDomain: sds.protectionDomain, storagePool: sds.pools[0]!.pool }
        : { protectionDomain: first.name, storagePool: first.pools[0]!.name };
    nodes.push({ agentId: agent.agentId, ...(sds ? { sds } : {}), sdc, problems });
  }
  return { domains, nodes };
}

export function planStorage(agents: AgentFacts[], input: StrategyInput): StorageLayout {
  switch (input.strategy) {
    case "single-pool":
      return singlePool(agents, input.protectionDomain, input.storagePool);
    case "imperative":
      return imperative(agents, input.protectionDomain, input.storagePool);
    case "declarative":
      return declarative(agents, input.topology);
  }
}
