// The ScaleIO `deploy` plan, computed from desired state (configuration, agents, topology)
// and observed state (host facts reported by executors, the placement chosen earlier). It is
// recomputed whenever those change; step ids are stable so progress carries over. Node-side
// steps run on the agent's executor, cluster-side steps against the REST gateway; every
// step is idempotent, so a crash anywhere just means running it again.
import type {
  PhaseDefinition,
  PlanDefinition,
  StepContext,
  StepDefinition,
} from "../../framework/plan/types.js";
import { PermanentStepError } from "../../framework/plan/types.js";
import { fingerprintOf } from "../../framework/plan/fingerprint.js";
import type { AgentFacts, DeviceFact } from "./topology/facts.js";
import type { MdmMember } from "./topology/mdm-placement.js";
import type { SdsAssignment, StorageLayout } from "./topology/storage.js";

export type Component = "mdm" | "sds" | "sdc" | "lia" | "gateway";

/** What the host-facts node step reported about an agent. */
export interface HostFacts {
  packageFormat: "deb" | "rpm";
  devices: DeviceFact[];
  installed: Partial<Record<Component, string>>;
  sdcGuid?: string;
  /** The operating system (absent from executors that predate OS profiles). */
  os?: { id: string; install: "package-tool" | "unpack"; init: string; kernel?: string };
}

/** `flatcar: payloads unpacked, systemd, kernel 5.10.43-flatcar, 2 usable devices`. */
export function hostText(f: HostFacts): string {
  const usable = f.devices.filter((d) => d.usable).length;
  const devices = `${usable} usable device${usable === 1 ? "" : "s"}`;
  if (!f.os) return `${f.packageFormat} packages, ${devices}`;
  const how = f.os.install === "unpack" ? "payloads unpacked" : `${f.packageFormat} packages`;
  const kernel = f.os.kernel ? `, kernel ${f.os.kernel}` : "";
  return `${f.os.id}: ${how}, ${f.os.init}${kernel}, ${devices}`;
}

export interface DeployPorts {
  /** Runs a node step on the agent's executor; resolves with its result data. */
  node(
    agentId: string,
    kind: string,
    params: unknown,
    ctx: StepContext,
    opts?: { secrets?: string[] },
  ): Promise<unknown>;
  /** Records what an agent reported (the plan is then recomputed). */
  saveFacts(agentId: string, facts: HostFacts): Promise<void>;
  /** Creates the layout's protection domains, fault sets and pools. */
  prepareDomains(layout: StorageLayout, ctx: StepContext): Promise<void>;
  /** Creates one agent's SDS with its devices. */
  applyAgent(layout: StorageLayout, agentId: string, ctx: StepContext): Promise<void>;
  /** The cluster serves: state, SDS/SDC connections, a test volume's life cycle. Resolves
   *  with what it showed, when it says. */
  verify(ctx: StepContext): Promise<void | string>;
  /** Operator opt-in only: drain the agent, then restart its Mesos agent service. */
  restartAgent?(agentId: string, ctx: StepContext): Promise<void>;
}

export interface DeployInput {
  /** Agents to deploy on (lost agents are left out by the caller). */
  agents: AgentFacts[];
  /** Addresses of every known agent, lost ones included (an MDM that is away keeps its IP). */
  addresses?: Map<string, string>;
  facts: Map<string, HostFacts>;
  /** MDM members when provisioning; undefined in existing-cluster mode. */
  mdms?: MdmMember[];
  /** Existing cluster: manager addresses (SDCs point at them). */
  existingManagers?: string[];
  layout: StorageLayout;
  systemName: string;
  packageUrl(format: "deb" | "rpm", component: Component): string;
  /** Where SDC drivers for kernels the package lacks are (driver_sync's repository). */
  sdcDriverRepo?: string;
  rexray: RexraySettings;
  isolator?: IsolatorSettings;
}

/** Where REX-Ray reaches the gateway, how it trusts it, and how it provisions volumes. */
export interface RexraySettings {
  endpoint: string | (() => string);
  insecure: boolean;
  thinOrThick: "ThinProvisioned" | "ThickProvisioned";
  /**
   * Where REX-Ray (and dvdcli) are downloaded from. With it the step installs them, starts
   * REX-Ray's service and completes once REX-Ray lists the volumes; without it, the
   * configuration file is all it writes.
   */
  install?: { rexrayUrl: string; dvdcliUrl?: string };
}

