// The ScaleIO `upgrade` plan to a target version, in the documented order (reference 6.6):
// installed versions → gateway → LIA on every node → MDM cluster (tie-breakers and slaves one
// at a time, mastership moved to an upgraded manager, then the former master) → SDSs one at a
// time in instant maintenance mode, each waiting for its resync → SDCs (a new scini is loaded
// only where no volume is mapped). Every step passes the health gate first and says why it
// waits; a component already at the target version is left alone. Packages are upgraded in
// place by the install node steps (which never downgrade).
import type {
  PhaseDefinition,
  PlanDefinition,
  StepContext,
  StepDefinition,
} from "../../../framework/plan/types.js";
import { PermanentStepError } from "../../../framework/plan/types.js";
import type { ConditionFinding } from "../../../framework/health/types.js";
import { fingerprintOf } from "../../../framework/plan/fingerprint.js";
import { compareVersions } from "../../../host/packages.js";
import type { Component } from "../deploy-plan.js";
import type { MdmMember } from "../topology/mdm-placement.js";
import type { ObservedCluster, ObservedSds } from "../observe/model.js";
import { observedUntil, type ObservationSource } from "../observe/wait.js";
import type { ObservedDomain } from "../observe/domain.js";
import { poolObject } from "../observe/checks.js";
import { Backoff, delay } from "../../../mesos/backoff.js";
import { gateReason } from "./health-gate.js";

export const UPGRADE_PLAN_ID = "upgrade";

/** Installed versions of an agent's components (package versions, e.g. `2.0-6035.0`). */
export type Versions = Partial<Record<Component, string>>;

export interface UpgradeAgent {
  agentId: string;
  hostname: string;
  ip: string;
}

export interface UpgradeInput {
  /** The version to upgrade to (e.g. `2.0-13000.211`). */
  target: string;
  /** Agents taking part (lost agents are left out by the caller). */
  agents: UpgradeAgent[];
  /** MDM members when the framework provisioned the cluster; none: existing cluster (left alone). */
  mdms?: MdmMember[];
  /** Agents with an SDS and its protection domain, in the order to upgrade them. */
  sdsAgents: { agentId: string; protectionDomain: string }[];
  /** Manager MDM addresses (the SDC's MDM_IP). */
  managers: string[];
  /** Where SDC drivers for kernels the new package lacks are (--sdc-driver-repo). */
  sdcDriverRepo?: string;
  /** Package URL of a component at the target version, for the agent's package format. */
  packageUrl(agentId: string, component: Component): string;
  /** Pause after this many SDSs until an operator resumes (0 or none: no canary). */
  canary?: number;
}

/** What the upgrade steps need of the platform (fakes in the unit tests). */
export interface UpgradePorts {
  node(
    agentId: string,
    kind: string,
    params: unknown,
    ctx: StepContext,
    /** `onHeld`: told when the agent's maintenance window holds the node step back. */
    opts?: { secrets?: string[]; onHeld?: (why: string) => void },
  ): Promise<unknown>;
  /** Resolves once a node step could start on the agent now (no maintenance window begins
   *  soon or is under way there); meanwhile ctx.progress says why it waits. None: always. */
  nodeStartable?(agentId: string, ctx: StepContext): Promise<void>;
  /** Versions recorded for an agent (updated by recordVersions). */
  versionsOf(agentId: string): Versions;
  recordVersions(agentId: string, versions: Versions): Promise<void>;
  /** The cluster's observations (the health gate and the waits on results). */
  observer: ObservationSource;
  enterMaintenance(sdsId: string): Promise<void>;
  exitMaintenance(sdsId: string): Promise<void>;
  /** Makes this manager MDM the master. */
  moveMastership(mdmId: string): Promise<void>;
  /** Volumes mapped to the SDC at this address. */
  mappedVolumes(sdcIp: string): Promise<number>;
  /** A targeted read of a protection domain's SDSs and every pool's data movement. */
  readDomain(protectionDomainId: string): Promise<ObservedDomain>;
  /**
   * Why the agent's SDS belongs to node maintenance (Mesos or the operator put it there, or
   * it is on its way in or out), if it does: the upgrade neither enters nor exits maintenance
   * mode then. None: never.
   */
  nodeMaintenance?(agentId: string): string | undefined;
}

