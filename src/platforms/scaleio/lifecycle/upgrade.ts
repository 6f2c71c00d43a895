// Rolling upgrades of the platform side: the installed versions per agent (persisted, from
// host facts, install results and the upgrade's own reads), the operator's request (checked:
// a downgrade is refused), the configured version at start (a newer one asks for the same
// upgrade), the package URLs of a version, and the `upgrade` plan built from all of it.
import type { PlatformContext } from "../../../framework/scheduler.js";
import { compareVersions } from "../../../host/packages.js";
import { LatestWriter } from "../../../store/latest-writer.js";
import type { Component } from "../deploy-plan.js";
import type { GatewayClient } from "../gateway/client.js";
import { findSystem } from "../cluster/system.js";
import { parsePackageFile } from "../node/common.js";
import { EventEmitter } from "node:events";
import { CoalescedRunner } from "../../../common/coalesced-runner.js";
import type { ConditionFinding } from "../../../framework/health/types.js";
import type { ObservedCluster } from "../observe/model.js";
import type { ObservationSource } from "../observe/wait.js";
import { readDomain } from "../observe/domain.js";
import type { MdmMember } from "../topology/mdm-placement.js";
import {
  buildUpgradePlan,
  CANARY_HOLD_PHASE,
  newerThan,
  UPGRADE_PLAN_ID,
  type UpgradeAgent,
  type Versions,
} from "./upgrade-plan.js";

const VERSIONS_KEY = "scaleio/versions";
const REQUEST_KEY = "scaleio/upgrade";
/** The package version the configuration named at the last start. */
const CONFIGURED_KEY = "scaleio/configured-version";

export const VERSION_PATTERN = /^\d+\.\d+-\d+(\.\d+)?$/;

export type UpgradeErrorCode =
  "BAD_VERSION" | "DOWNGRADE_REFUSED" | "UPGRADE_IN_PROGRESS" | "UPGRADE_NOT_READY";

/** A refused upgrade request: the API answers it with its status and stable code. */
export class UpgradeError extends Error {
  readonly statusCode: number;
  constructor(
    readonly code: UpgradeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "UpgradeError";
    this.statusCode = code === "BAD_VERSION" ? 400 : 409;
  }
}

export interface UpgradeRequest {
  version: string;
  canary?: number;
}

/** The file name of a package URL with another version in it (the configured URL scheme). */
export function packageUrlAt(url: string, version: string): string {
  const slash = url.lastIndexOf("/");
  const file = url.slice(slash + 1);
  const parsed = parsePackageFile(decodeURIComponent(file));
  if (!parsed) throw new Error(`'${file}' carries no version to replace`);
  return `${url.slice(0, slash + 1)}${file.replace(parsed.version, version)}`;
}

/** The observer as the platform gives it: it can look at once (the ClusterObserver can). */
export type UpgradeObserver = ObservationSource & { observe?(): Promise<void> };

/**
 * The observer as the upgrade's steps share it: one listener on the observer whatever the
 * number of steps waiting (LIA and SDC steps wait by the dozen). A step waiting on what it
 * just did has its first look taken at once, not after the observer's settle (which spares a
 * burst of finished steps many looks; at one wait after another, it added up to seconds).
 */
class SharedObservations implements ObservationSource {
  private readonly fanout = new EventEmitter().setMaxListeners(0);
  private readonly relay = (o: ObservedCluster, f: ConditionFinding[]) =>
    this.fanout.emit("observed", o, f);
  private attached = false;

  constructor(
    private readonly source: UpgradeObserver,
    private readonly logger: PlatformContext["logger"],
  ) {}

  on(event: "observed", fn: (o: ObservedCluster, f: ConditionFinding[]) => void): this {
    this.fanout.on(event, fn);
    if (!this.attached) {
      this.attached = true;
      this.source.on("observed", this.relay);
    }
    return this;
  }

  off(event: "observed", fn: (o: ObservedCluster, f: ConditionFinding[]) => void): this {
    this.fanout.off(event, fn);
    if (this.attached && this.fanout.listenerCount("observed") === 0) {
      this.attached = false;
      this.source.off("observed", this.relay);
    }
    return this;
  }

  observeSoon(): void {
    this.source.observeSoon();
  }

