// `scli`, run on a node: flags, success strings and output layouts of reference section 3.
// Sessions belong to the node (scli keeps one per local OS user; the emulator has one user).
import { SimError } from "../model/errors.js";
import { StatsEngine, type Bwc, type StatsType } from "../model/stats.js";
import { MDM_ACTOR_PORT } from "../model/mdm.js";
import type { ScaleioSystem } from "../model/system.js";
import type { ClusterMode, MdmMember, Sdc, Sds, StoragePool, Volume } from "../model/types.js";
import { KB_PER_GB, ceilGranule, humanSize } from "../model/units.js";
import { DEFAULT_VERSION, dottedVersion, rVersion } from "../model/versions.js";
import { Args, UsageError, need } from "./args.js";

export interface NodeContext {
  ip: string;
  root?: string | undefined;
  env: Record<string, string | undefined>;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

const COMMANDS = new Set([
  "create_mdm_cluster",
  "login",
  "logout",
  "set_password",
  "add_standby_mdm",
  "remove_standby_mdm",
  "switch_cluster_mode",
  "replace_cluster_mdm",
  "switch_mdm_ownership",
  "query_cluster",
  "rename_system",
  "add_protection_domain",
  "remove_protection_domain",
  "add_storage_pool",
  "add_fault_set",
  "add_sds",
  "add_sds_device",
  "remove_sds_device",
  "remove_sds",
  "add_volume",
  "map_volume_to_sdc",
  "unmap_volume_from_sdc",
  "modify_volume_capacity",
  "remove_volume",
  "modify_spare_policy",
  "set_capacity_alerts_threshold",
  "enter_maintenance_mode",
  "exit_maintenance_mode",
  "add_user",
  "query_user",
  "query_all",
  "query_all_sds",
  "query_sds",
  "query_storage_pool",
  "query_all_volumes",
  "query_volume",
  "query_all_sdc",
  "query_sdc",
  "query_properties",
  "remove_sdc",
  "rename_volume",
  "set_performance_parameters",
  "approve_certificate",
  "version",
  "query_version",
  "help",
]);

const NO_SESSION =
  "Error: MDM failed command.  Status: Invalid session. Please login and try again.";

class Failure extends Error {}

function mdmFailed(reason: string): Failure {
  return new Failure(`Error: MDM failed command.  Status: ${reason}`);
}

export class Scli {
  /** node IP -> logged-in user name */
  private sessions = new Map<string, string>();

  private readonly stats: StatsEngine;

  constructor(private readonly sys: ScaleioSystem) {
    this.stats = new StatsEngine(sys, () => 2);
  }

  run(ctx: NodeContext, argv: string[]): ExecResult {
    const a = new Args(argv);
    const cmd = a.order.find((f) => COMMANDS.has(f));
    try {
      if (!cmd)
        throw new UsageError("Error: No command given. Run scli --help for the list of commands.");
      const out = this.dispatch(cmd, a, ctx);
      return { stdout: out.endsWith("\n") ? out : `${out}\n`, stderr: "", exitCode: 0 };
    } catch (e) {
      const msg =
        e instanceof Failure || e instanceof UsageError
          ? e.message
          : e instanceof SimError
            ? `Error: MDM failed command.  Status: ${e.message}`
            : `Error: ${(e as Error).message}`;
      return { stdout: "", stderr: `${msg}\n`, exitCode: 1 };
    }
  }

