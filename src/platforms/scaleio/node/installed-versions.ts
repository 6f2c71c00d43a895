// scaleio.installed-versions: the versions of the ScaleIO packages installed on this node (one
// rpm/dpkg-query call), for the upgrade plan and the operators' node view.
import { z } from "zod";
import { defineHandler } from "../../../framework/node-task/handler.js";
import { COMPONENTS, packageName, type Component } from "./common.js";

export const installedVersions = defineHandler({
  kind: "scaleio.installed-versions",
  params: z.object({}).strict().optional(),
  async run(_params, ctx): Promise<Partial<Record<Component, string>>> {
    const { host, signal } = ctx;
    const names = new Map(COMPONENTS.map((c) => [c, packageName(c, host.packages.format)]));
    const versions = await host.packages.installedVersions([...names.values()], { signal });
    const out: Partial<Record<Component, string>> = {};
    for (const [c, name] of names) {
      const v = versions.get(name);
      if (v) out[c] = v;
    }
    return out;
  },
});
