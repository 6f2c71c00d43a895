// Components installed by unpacking their payload (CoreOS, Flatcar: no rpm tells the emulator)
// come up when their unit under /etc/systemd/system is started: the version is the payload's
// VERSION file, the install environment (MDM_ROLE_IS_MANAGER, MDM_IP, TOKEN...) the unit's
// EnvironmentFile. A newer VERSION (an upgrade unpacked over it) is installed on restart. And
// scini loads only with a driver for the node's kernel, on any node with an emulated OS.
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { ScaleioSystem } from "../model/system.js";
import type { Component } from "../model/types.js";
import { writeNodeFile } from "./files.js";
import { SERVICE_NAME } from "./services.js";
import type { ExecResult, NodeContext } from "./scli.js";

const STARTING = new Set(["start", "restart", "reload-or-restart", "try-restart", "enable"]);

/** Components each emulator brought up from unpacked payloads (`<ip>/<component>`). */
const adopted = new WeakMap<ScaleioSystem, Set<string>>();
const adoptedBy = (sys: ScaleioSystem) => {
  let s = adopted.get(sys);
  if (!s) adopted.set(sys, (s = new Set()));
  return s;
};

/**
 * Before `systemctl <argv>` runs: a unit it starts whose component was unpacked here is
 * installed in the model first. Returns a failure when the component cannot start.
 */
export function adoptUnpackedUnits(
  sys: ScaleioSystem,
  ctx: NodeContext,
  argv: string[],
): ExecResult | undefined {
  const [verb, ...units] = argv.filter((a) => !a.startsWith("-"));
  const root = ctx.root ?? sys.nodes.get(ctx.ip)?.root;
  if (!verb || !root) return undefined;
  const read = (p: string) => {
    const f = join(root, p.replace(/^\/+/, ""));
    return existsSync(f) ? readFileSync(f, "utf8") : undefined;
  };
  if (verb === "daemon-reload") {
    // A unit whose file was taken away is forgotten: the unpacked component is uninstalled.
    for (const key of adoptedBy(sys)) {
      const [ip, c] = key.split("/") as [string, Component];
      if (ip !== ctx.ip || read(`/etc/systemd/system/${SERVICE_NAME[c]}.service`)) continue;
      sys.removePackage(ip, c);
      adoptedBy(sys).delete(key);
      if (c === "sdc") rmSync(join(root, "dev/scini"), { force: true });
    }
    return undefined;
  }
  if (!STARTING.has(verb)) return undefined;
  for (const unit of units) {
    const name = unit.replace(/\.service$/, "");
    const c = (Object.keys(SERVICE_NAME) as Component[]).find((k) => SERVICE_NAME[k] === name);
    if (!c) continue;
    const unitText = read(`/etc/systemd/system/${name}.service`);
    const version = read(`/opt/emc/scaleio/${c}/VERSION`)?.trim();
    if (!unitText || !version) continue;
    if (sys.nodes.get(ctx.ip)?.packages.get(c)?.version === version) continue;
    if (c === "sdc") {
      const missing = missingSciniDriver(root, "unpack");
      if (missing) {
        return {
          stdout: "",
          stderr: `Job for scini.service failed because the control process exited with error code: ${missing}\n`,
          exitCode: 1,
        };
      }
    }
    const envPath = /^EnvironmentFile=-?(\S+)$/m.exec(unitText)?.[1];
    const env: Record<string, string> = {};
    for (const line of (envPath ? read(envPath) : undefined)?.split("\n") ?? []) {
      const m = /^([A-Z_]+)=(.*)$/.exec(line);
      if (!m) continue;
      // systemd's quoting: "..." with \" and \\ escaped.
      const q = /^"(.*)"$/.exec(m[2]!);
      env[m[1]!] = q ? q[1]!.replace(/\\(["\\])/g, "$1") : m[2]!;
    }
    sys.installPackage(ctx.ip, c, version, "rpm", env);
    sys.node(ctx.ip).root = root;
    adoptedBy(sys).add(`${ctx.ip}/${c}`);
    // Clients test for the scini device node to decide whether an SDC is installed.
    if (c === "sdc") writeNodeFile(root, "dev/scini", "");
  }
  return undefined;
}

/**
 * The init system a node's emulated OS shows (systemd's /run/systemd/system, upstart's
 * /sbin/initctl), or undefined for a node without an emulated OS.
 */
export function emulatedInit(root: string | undefined): "systemd" | "upstart" | undefined {
  if (!root || !existsSync(join(root, "proc/sys/kernel/osrelease"))) return undefined;
  if (existsSync(join(root, "run/systemd/system"))) return "systemd";
  if (existsSync(join(root, "sbin/initctl"))) return "upstart";
  return undefined;
}

/**
 * Why scini cannot load on a node with an emulated OS (a kernel release under its root), or
 * undefined: a driver for the kernel must be in the SDC payload or in driver_sync's cache.
 * Nodes without an emulated OS load it always, as before OS profiles existed.
 */
export function missingSciniDriver(
  root: string | undefined,
  install: "package-tool" | "unpack",
  packaged: string[] = [],
): string | undefined {
  if (!root) return undefined;
  const file = join(root, "proc/sys/kernel/osrelease");
  if (!existsSync(file)) return undefined;
  const kernel = readFileSync(file, "utf8").trim();
  const cache =
    install === "unpack"
      ? "opt/emc/scaleio/sdc/scini_sync/driver_cache"
      : "bin/emc/scaleio/scini_sync/driver_cache";
  if (packaged.includes(kernel)) return undefined;
  if (existsSync(join(root, "opt/emc/scaleio/sdc/scini", kernel, "scini.ko"))) return undefined;
  if (existsSync(join(root, cache, kernel, "scini.tar"))) return undefined;
  return `no scini module for kernel ${kernel}`;
}