  private dispatch(cmd: string, a: Args, ctx: NodeContext): string {
    const sys = this.sys;
    if (cmd === "version" || cmd === "query_version") {
      const v = sys.nodes.get(ctx.ip)?.packages.get("mdm")?.version ?? DEFAULT_VERSION;
      return `EMC ScaleIO Version: ${rVersion(v)}`;
    }
    if (cmd === "help") return "Usage: scli --<command> [options]";
    if (cmd === "create_mdm_cluster") return this.createCluster(a, ctx);
    this.connect(a, ctx);
    sys.tick();
    if (cmd === "approve_certificate") return "Certificate approved";
    if (cmd === "login") {
      const user = sys.authenticate(need(a, "username"), need(a, "password"));
      if (!user) throw mdmFailed("Permission denied: invalid user name or password");
      this.sessions.set(ctx.ip, user.name);
      return `Logged in. User role is ${user.role}. System ID is ${sys.id}`;
    }
    if (cmd === "logout") {
      this.sessions.delete(ctx.ip);
      return "Logged out";
    }
    const userName = this.sessions.get(ctx.ip);
    const user = sys.users.find((u) => u.name === userName);
    if (!user) throw new Failure(NO_SESSION);
    switch (cmd) {
      case "set_password":
        sys.setPassword(user, need(a, "old_password"), need(a, "new_password"));
        this.sessions.delete(ctx.ip);
        return "Password changed successfully";
      case "add_user": {
        const { password } = sys.addUser(need(a, "username"), a.get("user_role") ?? "Monitor");
        return `Successfully created user ${a.get("username")} with password '${password}'. Password must be changed on first login.`;
      }
      case "query_user": {
        const u = sys.users.find((x) => x.name === need(a, "username"));
        if (!u) throw mdmFailed("Could not find the user");
        return `User ID: ${u.id} Name: ${u.name} Role: ${u.role} Password change required: ${u.passwordChangeRequired ? "Yes" : "No"}`;
      }
      case "add_standby_mdm": {
        const role = a.get("mdm_role") ?? "manager";
        if (role !== "manager" && role !== "tb")
          throw new UsageError("Error: --mdm_role must be manager or tb");
        const ip = need(a, "new_mdm_ip").split(",")[0]!;
        const m = sys.cluster.addStandby(
          ip,
          a.get("new_mdm_management_ip")?.split(",")[0],
          a.get("new_mdm_name") ?? `mdm_${ip}`,
          role === "manager",
        );
        return `Successfully added a standby MDM. Object ID 0x${m.id}`;
      }
      case "remove_standby_mdm":
        sys.cluster.removeStandby(need(a, "remove_mdm_name"));
        return "Successfully removed the standby MDM";
      case "switch_cluster_mode": {
        const mode = need(a, "cluster_mode") as ClusterMode;
        if (!["1_node", "3_node", "5_node"].includes(mode))
          throw mdmFailed(`Invalid cluster mode ${mode}`);
        sys.cluster.switchMode(mode, {
          addSlaves: a.list("add_slave_mdm_name"),
          addTbs: a.list("add_tb_name"),
          removeSlaves: a.list("remove_slave_mdm_name"),
          removeTbs: a.list("remove_tb_name"),
        });
        sys.syncSdcs();
        return "Successfully switched the cluster mode";
      }
      case "replace_cluster_mdm": {
        const slave = a.get("remove_slave_mdm_name");
        if (slave) sys.cluster.replace(slave, need(a, "add_slave_mdm_name"));
        const tb = a.get("remove_tb_name");
        if (tb) sys.cluster.replace(tb, need(a, "add_tb_name"));
        if (!slave && !tb) throw new UsageError("Error: name the member to replace");
        return "Successfully replaced the cluster MDM";
      }
      case "switch_mdm_ownership": {
        const target =
          a.get("new_master_mdm_name") ??
          a.get("new_master_mdm_ip") ??
          a.get("new_primary_mdm_ip") ??
          a.get("new_master_mdm_id")?.replace(/^0x/, "");
        if (!target)
          throw new UsageError("Error: Missing required parameter --new_master_mdm_name");
        sys.cluster.switchOwnership(target);
        return "Successfully switched MDM ownership";
      }
      case "query_cluster":
        return this.queryCluster();
      case "rename_system":
        sys.rename(need(a, "new_name"));
        return `Successfully renamed system to ${sys.name}`;
      case "add_protection_domain": {
        const pd = sys.addProtectionDomain(need(a, "protection_domain_name"));
        return `Successfully created protection domain ${pd.name}. Object ID ${pd.id}`;
      }
      case "remove_protection_domain":
        sys.removeProtectionDomain(this.pd(a).id);
        return "Successfully removed protection domain";
      case "add_storage_pool": {
        const pd = this.pd(a);
        const sp = sys.addStoragePool(pd.id, need(a, "storage_pool_name"));
        return `Successfully created a storage pool ${sp.name}. Object ID ${sp.id}`;
      }
      case "add_fault_set": {
        const fs = sys.addFaultSet(this.pd(a).id, need(a, "fault_set_name"));
        return `Successfully created fault set ${fs.name}. Object ID ${fs.id}`;
      }
      case "add_sds":
        return this.addSds(a);
      case "add_sds_device": {
        const sds = this.sds(a);
        const pool = sys.poolByName(sds.protectionDomainId, need(a, "storage_pool_name"));
        const d = sys.addDevice(sds.id, need(a, "device_path"), pool.id, a.get("device_name"));
        return `Successfully added device ${d.path} to SDS ${sds.name}. Device ID ${d.id}`;
      }
      case "remove_sds_device": {
        const sds = this.sds(a);
        const path = need(a, "device_path");
        const d = [...sys.devices.values()].find((x) => x.sdsId === sds.id && x.path === path);
        if (!d) throw mdmFailed("Could not find the device");
        sys.removeDevice(d.id);
        return `Successfully started removal of device ${path} from SDS ${sds.name}`;
      }
      case "remove_sds": {
        const sds = this.sds(a);
        sys.removeSds(sds.id);
        return `Successfully started removal of SDS ${sds.name}. Its data is being migrated`;
      }
      case "enter_maintenance_mode": {
        const sds = this.sds(a);
        sys.enterMaintenance(sds.id);
        return `SDS ${sds.name} entered maintenance mode successfully`;
      }
      case "exit_maintenance_mode": {
        const sds = this.sds(a);
        sys.exitMaintenance(sds.id);
        return `SDS ${sds.name} exited maintenance mode successfully`;
      }
      case "add_volume": {
        const pool = this.pool(a);
        const gb = Number(need(a, "size_gb"));
        if (!Number.isFinite(gb) || gb <= 0) throw mdmFailed("Invalid volume size");
        const v = sys.addVolume({
          name: need(a, "volume_name"),
          storagePoolId: pool.id,
          sizeKb: Math.ceil(gb * KB_PER_GB),
          thin: a.has("thin_provisioned"),
        });
        const rounded = v.sizeKb / KB_PER_GB;
        const note = rounded !== gb ? `Rounding up the volume size to ${rounded} GB\n` : "";
        return `${note}Successfully created volume of size ${rounded} GB. Object ID ${v.id}`;
      }
      case "rename_volume": {
        const v = this.volume(a);
        sys.renameVolume(v.id, need(a, "new_name"));
        return `Successfully renamed volume with ID ${v.id}`;
      }
      case "map_volume_to_sdc": {
        const v = this.volume(a);
        const sdc = this.sdc(a);
        sys.mapVolume(v.id, sdc.id, a.has("allow_multi_map"));
        return `Successfully mapped volume with ID ${v.id} to SDC with ID ${sdc.id}.`;
      }
      case "unmap_volume_from_sdc": {
        const v = this.volume(a);
        const gone = a.has("all_sdcs")
          ? sys.unmapVolume(v.id, "all")
          : sys.unmapVolume(v.id, this.sdc(a).id);
        return gone
          .map((s) => `Successfully un-mapped volume with ID ${v.id} from SDC with ID ${s.id}.`)
          .join("\n");
      }
      case "modify_volume_capacity": {
        const v = this.volume(a);
        const gb = Number(need(a, "size_gb"));
        if (!Number.isFinite(gb) || gb <= 0) throw mdmFailed("Invalid volume size");
        sys.resizeVolumeGb(v.id, ceilGranule(Math.ceil(gb * KB_PER_GB)) / KB_PER_GB);
        return `Successfully modified volume size to ${v.sizeKb / KB_PER_GB} GB`;
      }
      case "remove_volume": {
        const v = this.volume(a);
        if (!a.has("i_am_sure"))
          throw new UsageError("Error: This command removes data. Add --i_am_sure to proceed.");
        sys.removeVolume(v.id, a.has("remove_entire_snapshot_tree") ? "WHOLE_VTREE" : "ONLY_ME");
        return `Successfully removed volume with ID ${v.id}`;
      }
      case "modify_spare_policy": {
        const pool = this.pool(a);
        sys.setSparePercentage(pool.id, Number(need(a, "spare_percentage")));
        return `Successfully modified the spare policy of storage pool ${pool.name}`;
      }
      case "set_capacity_alerts_threshold": {
        const high = Number(need(a, "capacity_high_threshold"));
        const crit = Number(need(a, "capacity_critical_threshold"));
        if (a.has("all_storage_pools") || a.has("system_default"))
          sys.setCapacityThresholds("all", high, crit, a.has("system_default"));
        else sys.setCapacityThresholds(this.pool(a).id, high, crit);
        return "Successfully set the capacity alert thresholds";
      }
      case "remove_sdc": {
        const sdc = this.sdc(a);
        if (sys.volumesOfSdc(sdc.id).length) throw mdmFailed("The SDC has mapped volumes");
        sys.sdcs.delete(sdc.id);
        return `Successfully removed SDC with ID ${sdc.id}`;
      }
      case "set_performance_parameters":
        return "Successfully set performance parameters";
      case "query_all_sds":
        return this.queryAllSds();
      case "query_sds":
        return this.querySds(this.sds(a));
      case "query_all_volumes":
        return this.queryAllVolumes();
      case "query_volume":
        return this.queryVolume(this.volume(a));
      case "query_all_sdc":
        return this.queryAllSdc();
      case "query_sdc":
        return this.sdcLine(this.sdc(a));
      case "query_storage_pool":
        return this.poolBlock(this.pool(a));
      case "query_all":
        return this.queryAll();
      case "query_properties":
        return this.queryProperties(a);
    }
    throw new UsageError(`Error: Unknown command --${cmd}`);
  }

