// The MDM cluster: members, modes (1/3/5 node), quorum and master failover.
// Liveness comes from the node records (an MDM dies when its node's MDM is killed or removed).
import { SimError, ErrorCode, badRequest } from "./errors.js";
import { randomHex16 } from "./ids.js";
import type { ClusterMode, MdmMember, NodeRecord } from "./types.js";

const SHAPE: Record<ClusterMode, { slaves: number; tbs: number }> = {
  "1_node": { slaves: 0, tbs: 0 },
  "3_node": { slaves: 1, tbs: 1 },
  "5_node": { slaves: 2, tbs: 2 },
};

export const MDM_ACTOR_PORT = 9011;

export type MdmClusterState =
  | "NotClustered"
  | "ClusteredNormal"
  | "ClusteredDegraded"
  | "ClusteredTiebreakerDown"
  | "ClusteredDegradedTiebreakerDown";

export class MdmCluster {
  mode: ClusterMode = "1_node";
  members: MdmMember[] = [];

  constructor(private readonly nodes: Map<string, NodeRecord>) {}

  isAlive(m: MdmMember): boolean {
    return m.ips.some((ip) => {
      const n = this.nodes.get(ip);
      return !!n && n.packages.has("mdm") && n.mdmAlive;
    });
  }

  voters(): MdmMember[] {
    return this.members.filter((m) => m.role !== "standby");
  }

  managers(): MdmMember[] {
    return this.members.filter((m) => m.role === "master" || m.role === "slave");
  }

  master(): MdmMember | undefined {
    return this.members.find((m) => m.role === "master");
  }

  hasQuorum(): boolean {
    const voters = this.voters();
    const alive = voters.filter((m) => this.isAlive(m)).length;
    return alive >= Math.floor(voters.length / 2) + 1;
  }

  /**
   * Re-evaluates who is master: with quorum and a dead master, a live slave takes over.
   * Returns whether a master is serving.
   */
  settle(): boolean {
    if (this.members.length === 0) return false;
    if (!this.hasQuorum()) return false;
    const master = this.master();
    if (master && this.isAlive(master)) return true;
    const slave = this.members.find((m) => m.role === "slave" && this.isAlive(m));
    if (!slave) return false;
    if (master) master.role = "slave";
    slave.role = "master";
    return true;
  }

  /** Throws unless a master with quorum can serve a management request. */
  requireService(): void {
    if (this.members.length === 0) {
      throw new SimError("MDM cluster is not configured", 500, ErrorCode.NO_QUORUM);
    }
    if (!this.settle()) {
      throw new SimError(
        "Failed to connect to MDM: the MDM cluster has no quorum",
        503,
        ErrorCode.NO_QUORUM,
      );
    }
  }

  state(): "Normal" | "Degraded" {
    return this.voters().every((m) => this.isAlive(m)) ? "Normal" : "Degraded";
  }

  /**
   * The REST `mdmClusterState` (System) / `clusterState` (queryMdmCluster) value: 2.x names
   * whether a manager, the tie-breaker(s) or both are missing.
   */
  clusterState(): MdmClusterState {
    if (this.mode === "1_node") return "NotClustered";
    const down = this.voters().filter((m) => !this.isAlive(m));
    const managerDown = down.some((m) => m.isManager);
    const tbDown = down.some((m) => !m.isManager);
    if (managerDown && tbDown) return "ClusteredDegradedTiebreakerDown";
    if (managerDown) return "ClusteredDegraded";
    if (tbDown) return "ClusteredTiebreakerDown";
    return "ClusteredNormal";
  }

  byName(name: string): MdmMember | undefined {
    return this.members.find((m) => m.name === name);
  }

  byIp(ip: string): MdmMember | undefined {
    return this.members.find((m) => m.ips.includes(ip) || m.managementIps.includes(ip));
  }

  create(ip: string, mgmtIp: string, name: string): MdmMember {
    const node = this.nodes.get(ip);
    if (!node || !node.packages.has("mdm") || !node.mdmAlive) {
      throw new SimError(`Failed to connect to MDM ${ip}:6611`, 500, ErrorCode.OBJECT_NOT_FOUND);
    }
    if (!node.mdmIsManager) {
      throw badRequest("The MDM at this IP is a Tie-Breaker and cannot be the master MDM");
    }
    if (this.members.length > 0) throw badRequest("The MDM is already part of a cluster");
    const m: MdmMember = {
      id: randomHex16(),
      name,
      ips: [ip],
      managementIps: [mgmtIp],
      isManager: true,
      role: "master",
      port: MDM_ACTOR_PORT,
    };
    this.members.push(m);
    this.mode = "1_node";
    return m;
  }

