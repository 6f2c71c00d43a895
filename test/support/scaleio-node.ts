// An emulator's node side for tests: the fake tools on PATH as real child processes, one
// root folder per node IP, and helpers to set the environment the executor would get.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmulator, type Emulator } from "../../sim/scaleio/emulator.js";
import { ManualClock } from "../../sim/scaleio/model/clock.js";
import { simBinDir } from "../../sim/scaleio/node/packages.js";

export interface EmuNodes {
  emu: Emulator;
  /** Root folder of a node (created lazily by tools that write files). */
  rootOf(ip: string): string;
  /** The environment a dev-profile executor on that node gets. */
  envOf(ip: string, extra?: Record<string, string>): Record<string, string>;
  /** Runs `fn` with process.env set to the node's environment (handlers run in-process). */
  onNode<T>(ip: string, fn: () => Promise<T>): Promise<T>;
  rpmUrl(component: string, version?: string): string;
  close(): Promise<void>;
}

export async function startEmuNodes(): Promise<EmuNodes> {
  const stateDir = mkdtempSync(join(tmpdir(), "exec-emu-"));
  const roots = mkdtempSync(join(tmpdir(), "exec-roots-"));
  const emu = await startEmulator({
    host: "127.0.0.1",
    port: 0,
    controlPort: 0,
    http: true,
    clock: new ManualClock(),
    stateDir,
    bootstrap: false,
  });
  const envOf = (ip: string, extra: Record<string, string> = {}) => ({
    PATH: `${simBinDir()}:${process.env.PATH ?? ""}`,
    SCALEIO_SIM_CONTROL: emu.controlUrl,
    SCALEIO_SIM_NODE_IP: ip,
    SCALEIO_SIM_ROOT: join(roots, ip),
    SCALEIO_FRAMEWORK_HOST_PROFILE: "dev",
    // the only programs a dev-profile host runs (besides those under its root)
    SCALEIO_SIM_TOOLS: simBinDir(),
    // the tools are Node scripts: keep the test runner's loader flags away from them
    NODE_OPTIONS: "",
    ...extra,
  });
  // Handlers run in-process and spawn tools with process.env: tests on one emulator run
  // serially, so swapping process.env around each call is safe.
  let chain: Promise<unknown> = Promise.resolve();
  const onNode = <T>(ip: string, fn: () => Promise<T>): Promise<T> => {
    const next = chain.then(async () => {
      const saved = { ...process.env };
      Object.assign(process.env, envOf(ip));
      try {
        return await fn();
      } finally {
        for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
        Object.assign(process.env, saved);
      }
    });
    chain = next.catch(() => undefined);
    return next;
  };
  return {
    emu,
    rootOf: (ip) => join(roots, ip),
    envOf,
    onNode,
    rpmUrl: (c, v = "2.0-6035.0") => `${emu.controlUrl}/repo/EMC-ScaleIO-${c}-${v}.el7.x86_64.rpm`,
    async close() {
      await emu.close();
      rmSync(stateDir, { recursive: true, force: true });
      rmSync(roots, { recursive: true, force: true });
    },
  };
}