  // ------------------------------------------------------------ connection and lookups

  /** scli reaches the MDM at --mdm_ip (default: this node); with no serving master it fails. */
  private connect(a: Args, ctx: NodeContext): void {
    const targets = a.list("mdm_ip").length ? a.list("mdm_ip") : [ctx.ip];
    const c = this.sys.cluster;
    const reachable = targets.some((ip) => {
      const m = c.byIp(ip);
      return m && m.role !== "standby" && c.isAlive(m);
    });
    if (!reachable)
      throw new Failure(
        `Error: Failed to connect to MDM ${targets[0]}:${a.get("mdm_port") ?? 6611}`,
      );
    if (!c.settle()) throw mdmFailed("The MDM cluster has no quorum: no master MDM is available");
  }

  private createCluster(a: Args, ctx: NodeContext): string {
    if (!a.has("accept_license"))
      throw new UsageError("Error: You must accept the license terms (--accept_license)");
    const ip = need(a, "master_mdm_ip").split(",")[0]!;
    if (ip !== ctx.ip) throw new Failure(`Error: Failed to connect to MDM ${ip}:6611`);
    const mgmt = a.get("master_mdm_management_ip")?.split(",")[0] ?? ip;
    this.sys.createCluster(ip, mgmt, a.get("master_mdm_name") ?? "mdm1");
    return `Successfully created the MDM Cluster. Master MDM ID: 0x${this.sys.cluster.master()!.id}`;
  }

  private pd(a: Args) {
    const id = a.get("protection_domain_id");
    return id ? this.sys.pd(id) : this.sys.pdByName(need(a, "protection_domain_name"));
  }

  private pool(a: Args): StoragePool {
    const id = a.get("storage_pool_id");
    if (id) return this.sys.pool(id);
    return this.sys.poolByName(this.pd(a).id, need(a, "storage_pool_name"));
  }

  private sds(a: Args): Sds {
    const id = a.get("sds_id");
    if (id) return this.sys.sds(id);
    const ip = a.get("sds_ip");
    if (ip) {
      const s = this.sys.sdsByIp(ip);
      if (!s) throw mdmFailed("Could not find the SDS");
      return s;
    }
    return this.sys.sdsByName(need(a, "sds_name"));
  }

  private volume(a: Args): Volume {
    const id = a.get("volume_id");
    return id ? this.sys.volume(id) : this.sys.volumeByName(need(a, "volume_name"));
  }