  observeNow(): void {
    if (!this.source.observe) return this.source.observeSoon();
    this.source
      .observe()
      .catch((err: Error) => this.logger.warn({ err: err.message }, "cluster look failed"));
  }

  get latest(): ObservedCluster | undefined {
    return this.source.latest;
  }

  get findings(): ConditionFinding[] {
    return this.source.findings ?? [];
  }
}

export interface UpgradesDeps {
  ctx: PlatformContext;
  /** The configured package URL of a component (at the configured version). */
  configuredUrl(format: "deb" | "rpm", component: Component): string;
  /** Where SDC drivers for kernels the package lacks are (--sdc-driver-repo). */
  sdcDriverRepo?: string;
  packageFormat(agentId: string): "deb" | "rpm" | undefined;
  /** MDM members when provisioned (undefined in existing-cluster mode). */
  mdms(): MdmMember[] | undefined;
  /** Agents with an SDS, and its protection domain. */
  sdsAgents(): { agentId: string; protectionDomain: string }[];
  managers(): string[];
  observer(): UpgradeObserver | undefined;
  client(): GatewayClient;
  system: { name?: string; id?: string };
  /** Canary for a configuration-triggered upgrade. */
  canary?: number;
  /** Why the node's SDS belongs to node maintenance now (Mesos or the operator), if it does. */
  nodeMaintenance?(agentId: string): string | undefined;
}

export class ScaleioUpgrades {
  private readonly deps: UpgradesDeps;
  private versions = new Map<string, Versions>();
  private request: UpgradeRequest | undefined;
  private writer!: LatestWriter;
  private shared: { source: UpgradeObserver; view: SharedObservations } | undefined;
  /** Volumes mapped per SDC address, as last read (see mappedVolumes). */
  private mapped = new Map<string, number>();
  /** One read of SDCs and volumes for all the SDC steps asking at once (they come by the
   *  hundred; a read each listed every SDC and volume each time). */
  private readonly mappings = new CoalescedRunner(() => this.readMappings());

  constructor(deps: UpgradesDeps) {
    this.deps = deps;
  }

  private get ctx(): PlatformContext {
    return this.deps.ctx;
  }

  async load(): Promise<void> {
    const store = this.ctx.store;
    this.versions = new Map((await store.get<[string, Versions][]>(VERSIONS_KEY)) ?? []);
    this.writer = new LatestWriter(store, VERSIONS_KEY, () => [...this.versions]);
    this.request = await store.get<UpgradeRequest>(REQUEST_KEY);
  }

  versionsOf(agentId: string): Versions {
    return this.versions.get(agentId) ?? {};
  }

  /** Merges newly learned versions of an agent's components (persisted). */
  async record(agentId: string, v: Versions): Promise<void> {
    const entries = Object.entries(v).filter(([, x]) => typeof x === "string");
    if (entries.length === 0) return;
    const before = this.versions.get(agentId) ?? {};
    if (entries.every(([c, x]) => before[c as Component] === x)) return;
    this.versions.set(agentId, { ...before, ...Object.fromEntries(entries) });
    await this.writer.save();
  }

  /** What an install node step returned: the components and versions now installed. */
  noteResult(agentId: string, kind: string, result: unknown): void {
    if (kind !== "scaleio.install-package" && kind !== "scaleio.install-packages") return;
    const list = Array.isArray(result) ? result : [result];
    const v: Versions = {};
    for (const r of list as { component?: Component; version?: string }[])
      if (r && r.component && typeof r.version === "string") v[r.component] = r.version;
    this.record(agentId, v).catch((err: Error) =>
      this.ctx.logger.warn({ agentId, err: err.message }, "installed versions not recorded"),
    );
  }

  /** The version the configured package URLs name (the first one that names one). */
  configuredVersion(): string | undefined {
    for (const fmt of ["rpm", "deb"] as const)
      for (const c of ["mdm", "sds", "sdc", "lia", "gateway"] as const) {
        let url: string;
        try {
          url = this.deps.configuredUrl(fmt, c);
        } catch {
          continue; // not configured for this format
        }
        const v = parsePackageFile(decodeURIComponent(url.slice(url.lastIndexOf("/") + 1)));
        if (v) return v.version;
      }
    return undefined;
  }

