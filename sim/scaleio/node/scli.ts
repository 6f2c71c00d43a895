// `scli`, run on a node: flags and success strings of reference section 3 (query layouts are
// in scli-reports.ts).
// Sessions belong to the node (scli keeps one per local OS user; the emulator has one user).
import { SimError } from "../model/errors.js";
import type { ScaleioSystem } from "../model/system.js";
import type { ClusterMode, Sdc, Sds, StoragePool, Volume } from "../model/types.js";
import { KB_PER_GB, ceilGranule } from "../model/units.js";
import { DEFAULT_VERSION, rVersion } from "../model/versions.js";
import { Args, UsageError, need } from "./args.js";
import { ScliReports } from "./scli-reports.js";

export interface NodeContext {
  ip: string;
  root?: string | undefined;
  env: Record<string, string | undefined>;
  /** The tool's standard input (scli reads passwords it was not given from it). */
  stdin?: string;
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

  private readonly reports: ScliReports;

  constructor(private readonly sys: ScaleioSystem) {
    this.reports = new ScliReports(sys);
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
    // Passwords not given as flags are read from standard input, one line each, where the real
    // scli prompts for them (what of that is verified: sim/scaleio/README.md, "Passwords").
    const lines = (ctx.stdin ?? "").split(/\r?\n/);
    const prompted = (flag: string): string => {
      const v = a.get(flag) ?? lines.shift();
      if (!v) throw new UsageError(`Error: Missing required parameter --${flag}`);
      return v;
    };
    if (cmd === "login") {
      const user = sys.authenticate(need(a, "username"), prompted("password"));
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
      case "set_password": {
        const oldPassword = prompted("old_password");
        const newPassword = prompted("new_password");
        // A prompted new password may be confirmed on the next line; a mismatch changes nothing.
        const confirm = a.get("new_password") === undefined ? lines.shift() : undefined;
        if (confirm && confirm !== newPassword)
          throw new UsageError("Error: The new password and its confirmation do not match");
        sys.setPassword(user, oldPassword, newPassword);
        this.sessions.delete(ctx.ip);
        return "Password changed successfully";
      }
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
        const leave = a.has("allow_leave_failed");
        if (slave) sys.cluster.replace(slave, need(a, "add_slave_mdm_name"), leave);
        const tb = a.get("remove_tb_name");
        if (tb) sys.cluster.replace(tb, need(a, "add_tb_name"), leave);
        if (!slave && !tb) throw new UsageError("Error: name the member to replace");
        sys.syncSdcs();
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
        return this.reports.queryCluster();
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
        return this.reports.queryAllSds();
      case "query_sds":
        return this.reports.querySds(this.sds(a));
      case "query_all_volumes":
        return this.reports.queryAllVolumes();
      case "query_volume":
        return this.reports.queryVolume(this.volume(a));
      case "query_all_sdc":
        return this.reports.queryAllSdc();
      case "query_sdc":
        return this.reports.sdcLine(this.sdc(a));
      case "query_storage_pool":
        return this.reports.poolBlock(this.pool(a));
      case "query_all":
        return this.reports.queryAll();
      case "query_properties":
        return this.reports.queryProperties(a);
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
}

function normaliseRole(r: string): string {
  if (r === "sds_only") return "sdsOnly";
  if (r === "sdc_only") return "sdcOnly";
  return r;
}