  private sdc(a: Args): Sdc {
    const sys = this.sys;
    let s: Sdc | undefined;
    if (a.get("sdc_id")) s = sys.sdcs.get(a.get("sdc_id")!);
    else if (a.get("sdc_ip")) s = sys.sdcByIp(a.get("sdc_ip")!);
    else if (a.get("sdc_guid")) s = sys.sdcByGuid(a.get("sdc_guid")!);
    else if (a.get("sdc_name"))
      s = [...sys.sdcs.values()].find((x) => x.name === a.get("sdc_name"));
    else
      throw new UsageError(
        "Error: Missing required parameter --sdc_ip (or --sdc_id, --sdc_name, --sdc_guid)",
      );
    if (!s) throw mdmFailed("Could not find the SDC");
    return s;
  }

  private addSds(a: Args): string {
    const sys = this.sys;
    const pd = this.pd(a);
    const ips = a.list("sds_ip");
    if (!ips.length) throw new UsageError("Error: Missing required parameter --sds_ip");
    const roles = a.list("sds_ip_role");
    const paths = a.list("device_path");
    const pools = a.list("storage_pool_name");
    const names = a.list("device_name");
    const fsName = a.get("fault_set_name");
    const fs = fsName
      ? [...sys.faultSets.values()].find((f) => f.protectionDomainId === pd.id && f.name === fsName)
      : undefined;
    if (fsName && !fs) throw mdmFailed("Could not find the Fault Set");
    const devices = paths.map((path, i) => {
      const poolName = pools[i] ?? pools[0];
      if (!poolName) throw new UsageError("Error: Missing required parameter --storage_pool_name");
      return { path, storagePoolId: sys.poolByName(pd.id, poolName).id, name: names[i] };
    });
    const sds = sys.addSds({
      name: a.get("sds_name"),
      protectionDomainId: pd.id,
      ips: ips.map((ip, i) => ({ ip, role: normaliseRole(roles[i] ?? roles[0] ?? "all") })),
      faultSetId: fs?.id ?? null,
      port: a.get("sds_port") ? Number(a.get("sds_port")) : undefined,
      devices,
    });
    return `Successfully created SDS ${sds.name}. Object ID ${sds.id}`;
  }

  // ------------------------------------------------------------ output layouts

  private mdmVersion(m: MdmMember): string {
    const v = this.sys.nodes.get(m.ips[0]!)?.packages.get("mdm")?.version ?? DEFAULT_VERSION;
    return dottedVersion(v);
  }

  private queryCluster(): string {
    const c = this.sys.cluster;
    const voters = c.voters();
    const managers = c.managers();
    const alive = voters.filter((m) => c.isAlive(m)).length;
    const aliveMgr = managers.filter((m) => c.isAlive(m)).length;
    const lines = [
      "Cluster:",
      `    Mode: ${c.mode}, State: ${c.state()}, Active: ${alive}/${voters.length}, Replicas: ${aliveMgr}/${managers.length}`,
    ];
    const status = (m: MdmMember) => (c.isAlive(m) ? "Normal" : "Disconnected");
    const master = c.master();
    if (master) {
      lines.push("Master MDM:", `    Name: ${master.name}, ID: 0x${master.id}`);
      lines.push(
        `        IPs: ${master.ips.join(", ")}, Management IPs: ${master.managementIps.join(", ")}, Port: ${master.port}`,
      );
      lines.push(`        Version: ${this.mdmVersion(master)}`);
    }
    const slaves = c.members.filter((m) => m.role === "slave");
    if (slaves.length) {
      lines.push("Slave MDMs:");
      for (const m of slaves) {
        lines.push(`    Name: ${m.name}, ID: 0x${m.id}`);
        lines.push(
          `        IPs: ${m.ips.join(", ")}, Management IPs: ${m.managementIps.join(", ")}, Port: ${m.port}`,
        );
        lines.push(`        Status: ${status(m)}, Version: ${this.mdmVersion(m)}`);
      }
    }
    const tbs = c.members.filter((m) => m.role === "tb");
    if (tbs.length) {
      lines.push("Tie-Breakers:");
      for (const m of tbs) {
        lines.push(`    Name: ${m.name}, ID: 0x${m.id}`);
        lines.push(`        IPs: ${m.ips.join(", ")}, Port: ${m.port}`);
        lines.push(`        Status: ${status(m)}, Version: ${this.mdmVersion(m)}`);
      }
    }
    const standbys = c.members.filter((m) => m.role === "standby");
    if (standbys.length) {
      lines.push("Standby MDMs:");
      for (const m of standbys) {
        lines.push(
          `    Name: ${m.name}, ID: 0x${m.id}, ${m.isManager ? "Manager" : "Tie Breaker"}`,
        );
        lines.push(
          m.isManager
            ? `        IPs: ${m.ips.join(", ")}, Management IPs: ${m.managementIps.join(", ")}, Port: ${m.port}`
            : `        IPs: ${m.ips.join(", ")}, Port: ${m.port}`,
        );
      }
    }
    return lines.join("\n");
  }

  private sdsLine(s: Sds): string {
    const sys = this.sys;
    const ver =
      s.ipList.map((i) => sys.nodes.get(i.ip)?.packages.get("sds")?.version).find(Boolean) ??
      DEFAULT_VERSION;
    const state = sys.sdsConnected(s) ? "Connected" : "Disconnected";
    const joined = s.removing ? "Decoupled" : "Joined";
    return `SDS ID: ${s.id} Name: ${s.name} State: ${state}, ${joined} IP: ${s.ipList.map((i) => i.ip).join(",")} Port: ${s.port} Version: ${dottedVersion(ver)}`;
  }