/** LIA and SDC upgrades at once at most (each is one node's, out of the data path). */
export const PARALLEL_NODES = 128;

/** The SDS phase left paused behind a canary (the operator resumes it). */
export const CANARY_HOLD_PHASE = "sds";

const atLeast = (v: string | undefined, target: string) =>
  v !== undefined && compareVersions(v, target) >= 0;

const inMaintenance = (s: Pick<ObservedSds, "maintenance"> | undefined) =>
  s?.maintenance !== undefined && s.maintenance !== "NoMaintenance";

const sdsAt = (o: ObservedCluster, ip: string) => o.sds.find((s) => s.ips.includes(ip));

/** The source's next observation (at its own pace: nothing is asked for), or the abort. */
function nextObservation(source: ObservationSource, ctx: StepContext): Promise<void> {
  return new Promise((resolve, reject) => {
    if (ctx.signal.aborted) return reject(ctx.signal.reason as Error);
    const done = () => {
      source.off("observed", done);
      ctx.signal.removeEventListener("abort", abort);
      resolve();
    };
    const abort = () => {
      source.off("observed", done);
      reject(ctx.signal.reason as Error);
    };
    source.on("observed", done);
    ctx.signal.addEventListener("abort", abort, { once: true });
  });
}

/**
 * Components installed at a version newer than the target, as `host: sds 2.0-13000.211`
 * (a downgrade is refused: packages are never downgraded in place).
 */
export function newerThan(
  target: string,
  agents: { hostname: string; versions: Versions }[],
): string[] {
  const out: string[] = [];
  for (const a of agents)
    for (const [c, v] of Object.entries(a.versions))
      if (v && compareVersions(v, target) > 0) out.push(`${a.hostname}: ${c} ${v}`);
  return out;
}

/** Why the next lifecycle step must wait (the health gate), or undefined. */
function holdReason(
  o: ObservedCluster,
  findings: readonly ConditionFinding[],
  extra?: (o: ObservedCluster) => string | undefined,
  ignore?: (f: ConditionFinding) => boolean,
): string | undefined {
  return gateReason(findings, ignore ? { ignore } : {}) ?? extra?.(o);
}

/** Waits for an observation begun from now on where nothing holds the step; says why it waits. */
async function waitUntilClear(
  source: ObservationSource,
  ctx: StepContext,
  extra?: (o: ObservedCluster) => string | undefined,
  ignore?: (f: ConditionFinding) => boolean,
): Promise<void> {
  let said: string | undefined;
  await observedUntil(
    source,
    (o, f) => holdReason(o, f, extra, ignore) === undefined,
    "the cluster healthy enough for the next step",
    ctx,
    undefined,
    (o, f) => {
      const why = holdReason(o, f, extra, ignore);
      if (why !== undefined && why !== said) ctx.progress(`waiting: ${(said = why)}`);
    },
  );
}

/** The latest observation begun from now on (the step acts on what is, not what was). */
async function observeNow(source: ObservationSource, ctx: StepContext): Promise<ObservedCluster> {
  let seen: ObservedCluster | undefined;
  await observedUntil(
    source,
    (o) => {
      seen = o;
      return true;
    },
    "an observation of the cluster",
    ctx,
  );
  return seen!;
}

const mdmsDown = (o: ObservedCluster): string | undefined => {
  const down = o.mdm.members.filter((m) => m.role !== "standby" && m.status !== "Normal");
  return down.length
    ? `MDM ${down.map((m) => m.name ?? m.ips[0] ?? m.id).join(", ")} not Normal`
    : undefined;
};

