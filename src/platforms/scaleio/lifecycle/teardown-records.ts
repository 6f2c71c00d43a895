// What an uninstall needs to remember: that it was asked for (and whether data may go), so a
// restarted scheduler carries on tearing down instead of deploying again; and which packages
// the framework itself installed on each agent, so that in existing-cluster mode it removes
// only those (an SDS or SDC package the operator had there before stays).
import type { StateStore } from "../../../store/store.js";
import { LatestWriter } from "../../../store/latest-writer.js";
import type { Component } from "../node/common.js";
import type { InstalledRecord } from "./teardown.js";

const REQUEST_KEY = "scaleio/uninstall";
const INSTALLED_KEY = "scaleio/installed";
const CREATED_KEY = "scaleio/created";

/** Cluster objects the framework created in a cluster it did not provision, by id. */
export interface CreatedObjects {
  pools: string[];
  faultSets: string[];
  domains: string[];
}

type Listing = Record<keyof CreatedObjects, { id: string }[]>;

interface Request {
  destroyData: boolean;
  at: number;
}

interface InstallOutcome {
  component?: Component;
  changed?: boolean;
  previousVersion?: string;
}

export class TeardownRecords {
  private request: Request | undefined;
  private installedBy: InstalledRecord = {};
  private createdBy: CreatedObjects = { pools: [], faultSets: [], domains: [] };
  private readonly writer: LatestWriter;

  constructor(
    private readonly store: StateStore,
    private readonly onError: (err: Error) => void,
  ) {
    this.writer = new LatestWriter(store, INSTALLED_KEY, () => this.installedBy);
  }

  /** Reads both records; true when an uninstall was asked for before. */
  async load(): Promise<boolean> {
    this.request = await this.store.get<Request>(REQUEST_KEY);
    this.installedBy = (await this.store.get<InstalledRecord>(INSTALLED_KEY)) ?? {};
    this.createdBy = (await this.store.get<CreatedObjects>(CREATED_KEY)) ?? this.createdBy;
    return this.active;
  }

  get active(): boolean {
    return this.request !== undefined;
  }

  get destroyData(): boolean {
    return this.request?.destroyData ?? false;
  }

  get installed(): InstalledRecord {
    return this.installedBy;
  }

  get created(): CreatedObjects {
    return this.createdBy;
  }

  /**
   * Records the pools, fault sets and domains that appeared between two listings taken around
   * the framework's own creation of them (durable before it resolves). Something created just
   * before a crash, and found on the retry, is not recorded: it stays at uninstall.
   */
  async noteCreated(before: Listing, after: Listing): Promise<void> {
    const next = { ...this.createdBy };
    let changed = false;
    for (const k of ["pools", "faultSets", "domains"] as const) {
      const had = new Set(before[k].map((o) => o.id));
      const fresh = after[k].map((o) => o.id).filter((id) => !had.has(id) && !next[k].includes(id));
      if (fresh.length === 0) continue;
      next[k] = [...next[k], ...fresh];
      changed = true;
    }
    if (!changed) return;
    await this.store.set(CREATED_KEY, next);
    this.createdBy = next;
  }

  /** Durable before it resolves: the teardown is what a restart does from then on. */
  async begin(destroyData: boolean): Promise<void> {
    const request = { destroyData, at: this.request?.at ?? Date.now() };
    await this.store.set(REQUEST_KEY, request);
    this.request = request;
  }

  /**
   * Notes the components an install step put on an agent where there was none before (a
   * skipped or upgraded package was not ours to begin with, or is recorded already).
   */
  async noteInstall(agentId: string, kind: string, result: unknown): Promise<void> {
    if (kind !== "scaleio.install-package" && kind !== "scaleio.install-packages") return;
    const outcomes = (Array.isArray(result) ? result : [result]) as (InstallOutcome | null)[];
    const fresh = outcomes
      .filter((o) => o?.component && o.changed === true && !o.previousVersion)
      .map((o) => o!.component!);
    const had = this.installedBy[agentId] ?? [];
    const add = fresh.filter((c) => !had.includes(c));
    if (add.length === 0) return;
    this.installedBy = { ...this.installedBy, [agentId]: [...had, ...add] };
    // A lost record only makes an existing-cluster uninstall leave that package behind.
    await this.writer.save().catch((err: Error) => this.onError(err));
  }
}