  private queryAllSds(): string {
    const sys = this.sys;
    const lines = [`Query-all-SDS returned ${sys.sdss.size} SDS nodes.`];
    for (const pd of sys.pds.values()) {
      const list = [...sys.sdss.values()].filter((s) => s.protectionDomainId === pd.id);
      if (!list.length) continue;
      lines.push("", `Protection Domain ${pd.id} Name: ${pd.name}`);
      for (const s of list) lines.push(this.sdsLine(s));
    }
    return lines.join("\n");
  }

  private querySds(s: Sds): string {
    const sys = this.sys;
    const pd = sys.pd(s.protectionDomainId);
    const ver =
      s.ipList.map((i) => sys.nodes.get(i.ip)?.packages.get("sds")?.version).find(Boolean) ??
      DEFAULT_VERSION;
    const devs = [...sys.devices.values()].filter((d) => d.sdsId === s.id);
    const role = (r: string) =>
      r === "all" ? "All (SDS and SDC)" : r === "sdsOnly" ? "SDS Only" : "SDC Only";
    const lines = [
      `SDS ${s.id} Name: ${s.name} Version: ${dottedVersion(ver)}`,
      `Protection Domain: ${pd.id}, Name: ${pd.name}`,
      ...(s.faultSetId
        ? [`Fault Set: ${s.faultSetId}, Name: ${sys.faultSet(s.faultSetId).name}`]
        : []),
      "DRL mode: Volatile",
      "Authentication error: None",
      `IP information total ${s.ipList.length} IPs:`,
      ...s.ipList.map((i, n) => `     ${n + 1}: ${i.ip.padEnd(16)} Role: ${role(i.role)}`),
      `    Port: ${s.port}`,
      "RAM Read Cache information:",
      "    128.0 MB (131072 KB) total size",
      "    Cache is enabled",
      "    RAM Read Cache memory allocation state is SUCCESSFUL",
      "",
      `Device information total ${devs.length} devices:`,
    ];
    devs.forEach((d, i) => {
      lines.push(
        `     ${i + 1}: Name: ${d.name}  Path: ${d.path}  Original-path: ${d.path}  ID: ${d.id}`,
      );
      const state = d.removing ? "Remove Pending" : d.failed ? "Device Failed" : "Normal";
      lines.push(
        `        Storage Pool: ${sys.pool(d.storagePoolId).name}, Capacity: ${Math.floor(d.sizeKb / KB_PER_GB)} GB Error-fixes: 0 scanned 0 MB, Compare errors: 0 State: ${state}`,
      );
    });
    const errors = devs.filter((d) => d.failed).length;
    const st = this.sysStatsFor("Sds", s.id);
    lines.push(
      "",
      `Membership-state: ${s.removing ? "Decoupled" : "Joined"}; Connection-state: ${sys.sdsConnected(s) ? "Connected" : "Disconnected"}; SDS-state: ${s.removing ? "Removal in progress" : "Normal"}; ${errors} devices with error`,
      ...(s.maintenance ? ["Maintenance-state: In maintenance"] : []),
      `    ${humanSize(st.maxCapacityInKb as number)} total capacity`,
      `    ${humanSize(st.unusedCapacityInKb as number)} unused capacity`,
      "    0 Bytes snapshots capacity",
      `    ${humanSize(st.capacityInUseInKb as number)} in-use capacity`,
      `    ${humanSize(st.unreachableUnusedCapacityInKb as number)} unreachable-unused capacity`,
      "",
      ...this.workloadLines(st),
    );
    return lines.join("\n");
  }

  private queryAllVolumes(): string {
    const sys = this.sys;
    const vols = sys.listVolumes();
    const lines = [`Query-all-volumes returned ${vols.length} volumes`];
    for (const pd of sys.pds.values()) {
      lines.push(`Protection Domain ${pd.id} Name: ${pd.name}`);
      for (const sp of [...sys.pools.values()].filter((p) => p.protectionDomainId === pd.id)) {
        lines.push(`Storage Pool ${sp.id} Name: ${sp.name}`);
        const mine = vols.filter((v) => v.storagePoolId === sp.id);
        if (!mine.length) lines.push(" <No volumes defined>");
        for (const v of mine) {
          const mapped = v.mappings.length ? `Mapped to ${v.mappings.length} SDC` : "Unmapped";
          const kind =
            v.volumeType === "ThinProvisioned"
              ? "Thin-provisioned"
              : v.volumeType === "Snapshot"
                ? "Snapshot"
                : "Thick-provisioned";
          lines.push(
            ` Volume ID: ${v.id} Name: ${v.name} Size: ${humanSize(v.sizeKb)} (${kind}) ${mapped}`,
          );
        }
      }
    }
    return lines.join("\n");
  }