  /** The version new installs get: the configured one, or an upgrade's target when newer. */
  currentVersion(): string | undefined {
    const configured = this.configuredVersion();
    const asked = this.request?.version;
    if (!configured) return asked;
    if (!asked) return configured;
    return compareVersions(asked, configured) > 0 ? asked : configured;
  }

  /** A component's package URL for the deploy: at the upgraded version once there is one. */
  packageUrl(format: "deb" | "rpm", component: Component): string {
    const url = this.deps.configuredUrl(format, component);
    const current = this.currentVersion();
    const configured = this.configuredVersion();
    if (!current || current === configured) return url;
    return packageUrlAt(url, current);
  }

  /** Checks and records an upgrade to `version`, then builds its plan. */
  async upgrade(req: UpgradeRequest, why = "operator"): Promise<void> {
    const { version } = req;
    if (!VERSION_PATTERN.test(version))
      throw new UpgradeError(
        "BAD_VERSION",
        `version '${version}' is not a ScaleIO package version (like 2.0-13000.211)`,
      );
    if (!this.deps.observer())
      throw new UpgradeError(
        "UPGRADE_NOT_READY",
        "upgrades need the cluster's observation (health), which is off",
      );
    const engine = this.ctx.engine;
    const existing = engine.planIds().includes(UPGRADE_PLAN_ID)
      ? engine.view(UPGRADE_PLAN_ID)
      : undefined;
    const newer = [
      ...newerThan(
        version,
        this.ctx.agents.all().map((a) => ({
          hostname: a.hostname,
          versions: this.versionsOf(a.agentId),
        })),
      ),
    ];
    const current = this.currentVersion();
    if (current && compareVersions(current, version) > 0)
      newer.unshift(`the cluster's version ${current}`);
    if (newer.length > 0)
      throw new UpgradeError(
        "DOWNGRADE_REFUSED",
        `downgrade refused: ${newer.slice(0, 5).join(", ")}${newer.length > 5 ? ", …" : ""} ${newer.length > 1 ? "are" : "is"} newer than ${version}`,
      );
    if (existing && existing.status !== "COMPLETE" && this.request?.version !== version)
      throw new UpgradeError(
        "UPGRADE_IN_PROGRESS",
        `an upgrade to ${this.request?.version ?? "?"} is not finished (${existing.progress.complete}/${existing.progress.total} steps); finish or force-complete it first`,
      );
    try {
      packageUrlAt(this.deps.configuredUrl("rpm", "sds"), version);
    } catch {
      try {
        packageUrlAt(this.deps.configuredUrl("deb", "sds"), version);
      } catch (err) {
        throw new UpgradeError(
          "UPGRADE_NOT_READY",
          `the configured package URLs name no version to upgrade from: ${(err as Error).message}`,
        );
      }
    }
    if (existing && this.request?.version === version && existing.status !== "COMPLETE") return; // already under way
    const request: UpgradeRequest = {
      version,
      ...(req.canary ? { canary: req.canary } : {}),
    };
    await this.ctx.store.set(REQUEST_KEY, request);
    this.request = request;
    // A new upgrade starts from scratch (step ids are the same as the last one's).
    if (existing) await engine.removePlan(UPGRADE_PLAN_ID);
    await this.recompute();
    if (request.canary) await engine.pause(UPGRADE_PLAN_ID, CANARY_HOLD_PHASE);
    this.ctx.logger.info({ version, canary: request.canary ?? 0, by: why }, "upgrade planned");
  }

  /**
   * At start: a configured version newer than the one configured last time asks for the
   * upgrade to it (one older is refused with a log line: packages are never downgraded).
   */
  async onStart(): Promise<void> {
    const configured = this.configuredVersion();
    if (!configured) return;
    const before = await this.ctx.store.get<string>(CONFIGURED_KEY);
    if (before && compareVersions(configured, before) > 0) {
      try {
        await this.upgrade(
          { version: configured, ...(this.deps.canary ? { canary: this.deps.canary } : {}) },
          "configuration",
        );
      } catch (err) {
        this.ctx.logger.error(
          { err: (err as Error).message, version: configured },
          "the configured package version asks for an upgrade that was refused",
        );
        return;
      }
    } else if (before && compareVersions(configured, before) < 0) {
      this.ctx.logger.error(
        { configured, before },
        "the configured package version is older than before: nothing is downgraded",
      );
      return;
    }
    if (before !== configured) await this.ctx.store.set(CONFIGURED_KEY, configured);
  }

