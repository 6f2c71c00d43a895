// scaleio.host-facts: what the scheduler needs to plan this node: package format, raw
// devices (usable or not, with the reason), installed ScaleIO components and the SDC GUID.
import { z } from "zod";
import type { PackageFormat } from "../../../host/packages.js";
import type { HostProfile } from "../../../host/profile.js";
import { defineHandler } from "../../../framework/node-task/handler.js";
import type { DeviceFact } from "../topology/facts.js";
import { COMPONENTS, packageName, type Component } from "./common.js";

export interface HostFacts {
  packageFormat: PackageFormat;
  /** The operating system (absent in facts saved before it was reported). */
  os?: { id: string; install: "package-tool" | "unpack"; init: string; kernel?: string };
  devices: DeviceFact[];
  installed: Partial<Record<Component, string>>;
  sdcGuid?: string;
}

export const hostFacts = defineHandler({
  kind: "scaleio.host-facts",
  params: z.object({}).strict().optional(),
  async run(_params, ctx): Promise<HostFacts> {
    const { host, signal } = ctx;
    ctx.progress("discovering devices");
    const devices: DeviceFact[] = (await host.discoverDevices()).map((d) => ({
      path: d.path,
      sizeBytes: d.sizeBytes,
      usable: d.usable,
      ...(d.reason ? { reason: d.reason } : {}),
    }));
    ctx.progress("reading installed packages");
    const installed: Partial<Record<Component, string>> = {};
    const names = new Map(COMPONENTS.map((c) => [c, packageName(c, host.packages.format)]));
    const versions = await host.packages.installedVersions([...names.values()], { signal });
    for (const [c, name] of names) {
      const v = versions.get(name);
      if (v) installed[c] = v;
    }
    const facts: HostFacts = {
      packageFormat: host.packages.format,
      os: {
        id: host.os.id,
        install: host.packages.method,
        init: host.os.init,
        ...(host.os.kernel.release ? { kernel: host.os.kernel.release } : {}),
      },
      devices,
      installed,
    };
    if (installed.sdc) {
      const guid = await querySdcGuid(host, signal);
      if (guid) facts.sdcGuid = guid;
    }
    return facts;
  },
});

/** `drv_cfg --query_guid`, or undefined when the SDC driver does not answer. */
export async function querySdcGuid(
  host: Pick<HostProfile, "drvCfgCommand" | "run">,
  signal: AbortSignal,
): Promise<string | undefined> {
  const r = await host.run(await host.drvCfgCommand(), ["--query_guid"], {
    check: false,
    timeoutMs: 30_000,
    signal,
  });
  const guid = r.stdout.trim();
  return r.exitCode === 0 && /^[0-9A-Fa-f-]{36}$/.test(guid) ? guid.toUpperCase() : undefined;
}