  private queryVolume(v: Volume): string {
    const sys = this.sys;
    const sp = sys.pool(v.storagePoolId);
    const pd = sys.pd(sp.protectionDomainId);
    const lines = [
      ">> Volume ID: " + v.id + " Name: " + v.name,
      `\tProvisioning: ${v.volumeType === "ThinProvisioned" ? "Thin" : "Thick"}`,
      `\tSize: ${humanSize(v.sizeKb)}`,
      `\tStorage Pool ${sp.id} Name: ${sp.name}`,
      `\tProtection Domain ${pd.id} Name: ${pd.name}`,
      `\tVTree ID: ${v.vtreeId}`,
    ];
    if (v.mappings.length) {
      lines.push(`\tMapped SDCs:`);
      for (const m of v.mappings) {
        const s = sys.sdcs.get(m.sdcId);
        lines.push(`\t\tSDC ID: ${m.sdcId} IP: ${s?.ip ?? "N/A"} Name: ${s?.name ?? "N/A"}`);
      }
    } else lines.push("\tVolume is not mapped to any SDC");
    return lines.join("\n");
  }

  private sdcLine(s: Sdc): string {
    const state = this.sys.sdcConnected(s) ? "Connected" : "Disconnected";
    const v = dottedVersion(
      this.sys.nodes.get(s.ip)?.packages.get("sdc")?.version ?? DEFAULT_VERSION,
    );
    const st = this.stats.of("Sdc", s.id);
    const bw = (b: Bwc) => {
      const iops = b.numSeconds ? Math.round(b.numOccured / b.numSeconds) : 0;
      return `${iops} IOPS ${humanSize(b.numSeconds ? b.totalWeightInKb / b.numSeconds : 0)} per-second`;
    };
    return [
      `SDC ID: ${s.id} Name: ${s.name ?? "N/A"} IP: ${s.ip} State: ${state} GUID: ${s.guid} OS Type: LINUX Approved: ${s.approved ? "yes" : "no"} Loaded Version: ${v} Installed Version: ${v}`,
      `    Read bandwidth:  ${bw(st.userDataReadBwc as Bwc)}`,
      `    Write bandwidth:  ${bw(st.userDataWriteBwc as Bwc)}`,
    ].join("\n");
  }

  private queryAllSdc(): string {
    const list = [...this.sys.sdcs.values()];
    return [
      "MDM restricted SDC mode: Disabled",
      `Query all SDC returned ${list.length} SDC nodes.`,
      ...list.map((s) => this.sdcLine(s)),
    ].join("\n");
  }

  private poolBlock(sp: StoragePool): string {
    const sys = this.sys;
    const c = sys.poolCapacity(sp.id);
    const vols = sys.listVolumes().filter((v) => v.storagePoolId === sp.id);
    return [
      `Storage Pool ${sp.name} Id: ${sp.id} has ${vols.length} volumes and ${humanSize(c.capacityAvailableForVolumeAllocationInKb)} available for volume allocation`,
      "    The number of parallel rebuild/rebalance jobs: 2",
      `    Rebuild is ${sp.rebuildEnabled ? "enabled" : "disabled"} and using Limit-Concurrent-IO policy with the following parameters:`,
      "    Number of concurrent IOs per device: 1",
      `    Rebalance is ${sp.rebalanceEnabled ? "enabled" : "disabled"} and using Favor-Application-IO policy with the following parameters:`,
      "    Number of concurrent IOs per device: 1, Bandwidth limit per device: 10.0 MB (10240 KB) per second",
      "    Background device scanner: Disabled",
      `    Zero padding is ${sp.zeroPaddingEnabled ? "enabled" : "disabled"}`,
      `    Spare policy: ${sp.sparePercentage}% out of total`,
      `    Checksum mode: ${sp.checksumEnabled ? "enabled" : "disabled"}`,
      sp.useRmcache ? "    Uses RAM Read Cache" : "    Doesn't use RAM Read Cache",
      "    RAM Read Cache write handling mode is 'cached'",
      sp.useRfcache ? "    Uses Flash Read Cache" : "    Doesn't use Flash Read Cache",
      `    Capacity alert thresholds: High: ${sp.capacityAlertHighThreshold}, Critical: ${sp.capacityAlertCriticalThreshold}`,
    ].join("\n");
  }