  /** (Re)builds the upgrade plan when one was asked for (agents may have come or gone). */
  async recompute(): Promise<void> {
    const req = this.request;
    const observer = this.deps.observer();
    if (!req || !observer) return;
    const agents: UpgradeAgent[] = this.ctx.agents
      .active()
      .map((a) => ({ agentId: a.agentId, hostname: a.hostname, ip: a.ip }));
    const here = new Set(agents.map((a) => a.agentId));
    const mdms = this.deps.mdms();
    const plan = buildUpgradePlan(
      {
        target: req.version,
        agents,
        ...(mdms ? { mdms } : {}),
        sdsAgents: this.deps.sdsAgents().filter((s) => here.has(s.agentId)),
        managers: this.deps.managers(),
        ...(this.deps.sdcDriverRepo ? { sdcDriverRepo: this.deps.sdcDriverRepo } : {}),
        packageUrl: (agentId, component) => {
          const fmt = this.deps.packageFormat(agentId);
          if (!fmt) throw new Error(`the package format of agent ${agentId} is not known yet`);
          return packageUrlAt(this.deps.configuredUrl(fmt, component), req.version);
        },
        ...(req.canary ? { canary: req.canary } : {}),
      },
      {
        node: (agentId, kind, params, sctx, o) => this.ctx.runNode(agentId, kind, params, sctx, o),
        ...(this.ctx.nodeStartable ? { nodeStartable: this.ctx.nodeStartable.bind(this.ctx) } : {}),
        versionsOf: (agentId) => this.versionsOf(agentId),
        recordVersions: (agentId, v) => this.record(agentId, v),
        observer: this.sharedView(observer),
        enterMaintenance: (sdsId) => this.sdsAction(sdsId, "enterMaintenanceMode"),
        exitMaintenance: (sdsId) => this.sdsAction(sdsId, "exitMaintenanceMode"),
        moveMastership: async (mdmId) => {
          const client = this.deps.client();
          const system = await findSystem(client, this.deps.system);
          await client.call(
            "POST",
            `/api/instances/System::${system.id}/action/changeMdmOwnership`,
            {
              id: mdmId,
            },
          );
        },
        mappedVolumes: (ip) => this.mappedVolumes(ip),
        readDomain: (pdId) => readDomain(this.deps.client(), pdId),
        ...(this.deps.nodeMaintenance
          ? { nodeMaintenance: this.deps.nodeMaintenance.bind(this.deps) }
          : {}),
      },
    );
    await this.ctx.engine.setPlan(plan);
  }

  private sharedView(observer: UpgradeObserver): SharedObservations {
    if (this.shared?.source !== observer)
      this.shared = { source: observer, view: new SharedObservations(observer, this.ctx.logger) };
    return this.shared.view;
  }

  /** Volumes mapped to the SDC at `ip`, from a read begun after the ask (shared by the steps
   *  asking meanwhile; the node looks again itself before it reloads the driver). */
  async mappedVolumes(ip: string): Promise<number> {
    await this.mappings.run();
    return this.mapped.get(ip) ?? 0;
  }

  private async readMappings(): Promise<void> {
    const client = this.deps.client();
    const [sdcs, volumes] = await Promise.all([client.allSdcs(), client.volumes()]);
    const perSdc = new Map<string, number>();
    for (const v of volumes)
      for (const id of new Set((v.mappedSdcInfo ?? []).map((m) => m.sdcId)))
        perSdc.set(id, (perSdc.get(id) ?? 0) + 1);
    const mapped = new Map<string, number>();
    for (const c of sdcs)
      if (c.sdcIp) mapped.set(c.sdcIp, (mapped.get(c.sdcIp) ?? 0) + (perSdc.get(c.id) ?? 0));
    this.mapped = mapped;
  }

  private async sdsAction(sdsId: string, action: string): Promise<void> {
    await this.deps.client().call("POST", `/api/instances/Sds::${sdsId}/action/${action}`, {});
  }
}