export function buildUpgradePlan(input: UpgradeInput, ports: UpgradePorts): PlanDefinition {
  const { target } = input;
  const byId = new Map(input.agents.map((a) => [a.agentId, a]));
  const name = (agentId: string) => byId.get(agentId)?.hostname ?? agentId;
  // A new target runs every step again (the engine resets finished steps whose inputs changed).
  const fingerprint = fingerprintOf({ target });
  const step = (
    id: string,
    stepName: string,
    run: (ctx: StepContext) => Promise<void>,
    asset?: string,
  ): StepDefinition => ({ id, name: stepName, run, fingerprint, ...(asset ? { asset } : {}) });

  /** Installs one component at the target unless the recorded version is there already. */
  const upgradeComponent = async (
    agentId: string,
    component: Component,
    ctx: StepContext,
    extra: Record<string, unknown> = {},
    secrets?: string[],
    onHeld?: (why: string) => void,
  ): Promise<boolean> => {
    const current = ports.versionsOf(agentId)[component];
    if (atLeast(current, target)) {
      ctx.progress(`${component} already at ${current}`);
      return false;
    }
    ctx.progress(`upgrading ${component} ${current ?? "?"} → ${target}`);
    const r = (await ports.node(
      agentId,
      "scaleio.install-package",
      { component, url: input.packageUrl(agentId, component), version: target, ...extra },
      ctx,
      secrets || onHeld
        ? { ...(secrets ? { secrets } : {}), ...(onHeld ? { onHeld } : {}) }
        : undefined,
    )) as { version?: string } | null;
    await ports.recordVersions(agentId, { [component]: r?.version ?? target });
    return true;
  };

  const phases: PhaseDefinition[] = [];

  // 1. What is installed where, now (the steps below skip what is at the target already).
  phases.push({
    id: "versions",
    name: "Read installed versions",
    // Reads only: every agent at once.
    strategy: "parallel",
    steps: input.agents.map((a) =>
      step(
        `versions/${a.agentId}`,
        `installed versions on ${a.hostname}`,
        async (ctx) => {
          const v = ((await ports.node(a.agentId, "scaleio.installed-versions", {}, ctx)) ??
            {}) as Versions;
          await ports.recordVersions(a.agentId, v);
          const newer = newerThan(target, [{ hostname: a.hostname, versions: v }]);
          if (newer.length > 0)
            throw new PermanentStepError(
              `downgrade refused: ${newer.join(", ")} is newer than ${target}`,
            );
          ctx.progress(
            Object.entries(v)
              .map(([c, x]) => `${c} ${x}`)
              .join(", ") || "no ScaleIO component installed",
          );
        },
        a.agentId,
      ),
    ),
  });

  const mdms = (input.mdms ?? []).filter((m) => byId.has(m.agentId));
  const primary = mdms.find((m) => m.role === "primary");
  let previous = "versions";
  const chain = (phase: PhaseDefinition) => {
    phases.push({ ...phase, dependsOn: [previous] });
    previous = phase.id;
  };

  // 2. The gateway (on the primary MDM's node), answering again before anything else moves.
  if (primary) {
    chain({
      id: "gateway",
      name: "Upgrade the gateway",
      strategy: "serial",
      steps: [
        step(
          `gateway/${primary.agentId}`,
          `gateway on ${name(primary.agentId)}`,
          async (ctx) => {
            await waitUntilClear(ports.observer, ctx);
            if (await upgradeComponent(primary.agentId, "gateway", ctx, {}, ["adminPassword"]))
              await observeNow(ports.observer, ctx); // the gateway answers again
          },
          primary.agentId,
        ),
      ],
    });
  }

  // 3. LIA on every node (not in the data path: many at once, behind the gate).
  chain({
    id: "lia",
    name: "Upgrade LIA on every node",
    strategy: "parallel",
    maxParallel: PARALLEL_NODES,
    steps: input.agents.map((a) =>
      step(
        `lia/${a.agentId}`,
        `LIA on ${a.hostname}`,
        async (ctx) => {
          if (atLeast(ports.versionsOf(a.agentId).lia, target)) {
            ctx.progress(`lia already at ${ports.versionsOf(a.agentId).lia}`);
            return;
          }
          await waitUntilClear(ports.observer, ctx);
          await upgradeComponent(a.agentId, "lia", ctx, {}, ["adminPassword"]);
        },
        a.agentId,
      ),
    ),
  });

  // 4. The MDM cluster: one member at a time, the master last after handing its role over.
  if (mdms.length > 0) {
    const tbs = mdms.filter((m) => m.role === "tiebreaker");
    const managers = mdms.filter((m) => m.role !== "tiebreaker");
    // The placement's primary is the master unless a failover moved it; the steps check the
    // observed roles anyway, so a member that is master when its turn comes hands over first.
    const ordered = [
      ...managers.filter((m) => m.role !== "primary"),
      ...(primary ? [primary] : []),
    ];
    const ipOf = (m: MdmMember) => byId.get(m.agentId)!.ip;
    const observedMember = (o: ObservedCluster, m: MdmMember) =>
      o.mdm.members.find((x) => x.ips.includes(ipOf(m)));
    /** Moves mastership to an upgraded, Normal slave manager when `m` is the master. */
    const handOver = async (m: MdmMember, ctx: StepContext) => {
      const o = await observeNow(ports.observer, ctx);
      if (observedMember(o, m)?.role !== "master") return;
      const upgraded = new Set(
        managers
          .filter((x) => x !== m && atLeast(ports.versionsOf(x.agentId).mdm, target))
          .map(ipOf),
      );
      // An upgraded slave if there is one (a failover may have made a not yet upgraded
      // manager master early: any Normal slave then takes over, and hands over in its turn).
      const slaves = o.mdm.members.filter((x) => x.role === "slave" && x.status === "Normal");
      const to =
        slaves.find((x) => x.ips.some((ip) => upgraded.has(ip))) ??
        (upgraded.size ? undefined : slaves[0]);
      if (!to) throw new Error(`no Normal manager MDM to take mastership from ${m.name} yet`);
      ctx.progress(`moving mastership from ${m.name} to ${to.name ?? to.ips[0]}`);
      await ports.moveMastership(to.id);
      await observedUntil(
        ports.observer,
        (x) => x.mdm.members.some((y) => y.id === to.id && y.role === "master"),
        `MDM ${to.name ?? to.id} as master`,
        ctx,
        120_000,
      );
    };
    const mdmStep = (m: MdmMember) =>
      step(
        `mdm/${m.agentId}`,
        `MDM ${m.name} (${m.role === "tiebreaker" ? "tie-breaker" : "manager"}) on ${name(m.agentId)}`,
        async (ctx) => {
          if (atLeast(ports.versionsOf(m.agentId).mdm, target)) {
            ctx.progress(`mdm already at ${ports.versionsOf(m.agentId).mdm}`);
            return;
          }
          await waitUntilClear(ports.observer, ctx, mdmsDown);
          if (m.role !== "tiebreaker") await handOver(m, ctx);
          await upgradeComponent(m.agentId, "mdm", ctx, {
            mdmRole: m.role === "tiebreaker" ? "tiebreaker" : "manager",
          });
          // Back in the cluster before the next member goes.
          await observedUntil(
            ports.observer,
            (o) => observedMember(o, m)?.status === "Normal",
            `MDM ${m.name} back in the cluster`,
            ctx,
            300_000,
          );
        },
        m.agentId,
      );
    const mdmSteps: StepDefinition[] = [...tbs, ...ordered.slice(0, -1)].map(mdmStep);
    const last = ordered[ordered.length - 1];
    if (last) {
      mdmSteps.push(
        step("mdm/mastership", "move mastership to an upgraded manager", async (ctx) => {
          if (atLeast(ports.versionsOf(last.agentId).mdm, target)) {
            ctx.progress("every manager is upgraded already");
            return;
          }
          await waitUntilClear(ports.observer, ctx, mdmsDown);
          await handOver(last, ctx);
        }),
      );
      mdmSteps.push(mdmStep(last));
    }
    chain({ id: "mdm", name: "Upgrade the MDM cluster", strategy: "serial", steps: mdmSteps });
  }

  // 5. SDSs one at a time: maintenance in, upgrade, maintenance out, resync done. What the
  // step changes and waits on (its domain's SDSs, every pool's rebuild and resync) is read
  // directly, a few small requests each time; the other conditions come from the observer's
  // latest look (on its interval and soon after every finished step).
  const sdsStep = (n: { agentId: string; protectionDomain: string }) => {
    const a = byId.get(n.agentId)!;
    return step(
      `sds/${n.agentId}`,
      `SDS on ${a.hostname}`,
      async (ctx) => {
        const current = ports.versionsOf(n.agentId).sds;
        const known = await domainOf(a.ip, ctx);
        // As the latest look has it (an SDS added again elsewhere moves), else as first known.
        const pdId = () => {
          const o = ports.observer.latest;
          return (o && sdsAt(o, a.ip)?.protectionDomainId) ?? known;
        };
        // One read decides: at the target already (nothing to do), in maintenance already
        // (a run cut short: carry on), or else the gate: one fault unit of a protection
        // domain at a time, never while the cluster is rebuilding or in a critical
        // condition. This SDS's own findings do not hold it.
        const own = `sds/${a.ip}`;
        const why = (d: ObservedDomain, f: readonly ConditionFinding[]): string | undefined => {
          const me = d.sds.find((s) => s.ips.includes(a.ip));
          if (!me) return `no SDS at ${a.ip} in protection domain ${n.protectionDomain}`;
          if (inMaintenance(me) || atLeast(current, target)) return undefined;
          const other = d.sds.find((s) => s.id !== me.id && inMaintenance(s));
          if (other)
            return `SDS ${other.name ?? other.ips[0]} of protection domain ${n.protectionDomain} is in maintenance`;
          return rebuildReason(d, f) ?? gateReason(f, { ignore: staleOr(d, own) });
        };
        // Critical conditions count from a look begun after the previous SDS step ended
        // (or this one began): the latest look when it is that recent, else the next one.
        let since = lastSdsDone ?? Date.now();
        for (;;) {
          // Node maintenance owns the SDS's maintenance mode: wait until the node is back
          // in service (the machine may be going down; taking the SDS out would be unsafe).
          if (await waitOutNodeMaintenance(n.agentId, a.ip, ctx)) since = Date.now();
          const look = await readUntil(ports, pdId, why, ctx, since);
          const sds = look.sds.find((s) => s.ips.includes(a.ip))!;
          if (!inMaintenance(sds) && atLeast(current, target)) {
            ctx.progress(`sds already at ${current}`);
            return;
          }
          if (!inMaintenance(sds) && ports.nodeStartable) {
            // A maintenance window on the agent would hold the upgrade's node step while
            // the SDS sits in maintenance mode: wait for it out of maintenance instead.
            let waited = false;
            await ports.nodeStartable(n.agentId, {
              ...ctx,
              progress: (m) => {
                waited = true;
                ctx.progress(m);
              },
            });
            // The gate again after a wait (the cluster may have changed meanwhile).
            if (waited) {
              since = Date.now();
              continue;
            }
          }
          if (!inMaintenance(sds)) {
            ctx.progress(`SDS ${sds.name ?? sds.id}: entering instant maintenance mode`);
            await ports.enterMaintenance(sds.id);
          }
          const held = await upgradeUnlessHeld(n.agentId, ctx);
          if (held !== undefined) {
            // A window appeared after entry: maintenance mode is no place to wait for hours
            // (the domain's other SDSs could not go, its writes pile up for the resync).
            ctx.progress(
              `SDS ${sds.name ?? sds.id}: exiting maintenance mode until the agent's maintenance window is over (${held.replace(/^waiting: /, "")})`,
            );
            await ports.exitMaintenance(sds.id);
            await readUntil(ports, pdId, (d) => resyncLeft(d, a.ip), ctx);
            since = Date.now();
            continue;
          }
          const owner = ports.nodeMaintenance?.(n.agentId);
          if (owner !== undefined) {
            // Asked into node maintenance while it upgraded: its maintenance mode is node
            // maintenance's now, which exits it (and waits for the resync) when it is over.
            ctx.progress(`sds upgraded; its SDS stays in maintenance mode: ${owner}`);
            lastSdsDone = Date.now();
            return;
          }
          ctx.progress(`SDS ${sds.name ?? sds.id}: exiting maintenance mode`);
          await ports.exitMaintenance(sds.id);
          // Done once it serves again and its domain's pools have resynchronised (the writes
          // it missed), rebuilt and rebalanced.
          await readUntil(ports, pdId, (d) => resyncLeft(d, a.ip), ctx);
          lastSdsDone = Date.now();
          return;
        }
      },
      n.agentId,
    );
  };
  /**
   * Waits while the agent's node is under node maintenance, saying so; true if it waited.
   * Re-checked on each observation (node maintenance ends with a look at the cluster).
   */
  const waitOutNodeMaintenance = async (
    agentId: string,
    ip: string,
    ctx: StepContext,
  ): Promise<boolean> => {
    let waited = false;
    for (;;) {
      const owner = ports.nodeMaintenance?.(agentId);
      if (owner === undefined) return waited;
      waited = true;
      ctx.progress(`waiting: ${ip} is in ${owner}; its SDS is upgraded once it is back in service`);
      await nextObservation(ports.observer, ctx);
    }
  };
  /**
   * Upgrades the SDS package unless the agent's maintenance window holds the node step back
   * (it is then called off): resolves with the window's words, or undefined once upgraded.
   */
  const upgradeUnlessHeld = async (
    agentId: string,
    ctx: StepContext,
  ): Promise<string | undefined> => {
    const stop = new AbortController();
    const onAbort = () => stop.abort(ctx.signal.reason);
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    let held: string | undefined;
    try {
      await upgradeComponent(
        agentId,
        "sds",
        { ...ctx, signal: stop.signal },
        {},
        undefined,
        (why) => {
          held = why;
          stop.abort(new Error(why));
        },
      );
      return undefined;
    } catch (err) {
      if (held !== undefined && !ctx.signal.aborted) return held;
      throw err;
    } finally {
      ctx.signal.removeEventListener("abort", onAbort);
    }
  };
  /** When the last SDS step of this plan ended (its SDS resynchronised). */
  let lastSdsDone: number | undefined;
  /** The protection domain of the SDS at `ip`: from the latest look (ids do not change), or
   *  the first look that shows it. */
  const domainOf = async (ip: string, ctx: StepContext): Promise<string> => {
    const known = ports.observer.latest && sdsAt(ports.observer.latest, ip);
    if (known) return known.protectionDomainId;
    let found: ObservedSds | undefined;
    let said = false;
    await observedUntil(
      ports.observer,
      (o) => (found = sdsAt(o, ip)) !== undefined,
      `the SDS at ${ip} in the cluster`,
      ctx,
      undefined,
      () => {
        if (!said) ctx.progress(`waiting: no SDS at ${ip} in the cluster yet`);
        said = true;
      },
    );
    return found!.protectionDomainId;
  };
  const canary = Math.max(0, Math.min(input.canary ?? 0, input.sdsAgents.length));
  if (canary > 0) {
    chain({
      id: "sds-canary",
      name: `Upgrade the first ${canary} SDS${canary > 1 ? "s" : ""} (canary)`,
      strategy: "serial",
      steps: input.sdsAgents.slice(0, canary).map(sdsStep),
    });
  }
  chain({
    id: CANARY_HOLD_PHASE,
    name: canary > 0 ? "Upgrade the other SDSs" : "Upgrade the SDSs",
    strategy: "serial",
    steps: input.sdsAgents.slice(canary).map(sdsStep),
  });

  // 6. SDCs: the new scini needs a driver reload, done only where nothing is mapped.
  chain({
    id: "sdc",
    name: "Upgrade the SDCs",
    // A client only serves its own node, and only one without volumes is reloaded.
    strategy: "parallel",
    maxParallel: PARALLEL_NODES,
    steps: input.agents.map((a) =>
      step(
        `sdc/${a.agentId}`,
        `SDC on ${a.hostname}`,
        async (ctx) => {
          const current = ports.versionsOf(a.agentId).sdc;
          if (atLeast(current, target)) {
            ctx.progress(`sdc already at ${current}`);
            return;
          }
          await waitUntilClear(ports.observer, ctx);
          for (;;) {
            const mapped = await ports.mappedVolumes(a.ip);
            if (mapped === 0) {
              const r = (await ports.node(
                a.agentId,
                "scaleio.upgrade-sdc",
                {
                  url: input.packageUrl(a.agentId, "sdc"),
                  version: target,
                  mdmIps: input.managers,
                  ...(input.sdcDriverRepo ? { driverRepo: input.sdcDriverRepo } : {}),
                },
                ctx,
              )) as { version?: string; mappedVolumes?: number } | null;
              if (r?.mappedVolumes) {
                // Mapped between the gateway's answer and the node's own look: wait again.
                ctx.progress(`needs a driver reload: ${r.mappedVolumes} volumes mapped`);
              } else {
                await ports.recordVersions(a.agentId, { sdc: r?.version ?? target });
                return;
              }
            } else {
              ctx.progress(`needs a driver reload: ${mapped} volumes mapped`);
            }
            // Looked at again with the next observation (never a reboot, never a forced unload).
            await observeNow(ports.observer, ctx);
          }
        },
        a.agentId,
      ),
    ),
  });

  return { id: UPGRADE_PLAN_ID, name: `Upgrade ScaleIO to ${target}`, strategy: "serial", phases };
}