  private queryAll(): string {
    const sys = this.sys;
    const master = sys.cluster.master();
    const ver = master
      ? (sys.nodes.get(master.ips[0]!)?.packages.get("mdm")?.version ?? DEFAULT_VERSION)
      : DEFAULT_VERSION;
    const sdss = [...sys.sdss.values()];
    const lines = [
      "System Info:",
      `    Product:  EMC ScaleIO Version: ${rVersion(ver)}`,
      `    ID:      ${sys.id}`,
      ...(sys.name ? [`    Name: ${sys.name}`] : []),
      "    Manager ID:      0000000000000000",
      "",
      "License info:",
      `    Installation ID: ${sys.installId}`,
      "    SWID: ",
      "    Maximum capacity: Unlimited",
      "    Usage time left: Unlimited *** Non-Production License ***",
      "    Enterprise features: Enabled",
      "",
      "System settings:",
      `    Capacity alert thresholds: High: ${sys.capacityAlertHighThresholdPercent}, Critical: ${sys.capacityAlertCriticalThresholdPercent}`,
      "    Thick volume reservation percent: 0",
      "    MDM restricted SDC mode: disabled",
      "",
      `Query all returned ${sys.pds.size} Protection Domain${sys.pds.size === 1 ? "" : "s"}:`,
    ];
    for (const pd of sys.pds.values()) {
      const pools = [...sys.pools.values()].filter((p) => p.protectionDomainId === pd.id);
      const vols = sys.listVolumes().filter((v) => pools.some((p) => p.id === v.storagePoolId));
      const avail = pools.reduce(
        (s, p) => s + sys.poolCapacity(p.id).capacityAvailableForVolumeAllocationInKb,
        0,
      );
      const fsCount = [...sys.faultSets.values()].filter(
        (f) => f.protectionDomainId === pd.id,
      ).length;
      const sdsCount = sdss.filter((s) => s.protectionDomainId === pd.id).length;
      lines.push(
        `Protection Domain ${pd.name} Id: ${pd.id} has ${pools.length} storage pools, ${fsCount} Fault Sets, ${sdsCount} SDS nodes, ${vols.length} volumes and ${humanSize(avail)} available for volume allocation`,
        "Operational state is Active",
        "",
      );
      for (const sp of pools) lines.push(this.poolBlock(sp), "");
    }
    const connected = sdss.filter((s) => sys.sdsConnected(s)).length;
    const st = this.sysStatsFor("System", sys.id);
    const vols = sys.listVolumes();
    const thin = vols.filter((v) => v.volumeType === "ThinProvisioned");
    const thick = vols.filter((v) => v.volumeType === "ThickProvisioned");
    lines.push(
      "",
      "SDS Summary:",
      `    Total ${sdss.length} SDS Nodes`,
      `    ${sdss.filter((s) => !s.removing).length} SDS nodes have membership state 'Joined'`,
      `    ${connected} SDS nodes have connection state 'Connected'`,
      ...this.capacitySummary(st),
      "",
      ...this.workloadLines(st),
      "",
      "Volumes summary:",
      ...(thin.length
        ? [
            `    ${thin.length} thin-provisioned volumes. Total used size: ${humanSize(thin.reduce((s, v) => s + v.writtenKb, 0))}`,
          ]
        : []),
      ...(thick.length
        ? [
            `    ${thick.length} thick-provisioned volumes. Total size: ${humanSize(thick.reduce((s, v) => s + v.sizeKb, 0))}`,
          ]
        : []),
    );
    return lines.join("\n");
  }

  private sysStatsFor(type: StatsType, id: string): Record<string, unknown> {
    return this.stats.of(type, id);
  }

  /** Workload lines as query_all and query_sds print them. */
  private workloadLines(st: Record<string, unknown>): string[] {
    const rows: [string, string][] = [
      ["Primary-reads", "primaryReadBwc"],
      ["Primary-writes", "primaryWriteBwc"],
      ["Secondary-reads", "secondaryReadBwc"],
      ["Secondary-writes", "secondaryWriteBwc"],
      ["Backward-rebuild-reads", "bckRebuildReadBwc"],
      ["Backward-rebuild-writes", "bckRebuildWriteBwc"],
      ["Forward-rebuild-reads", "fwdRebuildReadBwc"],
      ["Forward-rebuild-writes", "fwdRebuildWriteBwc"],
      ["Rebalance-reads", "rebalanceReadBwc"],
      ["Rebalance-writes", "rebalanceWriteBwc"],
    ];
    return rows.map(([label, key]) => {
      const b = (st[key] ?? { numOccured: 0, numSeconds: 0, totalWeightInKb: 0 }) as Bwc;
      const iops = b.numSeconds ? Math.round(b.numOccured / b.numSeconds) : 0;
      const kbps = b.numSeconds ? b.totalWeightInKb / b.numSeconds : 0;
      return `    ${label.padEnd(41)}${iops} IOPS ${humanSize(kbps)} per-second`;
    });
  }

  /** The per-counter lines of query_all's SDS summary (system-wide statistics). */
  private capacitySummary(st: Record<string, unknown>): string[] {
    const n = (k: string) => humanSize(Number(st[k] ?? 0));
    return [
      `    ${n("maxCapacityInKb")} total capacity`,
      `    ${n("unusedCapacityInKb")} unused capacity`,
      `    ${n("snapCapacityInUseInKb")} snapshots capacity`,
      `    ${n("capacityInUseInKb")} in-use capacity`,
      `    ${n("thinCapacityInUseInKb")} thin capacity`,
      `    ${n("protectedCapacityInKb")} protected capacity`,
      `    ${n("failedCapacityInKb")} failed capacity`,
      `    ${n("degradedFailedCapacityInKb")} degraded-failed capacity`,
      `    ${n("degradedHealthyCapacityInKb")} degraded-healthy capacity`,
      `    ${n("unreachableUnusedCapacityInKb")} unreachable-unused capacity`,
      `    ${n("activeRebalanceCapacityInKb")} active rebalance capacity`,
      `    ${n("pendingRebalanceCapacityInKb")} pending rebalance capacity`,
      `    ${n("activeFwdRebuildCapacityInKb")} active forward-rebuild capacity`,
      `    ${n("pendingFwdRebuildCapacityInKb")} pending forward-rebuild capacity`,
      `    ${n("activeBckRebuildCapacityInKb")} active backward-rebuild capacity`,
      `    ${n("pendingBckRebuildCapacityInKb")} pending backward-rebuild capacity`,
      `    ${n("rebalanceCapacityInKb")} rebalance capacity`,
      `    ${n("fwdRebuildCapacityInKb")} forward-rebuild capacity`,
      `    ${n("bckRebuildCapacityInKb")} backward-rebuild capacity`,
      `    ${n("activeMovingCapacityInKb")} active moving capacity`,
      `    ${n("pendingMovingCapacityInKb")} pending moving capacity`,
      `    ${n("movingCapacityInKb")} total moving capacity`,
      `    ${n("spareCapacityInKb")} spare capacity`,
      `    ${n("atRestCapacityInKb")} at-rest capacity`,
      `    ${n("semiProtectedCapacityInKb")} semi-protected capacity`,
      `    ${n("inMaintenanceCapacityInKb")} in-maintenance capacity`,
      "    0 Bytes decreased capacity",
    ];
  }

