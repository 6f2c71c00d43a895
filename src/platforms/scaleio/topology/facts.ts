// What the ScaleIO platform knows about an agent when it plans: identity, address, operator
// attributes, fault domain, free resources and (once an executor reported them) raw devices.

export interface DeviceFact {
  /** Stable path, e.g. /dev/sdb or /dev/disk/by-id/... */
  path: string;
  sizeBytes: number;
  /** False when the device holds a filesystem or partitions, is mounted, or is the root disk. */
  usable: boolean;
  /** Why it is not usable (shown to operators). */
  reason?: string;
}

export interface AgentFacts {
  agentId: string;
  hostname: string;
  /** The address ScaleIO components bind to (SDS IP, MDM IP, SDC IP). */
  ip: string;
  /** Mesos attributes as text (scalars and sets rendered as Mesos prints them). */
  attributes: Record<string, string>;
  faultDomain?: { region: string; zone: string };
  /** Unreserved resources the agent offers (or the framework already holds there). */
  resources: { cpus: number; memMb: number };
  /** Raw devices discovered by the executor; undefined until reported. */
  devices?: DeviceFact[];
}

/** The failure domain an agent belongs to: Mesos fault domain, else a rack/zone attribute. */
export function failureDomainOf(agent: AgentFacts): string | undefined {
  if (agent.faultDomain) return `${agent.faultDomain.region}/${agent.faultDomain.zone}`;
  const attr = agent.attributes.rack ?? agent.attributes.zone ?? agent.attributes["fault-domain"];
  return attr ? `attr:${attr}` : undefined;
}

/** Splits a comma list from an attribute, trimming and dropping empty items. */
export function splitList(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export class TopologyError extends Error {
  /** The agent the problem is about, when it is about one. */
  readonly agentId: string | undefined;
  constructor(message: string, agentId?: string) {
    super(message);
    this.name = "TopologyError";
    this.agentId = agentId;
  }
}