/** Polls of a domain while a step waits on it: soon at first (a change shows within a few
 *  reads), then gently (a resync or rebuild of real data takes minutes). */
const DOMAIN_POLL = { initialMs: 50, maxMs: 2000 };

/**
 * Reads the protection domain until `why` of a read (and the observer's latest findings) is
 * undefined, and returns that read; meanwhile the step says why it waits, and the observer
 * is asked for a new look (its findings, and where the SDS is, follow).
 */
async function readUntil(
  ports: UpgradePorts,
  pdId: () => string,
  why: (d: ObservedDomain, findings: readonly ConditionFinding[]) => string | undefined,
  ctx: StepContext,
  since?: number,
): Promise<ObservedDomain> {
  const backoff = new Backoff(DOMAIN_POLL);
  let said: string | undefined;
  for (;;) {
    ctx.signal.throwIfAborted();
    // With `since`: the findings of a look begun after it (the latest, when it is; else the
    // next one, taken alongside the read).
    const latest = ports.observer.latest;
    const fresh = since === undefined || (latest !== undefined && begunAfter(latest, since));
    const [d] = await Promise.all([
      ports.readDomain(pdId()),
      fresh
        ? undefined
        : observedUntil(
            ports.observer,
            () => true,
            "a look at the cluster begun after the previous step",
            ctx,
            undefined,
            undefined,
            since,
          ),
    ]);
    const findings = ports.observer.findings ?? [];
    const w = why(d, findings);
    if (w === undefined) return d;
    if (w !== said) ctx.progress(`waiting: ${(said = w)}`);
    ports.observer.observeSoon();
    await delay(backoff.next(), ctx.signal);
  }
}