export interface IsolatorSettings {
  /** `module` (mesos-module-dvdi) or `docker-volume` (Mesos >= 1.0 built-in isolator). */
  mode?: "module" | "docker-volume";
  isolatorPath?: string;
  /** Where the executor fetches the module library from (installed under /usr/lib). */
  isolatorUrl?: string;
  modulesFile?: string;
  /**
   * Restart the agent service when its isolator configuration changed (after draining it).
   * Off by default: the flags to apply are then only reported in the step's result.
   */
  restartAgent?: boolean;
}

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

// Code-point order: the same in every process, whatever its locale.
const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const byName = <T extends { name: string }>(xs: T[]) =>
  [...xs].sort((a, b) => order(a.name, b.name));

/**
 * What the domains step creates: protection domains, their fault sets, their pools and the
 * pools' spare (which the spare policy derives from the SDSs: a new SDS may change it).
 * Order carries no meaning.
 */
export function domainsFingerprint(layout: StorageLayout): string {
  return fingerprintOf(
    byName(layout.domains).map((d) => ({
      name: d.name,
      faultSets: [...d.faultSets].sort(),
      pools: byName(d.pools).map((p) => ({ name: p.name, spare: p.sparePercentage })),
    })),
  );
}

/** What an agent's SDS step joins: its domain, fault set, and devices per pool. */
export function sdsFingerprint(sds: SdsAssignment): string {
  return fingerprintOf({
    protectionDomain: sds.protectionDomain,
    faultSet: sds.faultSet,
    pools: [...sds.pools]
      .sort((a, b) => order(a.pool, b.pool))
      .map((p) => ({ pool: p.pool, devices: [...p.devices].sort() })),
  });
}

function rexrayEndpoint(r: RexraySettings): string {
  return typeof r.endpoint === "function" ? r.endpoint() : r.endpoint;
}

/** The endpoint for a fingerprint: not known before the gateway's node is placed. */
function knownEndpoint(r: RexraySettings): string | null {
  try {
    return rexrayEndpoint(r);
  } catch {
    // Before placement the step cannot run yet either; it is pending, so nothing resets.
    return null;
  }
}

/**
 * A finished install step's text, from what the node step answered (one package or a list):
 * `installed sds 2.0-6035.0, lia 2.0-6035.0`, `sdc 2.0-6035.0 already installed`.
 */
export function installedText(result: unknown): string | undefined {
  const list = (Array.isArray(result) ? result : [result]).filter(
    (
      r,
    ): r is { component: string; version?: string; changed?: boolean; previousVersion?: string } =>
      typeof r === "object" &&
      r !== null &&
      typeof (r as { component?: unknown }).component === "string",
  );
  if (list.length === 0) return undefined;
  const what = (r: (typeof list)[number]) => `${r.component}${r.version ? ` ${r.version}` : ""}`;
  const parts: string[] = [];
  const installed = list.filter((r) => r.changed && !r.previousVersion);
  const upgraded = list.filter((r) => r.changed && r.previousVersion);
  const already = list.filter((r) => !r.changed);
  if (installed.length) parts.push(`installed ${installed.map(what).join(", ")}`);
  if (upgraded.length)
    parts.push(
      `upgraded ${upgraded.map((r) => `${r.component} ${r.previousVersion} to ${r.version}`).join(", ")}`,
    );
  if (already.length) parts.push(`${already.map(what).join(", ")} already installed`);
  return parts.join("; ");
}

/** What scaleio.rexray-install answered (the parts shown in the step's text). */
export interface RexrayInstalled {
  rexray?: { version?: string; from?: string; changed?: boolean };
  dvdcli?: { from?: string };
  service?: { init?: string };
  volumes?: string[];
}

/** `REX-Ray 0.11.4 installed, service rexray running (systemd), dvdcli installed; lists 2 volumes`. */
export function rexrayText(r: RexrayInstalled | null): string {
  const what = `REX-Ray${r?.rexray?.version ? ` ${r.rexray.version}` : ""}`;
  const n = r?.volumes?.length ?? 0;
  return [
    `${what} ${r?.rexray?.changed ? "installed" : "in place"}`,
    `service rexray running${r?.service?.init ? ` (${r.service.init})` : ""}`,
    ...(r?.dvdcli ? ["dvdcli installed"] : []),
  ]
    .join(", ")
    .concat(`; lists ${n} volume${n === 1 ? "" : "s"} through the ScaleIO driver`);
}

function needFacts(input: DeployInput, agentId: string): HostFacts {
  const f = input.facts.get(agentId);
  if (!f) throw new Error(`no host facts for agent ${agentId} yet`);
  return f;
}

