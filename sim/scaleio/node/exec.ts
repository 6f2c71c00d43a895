// One entry point for every node-side tool: the bin/ forwarders post {tool, argv, env, cwd}
// to the emulator's control endpoint, which runs the tool here and returns its output.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { ScaleioSystem } from "../model/system.js";
import { drvCfg } from "./drvcfg.js";
import { PackageTool } from "./packages.js";
import { aptGet, yum } from "./prereqs.js";
import { Scli, type ExecResult, type NodeContext } from "./scli.js";
import { NodeServices } from "./services.js";
import { adoptUnpackedUnits } from "./unpacked-units.js";
import { chkconfig, updateRcD } from "./boot-links.js";

export const TOOLS = [
  "scli",
  "drv_cfg",
  "rpm",
  "dpkg",
  "dpkg-query",
  "apt-get",
  "yum",
  "systemctl",
  "service",
  "chkconfig",
  "update-rc.d",
] as const;
export type Tool = (typeof TOOLS)[number];

/** The OS's own tools: absent on a node whose emulated OS lacks them (CoreOS has no rpm). */
const OS_TOOLS = new Set<Tool>([
  "rpm",
  "dpkg",
  "dpkg-query",
  "apt-get",
  "yum",
  "systemctl",
  "service",
  "chkconfig",
  "update-rc.d",
]);

/**
 * Whether the node's OS has `tool`: a node given an emulated OS (sim/mesos/emulated-os.ts:
 * it has a kernel release under its root) has the tools its OS put in its bin folders; other
 * nodes have every tool, as before OS profiles existed.
 */
export function osHasTool(root: string | undefined, tool: Tool): boolean {
  if (!root || !OS_TOOLS.has(tool)) return true;
  if (!existsSync(join(root, "proc/sys/kernel/osrelease"))) return true;
  return ["usr/bin", "bin", "usr/sbin", "sbin"].some((d) => existsSync(join(root, d, tool)));
}

export class NodeTools {
  readonly scli: Scli;
  readonly packages: PackageTool;
  readonly services: NodeServices;

  constructor(
    private readonly sys: ScaleioSystem,
    controlUrl: () => string,
  ) {
    this.scli = new Scli(sys);
    this.packages = new PackageTool(sys, controlUrl);
    this.services = new NodeServices(sys);
  }

  /** The context with the node's root filled in (from an earlier call when not given). */
  private rooted(ctx: NodeContext): NodeContext {
    return { ...ctx, root: ctx.root ?? this.sys.nodes.get(ctx.ip)?.root };
  }

  run(tool: Tool, ctx: NodeContext, argv: string[], cwd?: string): ExecResult {
    if (ctx.root) {
      const n = this.sys.nodes.get(ctx.ip);
      if (n) n.root = ctx.root;
    }
    const root = ctx.root ?? this.sys.nodes.get(ctx.ip)?.root;
    if (!osHasTool(root, tool)) {
      return { stdout: "", stderr: `${tool}: command not found\n`, exitCode: 127 };
    }
    switch (tool) {
      case "scli":
        return this.scli.run(ctx, argv);
      case "drv_cfg":
        return drvCfg(this.sys, ctx, argv);
      case "rpm":
        return this.packages.rpm(ctx, argv, cwd);
      case "dpkg":
        return this.packages.dpkg(ctx, argv, cwd);
      case "dpkg-query":
        return this.packages.dpkgQuery(ctx, argv);
      case "apt-get":
        return aptGet(this.sys, ctx, argv);
      case "yum":
        return yum(this.sys, ctx, argv);
      case "systemctl":
        return adoptUnpackedUnits(this.sys, ctx, argv) ?? this.services.systemctl(ctx, argv);
      case "service":
        return this.services.service(ctx, argv);
      case "chkconfig":
        return chkconfig(this.rooted(ctx), argv);
      case "update-rc.d":
        return updateRcD(this.rooted(ctx), argv);
    }
  }
}
