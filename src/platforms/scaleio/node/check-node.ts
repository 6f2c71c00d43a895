// scaleio.check-node: what of ScaleIO is on this node and answering: installed versions,
// the MDM's role (from its conf.txt), and for the SDC whether the driver answers and which
// MDMs it knows. It changes nothing.
import { z } from "zod";
import { defineHandler } from "../../../framework/node-task/handler.js";
import { componentSchema, packageName, type Component } from "./common.js";
import { parseQueryMdms } from "./configure-sdc.js";
import { querySdcGuid } from "./host-facts.js";

export interface ComponentCheck {
  installed: boolean;
  version?: string;
  /** For the SDC: the driver answers; for the MDM: its role. */
  running?: boolean;
  role?: "manager" | "tiebreaker";
  sdcGuid?: string;
  mdmIps?: string[];
}

export const checkNode = defineHandler({
  kind: "scaleio.check-node",
  params: z.object({ components: z.array(componentSchema).min(1).max(5) }).strict(),
  async run(p, ctx) {
    const { host, signal } = ctx;
    const out: Partial<Record<Component, ComponentCheck>> = {};
    const components = [...new Set(p.components)];
    const versions = await host.packages.installedVersions(
      components.map((c) => packageName(c, host.packages.format)),
      { signal },
    );
    for (const c of components) {
      const version = versions.get(packageName(c, host.packages.format));
      const check: ComponentCheck = { installed: version !== undefined };
      if (version) check.version = version;
      if (c === "mdm" && version) {
        const conf = await host.root.readText("/opt/emc/scaleio/mdm/cfg/conf.txt");
        const m = conf ? /actor_role_is_manager=([01])/.exec(conf) : null;
        if (m) check.role = m[1] === "1" ? "manager" : "tiebreaker";
      }
      if (c === "sdc" && version) {
        const guid = await querySdcGuid(host, signal);
        check.running = guid !== undefined;
        if (guid) {
          check.sdcGuid = guid;
          const q = await host.run(await host.drvCfgCommand(), ["--query_mdms"], {
            check: false,
            timeoutMs: 30_000,
            signal,
          });
          if (q.exitCode === 0) check.mdmIps = parseQueryMdms(q.stdout);
        }
      }
      out[c] = check;
    }
    const healthy = Object.values(out).every((c) => c.installed && c.running !== false);
    return { components: out, healthy };
  },
});