  private queryProperties(a: Args): string {
    const sys = this.sys;
    const type = need(a, "object_type").toUpperCase();
    const wanted = a.list("properties").map((p) => p.toUpperCase());
    const rows: [string, string, Record<string, string>][] = [];
    const yn = (b: boolean) => (b ? "Yes" : "No");
    switch (type) {
      case "SDS":
        for (const s of sys.sdss.values()) {
          rows.push([
            "SDS",
            s.id,
            {
              ID: s.id,
              NAME: s.name,
              IPS: s.ipList.map((i) => i.ip).join(","),
              PORT: String(s.port),
              PROTECTION_DOMAIN_ID: s.protectionDomainId,
              FAULT_SET_ID: s.faultSetId ?? "<Not Set>",
              STATE: sys.sdsConnected(s) ? "Connected" : "Disconnected",
              MAINTENANCE_STATE: s.maintenance ? "In Maintenance" : "No Maintenance",
            },
          ]);
        }
        break;
      case "VOLUME":
        for (const v of sys.listVolumes()) {
          rows.push([
            "VOLUME",
            v.id,
            {
              ID: v.id,
              NAME: v.name,
              SIZE: humanSize(v.sizeKb),
              STORAGE_POOL_ID: v.storagePoolId,
              TYPE:
                v.volumeType === "ThinProvisioned"
                  ? "THIN_PROVISIONED"
                  : v.volumeType === "Snapshot"
                    ? "SNAPSHOT"
                    : "THICK_PROVISIONED",
              MAPPED_SDCS: v.mappings.length
                ? v.mappings.map((m) => m.sdcId).join(",")
                : "<Not Set>",
            },
          ]);
        }
        break;
      case "STORAGE_POOL":
        for (const p of sys.pools.values()) {
          const c = sys.poolCapacity(p.id);
          rows.push([
            "STORAGE_POOL",
            p.id,
            {
              ID: p.id,
              NAME: p.name,
              PROTECTION_DOMAIN_ID: p.protectionDomainId,
              SPARE_PERCENT: `${p.sparePercentage}%`,
              ZERO_PADDING_ENABLED: yn(p.zeroPaddingEnabled),
              USE_RMCACHE: yn(p.useRmcache),
              MAX_CAPACITY: humanSize(c.maxCapacityInKb),
              IN_USE_CAPACITY: humanSize(c.capacityInUseInKb),
            },
          ]);
        }
        break;
      case "PROTECTION_DOMAIN":
        for (const p of sys.pds.values())
          rows.push(["PROTECTION_DOMAIN", p.id, { ID: p.id, NAME: p.name, STATE: "Active" }]);
        break;
      case "FAULT_SET":
        for (const f of sys.faultSets.values())
          rows.push([
            "FAULT_SET",
            f.id,
            { ID: f.id, NAME: f.name, PROTECTION_DOMAIN_ID: f.protectionDomainId },
          ]);
        break;
      case "DEVICE":
        for (const d of sys.devices.values()) {
          rows.push([
            "DEVICE",
            d.id,
            {
              ID: d.id,
              NAME: d.name,
              PATH: d.path,
              SDS_ID: d.sdsId,
              STORAGE_POOL_ID: d.storagePoolId,
              MAX_CAPACITY: humanSize(d.sizeKb),
              STATE: d.removing ? "Remove Pending" : "Normal",
            },
          ]);
        }
        break;
      case "SDC":
        for (const s of sys.sdcs.values()) {
          rows.push([
            "SDC",
            s.id,
            {
              ID: s.id,
              NAME: s.name ?? "<Not Set>",
              IP: s.ip,
              GUID: s.guid,
              STATE: sys.sdcConnected(s) ? "Connected" : "Disconnected",
              APPROVED: yn(s.approved),
            },
          ]);
        }
        break;
      case "MDM":
        for (const m of sys.cluster.members) {
          rows.push([
            "MDM",
            m.id,
            {
              ID: `0x${m.id}`,
              NAME: m.name,
              IPS: m.ips.join(","),
              MGMT_IPS: m.managementIps.join(",") || "<Not Set>",
              ROLE: m.isManager ? "MDM_ROLE_MANAGER" : "MDM_ROLE_TIE_BREAKER",
              IS_MASTER: yn(m.role === "master"),
              IS_STANDBY: yn(m.role === "standby"),
              STATUS: sys.cluster.isAlive(m) ? "MDM_STATUS_NORMAL" : "MDM_STATUS_DISCONNECTED",
              CLUSTER_PORT: String(MDM_ACTOR_PORT),
              VERSION: this.mdmVersion(m),
            },
          ]);
        }
        break;
      default:
        throw mdmFailed(`Unknown object type ${type}`);
    }
    const out: string[] = [];
    for (const [t, id, props] of rows) {
      out.push(`${t} ${id}:`);
      for (const [k, v] of Object.entries(props)) {
        if (wanted.length && !wanted.includes(k)) continue;
        out.push(`\t${k.padEnd(51)}${v}`);
      }
      out.push("");
    }
    return out.join("\n");
  }
}

function normaliseRole(r: string): string {
  if (r === "sds_only") return "sdsOnly";
  if (r === "sdc_only") return "sdcOnly";
  return r;
}