/** Whether a look began after `since` (one begun in the same millisecond may not have). */
const begunAfter = (o: { startedAt?: number; at: number }, since: number) =>
  (o.startedAt ?? o.at) > since;

/** Pools rebuilding now (the read's figures; the findings' words with the progress when
 *  they have them), or undefined. */
function rebuildReason(
  d: ObservedDomain,
  findings: readonly ConditionFinding[],
): string | undefined {
  const lines = d.pools
    .filter((p) => p.rebuildRemainingKb > 0)
    .map(
      (p) =>
        findings.find((f) => f.type === "Rebuilding" && f.object === poolObject(p))?.message ??
        `pool ${p.protectionDomainName ?? "?"}/${p.name ?? p.id} rebuilding (${Math.ceil(p.rebuildRemainingKb / 1024)} MiB left)`,
    );
  return lines.length > 0 ? lines.join("; ") : undefined;
}

/** Findings that do not hold an SDS step: its own, and a rebuild the read shows over. */
function staleOr(d: ObservedDomain, own: string): (f: ConditionFinding) => boolean {
  const settled = new Set(d.pools.filter((p) => p.rebuildRemainingKb <= 0).map(poolObject));
  return (f) => f.object === own || (f.type === "Rebuilding" && settled.has(f.object));
}

/** What the SDS still waits for after leaving maintenance, or undefined once it is done. */
function resyncLeft(d: ObservedDomain, ip: string): string | undefined {
  const s = d.sds.find((x) => x.ips.includes(ip));
  if (!s) return `SDS at ${ip} not seen`;
  if (inMaintenance(s)) return `SDS at ${ip} still in maintenance (${s.maintenance})`;
  if (!s.connected) return `SDS at ${ip} not connected yet`;
  for (const p of d.pools) {
    if (p.protectionDomainId !== d.protectionDomainId) continue;
    const left = p.rebuildRemainingKb + p.rebalanceRemainingKb;
    if (left > 0)
      return `pool ${p.protectionDomainName ?? "?"}/${p.name ?? p.id} resynchronising: ${Math.ceil(left / 1024)} MB left`;
    if (p.degradedKb > 0)
      return `pool ${p.protectionDomainName ?? "?"}/${p.name ?? p.id} has degraded capacity`;
  }
  return undefined;
}