export function buildDeployPlan(input: DeployInput, ports: DeployPorts): PlanDefinition {
  const byId = new Map(input.agents.map((a) => [a.agentId, a]));
  const ipOf = (agentId: string) =>
    byId.get(agentId)?.ip ?? input.addresses?.get(agentId) ?? agentId;
  const managers = input.mdms
    ? input.mdms.filter((m) => m.role !== "tiebreaker").map((m) => ipOf(m.agentId))
    : (input.existingManagers ?? []);
  const haveAllFacts = input.agents.every((a) => input.facts.has(a.agentId));

  // Per-agent order: an agent's next step waits for its own previous one, not for every
  // agent's (a phase barrier would hold the MDM nodes, the critical path, for the slowest).
  const after = (def: StepDefinition, ...stepIds: string[]): StepDefinition => ({
    ...def,
    after: stepIds,
  });
  // Every package needs the agent's prerequisites. Several components of one agent install
  // in one step (one Mesos task, not one each); the id names what it installs, so an agent
  // that gains a disk later gets a new step (the SDS to install) instead of a completed one
  // that no longer says what it did.
  const install = (
    agentId: string,
    packages: ({ component: Component } & Record<string, unknown>)[],
    secrets?: string[],
    /** scaleio.install-packages even for one: what an agent's server components use. */
    asList = packages.length > 1,
  ) => {
    const components = packages.map((p) => p.component);
    return after(
      step(
        `${components.join("-")}/${agentId}`,
        `install ${components.join(" and ")} on ${byId.get(agentId)?.hostname ?? agentId}`,
        async (ctx) => {
          const facts = needFacts(input, agentId);
          const params = packages.map((p) => ({
            ...p,
            url: input.packageUrl(facts.packageFormat, p.component),
          }));
          const result = await ports.node(
            agentId,
            asList ? "scaleio.install-packages" : "scaleio.install-package",
            asList ? { packages: params } : params[0],
            ctx,
            secrets ? { secrets } : undefined,
          );
          return installedText(result);
        },
        agentId,
      ),
      `prereq/${agentId}`,
    );
  };
  // The SDS (where the agent has one) and the LIA.
  const installServer = (agentId: string, withSds: boolean) =>
    install(
      agentId,
      withSds ? [{ component: "sds" }, { component: "lia" }] : [{ component: "lia" }],
      ["adminPassword"],
      true,
    );

  const phases: PhaseDefinition[] = [];
  phases.push({
    id: "facts",
    name: "Discover hosts",
    strategy: "parallel",
    steps: input.agents.map((a) =>
      step(
        `facts/${a.agentId}`,
        `discover ${a.hostname}`,
        async (ctx) => {
          const facts = (await ports.node(a.agentId, "scaleio.host-facts", {}, ctx)) as HostFacts;
          if (!facts || (facts.packageFormat !== "deb" && facts.packageFormat !== "rpm")) {
            throw new PermanentStepError(
              `${a.hostname}: no supported package manager (deb or rpm)`,
            );
          }
          await ports.saveFacts(a.agentId, facts);
          return hostText(facts);
        },
        a.agentId,
      ),
    ),
  });
  phases.push({
    id: "prerequisites",
    name: "Install prerequisites",
    strategy: "parallel",
    steps: input.agents.map((a) =>
      after(
        step(
          `prereq/${a.agentId}`,
          `prerequisites on ${a.hostname}`,
          async (ctx) => {
            await ports.node(a.agentId, "scaleio.install-prerequisites", {}, ctx);
          },
          a.agentId,
        ),
        `facts/${a.agentId}`,
      ),
    ),
  });

  if (input.mdms) {
    const members = input.mdms;
    phases.push({
      id: "mdm-packages",
      name: "Install MDMs",
      strategy: "parallel",
      // A member that is away is neither replaced nor waited for; it is checked again on return.
      steps: members
        .filter((m) => byId.has(m.agentId))
        .map((m) =>
          install(m.agentId, [
            { component: "mdm", mdmRole: m.role === "tiebreaker" ? "tiebreaker" : "manager" },
          ]),
        ),
    });
    const primary = members.find((m) => m.role === "primary")!;
    const primaryHere = byId.has(primary.agentId);
    phases.push({
      id: "mdm-cluster",
      name: "Create the MDM cluster",
      strategy: "serial",
      dependsOn: ["mdm-packages"],
      steps: !primaryHere
        ? []
        : [
            step(
              `mdm-cluster/${primary.agentId}`,
              `create the ${members.length}-node MDM cluster`,
              async (ctx) => {
                const member = (m: MdmMember) => ({ ip: ipOf(m.agentId), name: m.name });
                await ports.node(
                  primary.agentId,
                  "scaleio.mdm-cluster",
                  {
                    primary: member(primary),
                    secondaries: members.filter((m) => m.role === "secondary").map(member),
                    tiebreakers: members.filter((m) => m.role === "tiebreaker").map(member),
                    systemName: input.systemName,
                  },
                  ctx,
                  { secrets: ["adminPassword"] },
                );
              },
              primary.agentId,
            ),
          ],
    });
    phases.push({
      id: "gateway",
      name: "Install the gateway",
      strategy: "serial",
      dependsOn: ["mdm-cluster"],
      steps: primaryHere
        ? [install(primary.agentId, [{ component: "gateway" }], ["adminPassword"])]
        : [],
    });
  }

  const clusterReady = input.mdms ? ["gateway"] : ["prerequisites"];
  const sdsNodes = input.layout.nodes.flatMap((n) =>
    n.sds ? [{ agentId: n.agentId, sds: n.sds }] : [],
  );
  const sdsAgents = sdsNodes.map((n) => n.agentId);
  // An agent runs one node step at a time. The MDM nodes form the cluster (MDM install,
  // cluster, gateway: the deploy's critical path), so their SDS and LIA come after the
  // gateway; elsewhere both install while the cluster forms (neither needs an MDM). The SDC
  // is given the managers' addresses, so it waits for the cluster everywhere.
  const mdmAgents = new Set((input.mdms ?? []).map((m) => m.agentId));
  const early = (id: string) => !mdmAgents.has(id);
  const sdsHere = new Set(sdsAgents);
  phases.push({
    id: "node-packages",
    name: "Install SDS and LIA",
    strategy: "parallel",
    steps: input.agents
      .filter((a) => early(a.agentId))
      .map((a) => installServer(a.agentId, sdsHere.has(a.agentId))),
  });
  if (mdmAgents.size > 0) {
    phases.push({
      id: "mdm-node-packages",
      name: "Install SDS and LIA on the MDM nodes",
      strategy: "parallel",
      dependsOn: clusterReady,
      steps: input.agents
        .filter((a) => !early(a.agentId))
        .map((a) => installServer(a.agentId, sdsHere.has(a.agentId))),
    });
  }
  const packagesDone = ["node-packages", ...(mdmAgents.size > 0 ? ["mdm-node-packages"] : [])];
  phases.push({
    id: "clients",
    name: "Install SDCs",
    strategy: "parallel",
    dependsOn: clusterReady,
    steps: input.agents.map((a) => ({
      ...install(a.agentId, [
        {
          component: "sdc",
          mdmIps: managers,
          ...(input.sdcDriverRepo ? { driverRepo: input.sdcDriverRepo } : {}),
        },
      ]),
      // Other managers (an MDM replaced, an existing cluster's list edited): pointed again.
      fingerprint: fingerprintOf({ mdmIps: [...managers].sort() }),
    })),
  });
  // Every node step is planned by now; later steps wait for those of their agent that exist
  // (an agent may have no SDS step, or be away).
  const planned = new Set(phases.flatMap((p) => p.steps.map((st) => st.id)));
  const afterExisting = (def: StepDefinition, stepId: string): StepDefinition =>
    planned.has(stepId) ? after(def, stepId) : def;
  phases.push({
    id: "storage",
    name: "Create protection domains and pools",
    strategy: "serial",
    // Domains, fault sets and pools need the cluster, not the SDSs (the documented order
    // creates them first, then adds the SDSs).
    dependsOn: clusterReady,
    steps: [
      {
        ...step("storage/domains", "protection domains, fault sets and pools", async (ctx) => {
          // The layout depends on every agent's devices; the plan is recomputed once they are known.
          if (!haveAllFacts) throw new Error("waiting for every agent's host facts");
          await ports.prepareDomains(input.layout, ctx);
        }),
        // New pools, fault sets or spare run it again (the engine resets it).
        fingerprint: domainsFingerprint(input.layout),
      },
    ],
  });
  phases.push({
    id: "sds",
    name: "Join SDSs and their devices",
    strategy: "parallel",
    dependsOn: ["storage"],
    // Each SDS joins once its own package is in, not after every agent's.
    steps: sdsNodes.map((n) =>
      afterExisting(
        {
          ...step(
            `join-sds/${n.agentId}`,
            `SDS on ${byId.get(n.agentId)?.hostname ?? n.agentId}`,
            (ctx) => ports.applyAgent(input.layout, n.agentId, ctx),
          ),
          // New devices (or another pool) join when the agent's assignment changes.
          fingerprint: sdsFingerprint(n.sds),
        },
        `sds-lia/${n.agentId}`,
      ),
    ),
  });
  // An agent whose attributes or devices cannot be honoured gets a step that says why, in its
  // own phase that nothing waits for: the rest of the cluster goes on.
  const troubled = input.layout.nodes.filter((n) => n.problems.length > 0 && byId.has(n.agentId));
  if (troubled.length > 0) {
    phases.push({
      id: "assignments",
      name: "Agent storage assignments",
      strategy: "parallel",
      steps: troubled.map((n) =>
        step(
          `assign/${n.agentId}`,
          `storage assignment of ${byId.get(n.agentId)!.hostname}`,
          () =>
            Promise.reject(
              new PermanentStepError(
                `${byId.get(n.agentId)!.hostname}: storage left out: ${n.problems.join("; ")}`,
              ),
            ),
          n.agentId,
        ),
      ),
    });
  }
  phases.push({
    id: "consumers",
    name: "Configure REX-Ray and the isolator",
    strategy: "parallel",
    // REX-Ray names a pool: it waits for the pools, and on each agent for that agent's SDC
    // (the driver maps volumes through it), not for every agent's packages.
    dependsOn: ["storage"],
    steps: input.layout.nodes.flatMap((n) => {
      const a = byId.get(n.agentId);
      if (!a) return [];
      const rexray = (endpoint: string | null) => ({
        endpoint,
        insecure: input.rexray.insecure,
        thinOrThick: input.rexray.thinOrThick,
        systemName: input.systemName,
        protectionDomain: n.sdc.protectionDomain,
        storagePool: n.sdc.storagePool,
      });
      const steps = [
        afterExisting(
          {
            ...step(
              `rexray/${a.agentId}`,
              `REX-Ray on ${a.hostname}`,
              async (ctx) => {
                await ports.node(
                  a.agentId,
                  "scaleio.rexray-config",
                  rexray(rexrayEndpoint(input.rexray)),
                  ctx,
                  { secrets: ["adminPassword"] },
                );
                if (!input.rexray.install) return "configuration written (no REX-Ray download set)";
                const r = (await ports.node(
                  a.agentId,
                  "scaleio.rexray-install",
                  input.rexray.install,
                  ctx,
                )) as RexrayInstalled | null;
                return rexrayText(r);
              },
              a.agentId,
            ),
            // Another pool or domain for the agent's volumes, another gateway, another
            // download: written (installed) again.
            fingerprint: fingerprintOf({
              ...rexray(knownEndpoint(input.rexray)),
              ...(input.rexray.install ? { install: input.rexray.install } : {}),
            }),
          },
          `sdc/${a.agentId}`,
        ),
      ];
      if (input.isolator) {
        const iso = input.isolator;
        // After REX-Ray's step, which installs the dvdcli the isolator looks for.
        steps.push(
          after(
            step(
              `isolator/${a.agentId}`,
              `DVDI isolator on ${a.hostname}`,
              async (ctx) => {
                const { restartAgent, ...params } = iso;
                const r = (await ports.node(a.agentId, "scaleio.isolator-config", params, ctx)) as {
                  agentRestartRequired?: boolean;
                  agentFlags?: string[];
                } | null;
                if (!r?.agentRestartRequired) return;
                if (restartAgent && ports.restartAgent) {
                  await ports.restartAgent(a.agentId, ctx);
                } else {
                  ctx.progress(
                    `${a.hostname}: restart the Mesos agent to apply ${(r.agentFlags ?? []).join(" ")}`,
                  );
                }
              },
              a.agentId,
            ),
            `rexray/${a.agentId}`,
          ),
        );
      }
      return steps;
    }),
  });
  phases.push({
    id: "verify",
    name: "Verify the cluster",
    strategy: "serial",
    // Everything: every SDS and SDC connected, then a test volume.
    dependsOn: ["consumers", "sds", "clients", ...packagesDone],
    steps: haveAllFacts
      ? [
          {
            ...step(
              "verify/cluster",
              "cluster healthy, test volume created, mapped and removed",
              (ctx) => ports.verify(ctx),
            ),
            // Verified again once new agents are in. Lost agents stay known (by address), so
            // losing one does not ask for a verification that cannot pass until it is back.
            fingerprint: fingerprintOf(
              [...new Set([...(input.addresses?.keys() ?? []), ...byId.keys()])].sort(),
            ),
          },
        ]
      : [],
  });

  return { id: "deploy", name: "Deploy ScaleIO", strategy: "parallel", phases };
}
