// Starts the whole emulator: the system model, the REST gateway (HTTPS by default), the
// private control endpoint for node-side tools and admin knobs, and the package repository.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { AddressInfo } from "node:net";
import { ScaledClock, type Clock } from "./model/clock.js";
import { bootstrap, type BootstrapOptions } from "./model/bootstrap.js";
import { ScaleioSystem, type SystemOptions } from "./model/system.js";
import type { Component } from "./model/types.js";
import { DEFAULT_VERSION } from "./model/versions.js";
import { buildControl } from "./control/server.js";
import type { TokenPolicy } from "./gateway/auth.js";
import { buildGateway, type Gateway } from "./gateway/server.js";
import { makeCert, writeCa } from "./gateway/tls.js";
import { NodeTools } from "./node/exec.js";
import { NodeFiles } from "./node/files.js";
import { packageFileName, simBinDir } from "./node/packages.js";
import { emulatedPackage, writeDriverRepo } from "./node/package-payloads.js";
import { writeVolumeDriverPackages } from "./volume-driver/packages.js";

export interface EmulatorOptions {
  /** Address for both listeners; tests use 127.0.0.1. */
  host?: string;
  /** Gateway port (0 = ephemeral). */
  port?: number;
  controlPort?: number;
  /** Plain HTTP gateway instead of HTTPS. */
  http?: boolean;
  apiVersion?: string;
  /** Where backing files, the CA and the package repository go (default: a new temp dir). */
  stateDir?: string;
  clock?: Clock;
  /** Build a ready cluster at start (false: start empty, as after installing packages). */
  bootstrap?: BootstrapOptions | false;
  tokenPolicy?: TokenPolicy;
  system?: SystemOptions;
  /** Package versions offered by the emulated repository (first = default). */
  versions?: string[];
}

export interface Emulator {
  sys: ScaleioSystem;
  gateway: Gateway;
  tools: NodeTools;
  files: NodeFiles;
  gatewayUrl: string;
  controlUrl: string;
  /** PEM of the gateway certificate (its own CA), or undefined with plain HTTP. */
  caFile: string | undefined;
  stateDir: string;
  repoDir: string;
  /** A scini driver repository (`--sdc-driver-repo`): `<url>/<kernel>/scini.tar`. */
  driverRepoUrl: string;
  close(): Promise<void>;
}

const COMPONENTS: Component[] = ["mdm", "sds", "sdc", "lia", "gateway"];
export const REPO_VERSIONS = [DEFAULT_VERSION, "2.0-13000.211"];

export async function startEmulator(o: EmulatorOptions = {}): Promise<Emulator> {
  const host = o.host ?? "127.0.0.1";
  const ownState = !o.stateDir;
  const stateDir = o.stateDir ?? mkdtempSync(join(tmpdir(), "scaleio-sim-"));
  mkdirSync(stateDir, { recursive: true });
  const clock = o.clock ?? new ScaledClock(1);
  const sys = new ScaleioSystem(clock, o.system);
  if (o.bootstrap) bootstrap(sys, o.bootstrap);

  const repoDir = join(stateDir, "repo");
  mkdirSync(repoDir, { recursive: true });
  for (const v of o.versions ?? REPO_VERSIONS) {
    for (const c of COMPONENTS) {
      for (const f of ["rpm", "deb"] as const) {
        writeFileSync(
          join(repoDir, packageFileName(c, v, f)),
          emulatedPackage(c, v, f, simBinDir()),
        );
      }
    }
  }

  const driverDir = join(stateDir, "drivers");
  writeDriverRepo(driverDir);
  const files = new NodeFiles(sys, stateDir);
  let controlUrl = "";
  const tools = new NodeTools(sys, () => controlUrl);
  const cert = o.http ? undefined : await makeCert(host);
  const gateway = buildGateway({ sys, apiVersion: o.apiVersion, cert, tokenPolicy: o.tokenPolicy });
  const control = buildControl({ sys, tools, stats: gateway.stats, repoDir });

  let caFile: string | undefined;
  if (cert) {
    caFile = join(stateDir, "gateway-ca.pem");
    await writeCa(caFile, cert);
  }
  // REX-Ray's and dvdcli's downloads (their stand-ins trust this emulator's gateway).
  writeVolumeDriverPackages(repoDir, caFile);
  await gateway.app.listen({ host, port: o.port ?? 0 });
  try {
    await control.listen({ host, port: o.controlPort ?? 0 });
  } catch (e) {
    await gateway.app.close();
    throw e;
  }
  const gwPort = (gateway.app.server.address() as AddressInfo).port;
  const ctlPort = (control.server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  const gatewayUrl = `${cert ? "https" : "http"}://${urlHost}:${gwPort}`;
  controlUrl = `http://${urlHost}:${ctlPort}`;
  writeFileSync(
    join(stateDir, "emulator.json"),
    JSON.stringify({ gateway: gatewayUrl, control: controlUrl, caFile: caFile ?? null }, null, 2) +
      "\n",
  );

  // Wall clocks need a heartbeat so rebuilds progress without requests.
  const timer = o.clock ? undefined : setInterval(() => sys.tick(), 1000);
  timer?.unref();

  return {
    sys,
    gateway,
    tools,
    files,
    gatewayUrl,
    controlUrl,
    caFile,
    stateDir,
    repoDir,
    driverRepoUrl: pathToFileURL(driverDir).href,
    async close() {
      if (timer) clearInterval(timer);
      await Promise.allSettled([gateway.app.close(), control.close()]);
      if (ownState) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
