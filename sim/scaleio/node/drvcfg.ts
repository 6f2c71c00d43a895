// `drv_cfg`, the SDC tool (reference 2.4): GUID, configured MDMs, rescan, adding MDMs.
import type { ScaleioSystem } from "../model/system.js";
import { DEFAULT_VERSION, rVersion } from "../model/versions.js";
import { Args } from "./args.js";
import { writeNodeFile } from "./files.js";
import type { ExecResult, NodeContext } from "./scli.js";

export function drvCfg(sys: ScaleioSystem, ctx: NodeContext, argv: string[]): ExecResult {
  const a = new Args(argv);
  const node = sys.nodes.get(ctx.ip);
  const pkg = node?.packages.get("sdc");
  if (!node || !pkg || !node.sdcAlive) {
    return {
      stdout: "",
      stderr: "Failed to open kernel device (scini is not loaded)\n",
      exitCode: 1,
    };
  }
  const out = (s: string): ExecResult => ({
    stdout: s.endsWith("\n") ? s : `${s}\n`,
    stderr: "",
    exitCode: 0,
  });
  if (a.has("query_guid")) return out(node.sdcGuid);
  if (a.has("query_version"))
    return out(`DellEMC ScaleIO Version: ${rVersion(pkg.version ?? DEFAULT_VERSION)}`);
  if (a.has("rescan")) return out("");
  if (a.has("query_mdms") || a.has("query_mdm")) {
    const sdc = sys.sdcByIp(ctx.ip);
    const ips = node.sdcMdmIps.map((ip, i) => `[${i}]-${ip}`).join(" ");
    return out(
      `Retrieved 1 mdm(s)\nMDM-ID ${sys.created ? sys.id : "0000000000000000"} SDC ID ${sdc?.id ?? "0000000000000000"} INSTALLATION ID ${sys.installId} IPs ${ips}`,
    );
  }
  if (a.has("query_vols")) {
    const sdc = sys.sdcByIp(ctx.ip);
    const vols = sdc ? sys.volumesOfSdc(sdc.id) : [];
    return out(
      [
        `Retrieved ${vols.length} volume(s)`,
        ...vols.map((v) => `VOL-ID ${v.id} MDM-ID ${sys.id}`),
      ].join("\n"),
    );
  }
  if (a.has("mod_mdm_ip")) {
    // Replaces the addresses of the MDM cluster named by one of its current IPs (after an MDM
    // was replaced); with --file the persisted drv_cfg.txt follows.
    const known = a.get("ip");
    const next = a.list("new_mdm_ip");
    if (!known || !next.length)
      return { stdout: "", stderr: "Missing --ip or --new_mdm_ip\n", exitCode: 1 };
    if (!node.sdcMdmIps.includes(known))
      return { stdout: "", stderr: `MDM with IP ${known} is not configured\n`, exitCode: 1 };
    node.sdcMdmIps = [...new Set(next)];
    if (a.has("file"))
      writeNodeFile(node.root, "bin/emc/scaleio/drv_cfg.txt", `mdm ${node.sdcMdmIps.join(",")}\n`);
    sys.syncSdcs();
    return out("Calling kernel module to modify MDM IPs");
  }
  if (a.has("add_mdm")) {
    const ips = a.list("ip");
    if (!ips.length) return { stdout: "", stderr: "Missing --ip\n", exitCode: 1 };
    node.sdcMdmIps = [...new Set([...node.sdcMdmIps, ...ips])];
    if (a.has("file"))
      writeNodeFile(node.root, "bin/emc/scaleio/drv_cfg.txt", `mdm ${node.sdcMdmIps.join(",")}\n`);
    sys.syncSdcs();
    return out("Calling kernel module to connect to MDM");
  }
  return {
    stdout: "",
    stderr:
      "Usage: drv_cfg --query_guid | --query_mdms | --rescan | --add_mdm --ip <ips> | --mod_mdm_ip --ip <ip> --new_mdm_ip <ips>\n",
    exitCode: 1,
  };
}