  addStandby(ip: string, mgmtIp: string | undefined, name: string, asManager: boolean): MdmMember {
    const node = this.nodes.get(ip);
    if (!node || !node.packages.has("mdm") || !node.mdmAlive) {
      throw new SimError(`Failed to connect to MDM ${ip}`, 500, ErrorCode.OBJECT_NOT_FOUND);
    }
    if (asManager && !node.mdmIsManager) {
      throw badRequest("The MDM at this IP was installed as a Tie-Breaker");
    }
    if (this.byIp(ip)) throw badRequest("An MDM with this IP already exists");
    if (this.byName(name)) throw badRequest("An MDM with this name already exists");
    const m: MdmMember = {
      id: randomHex16(),
      name,
      ips: [ip],
      managementIps: asManager ? [mgmtIp ?? ip] : [],
      isManager: asManager,
      role: "standby",
      port: MDM_ACTOR_PORT,
    };
    this.members.push(m);
    return m;
  }

  removeStandby(name: string): void {
    const m = this.byName(name);
    if (!m) throw new SimError("Could not find the MDM", 500, ErrorCode.OBJECT_NOT_FOUND);
    if (m.role !== "standby") throw badRequest("Only a standby MDM can be removed");
    this.members = this.members.filter((x) => x !== m);
  }

  /**
   * Changes the mode, promoting named standbys and demoting named members in one step,
   * as `--switch_cluster_mode` does; the result must have exactly the mode's shape.
   */
  switchMode(
    mode: ClusterMode,
    change: { addSlaves: string[]; addTbs: string[]; removeSlaves: string[]; removeTbs: string[] },
  ): void {
    const shape = SHAPE[mode];
    if (!shape) throw badRequest(`Invalid cluster mode ${String(mode)}`);
    const find = (name: string) => {
      const m = this.byName(name);
      if (!m) throw new SimError(`Could not find the MDM ${name}`, 500, ErrorCode.OBJECT_NOT_FOUND);
      return m;
    };
    const addS = change.addSlaves.map(find);
    const addT = change.addTbs.map(find);
    const remS = change.removeSlaves.map(find);
    const remT = change.removeTbs.map(find);
    for (const m of addS) {
      if (m.role !== "standby" || !m.isManager)
        throw badRequest(`${m.name} is not a standby manager MDM`);
      if (!this.isAlive(m)) throw badRequest(`MDM ${m.name} is not reachable`);
    }
    for (const m of addT) {
      if (m.role !== "standby" || m.isManager)
        throw badRequest(`${m.name} is not a standby Tie-Breaker`);
      if (!this.isAlive(m)) throw badRequest(`MDM ${m.name} is not reachable`);
    }
    for (const m of remS) if (m.role !== "slave") throw badRequest(`${m.name} is not a slave MDM`);
    for (const m of remT) if (m.role !== "tb") throw badRequest(`${m.name} is not a Tie-Breaker`);
    const slaves =
      this.members.filter((m) => m.role === "slave").length + addS.length - remS.length;
    const tbs = this.members.filter((m) => m.role === "tb").length + addT.length - remT.length;
    if (slaves !== shape.slaves || tbs !== shape.tbs) {
      throw badRequest(
        `Cluster mode ${mode} needs ${shape.slaves} slave MDM(s) and ${shape.tbs} Tie-Breaker(s)`,
      );
    }
    for (const m of addS) m.role = "slave";
    for (const m of addT) m.role = "tb";
    for (const m of [...remS, ...remT]) m.role = "standby";
    this.mode = mode;
  }

  /** `--replace_cluster_mdm`: swap a (possibly failed) member for a standby of the same kind. */
  replace(removeName: string, addName: string, allowLeaveFailed = false): void {
    const old = this.byName(removeName);
    const neu = this.byName(addName);
    if (!old || !neu) throw new SimError("Could not find the MDM", 500, ErrorCode.OBJECT_NOT_FOUND);
    if (old.role !== "slave" && old.role !== "tb")
      throw badRequest(`${old.name} is not a slave or Tie-Breaker`);
    if (neu.role !== "standby" || neu.isManager !== old.isManager) {
      throw badRequest(`${neu.name} is not a standby MDM of the same role`);
    }
    if (!this.isAlive(neu)) throw badRequest(`MDM ${neu.name} is not reachable`);
    // Emulator choice (reference 6.7 names the flag, not the refusal): a member that is down
    // leaves only with --allow_leave_failed.
    if (!allowLeaveFailed && !this.isAlive(old))
      throw badRequest(`MDM ${old.name} is not reachable: use --allow_leave_failed`);
    neu.role = old.role;
    old.role = "standby";
  }

  switchOwnership(name: string): void {
    const target = this.byName(name) ?? this.byIp(name) ?? this.members.find((m) => m.id === name);
    if (!target || target.role !== "slave") throw badRequest("The new master must be a slave MDM");
    if (!this.isAlive(target)) throw badRequest(`MDM ${target.name} is not reachable`);
    const master = this.master();
    if (master) master.role = "slave";
    target.role = "master";
  }

  /** IPs of manager MDMs (what SDCs and the gateway are configured with). */
  managerIps(): string[] {
    return this.members.filter((m) => m.isManager).flatMap((m) => m.ips);
  }
}
