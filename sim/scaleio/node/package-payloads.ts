// What the emulator's package files hold: a small payload per component under
// /opt/emc/scaleio/<component> (a VERSION file, the start script its unit runs, the SDC's
// drv_cfg forwarding to the emulator's tool), and the SDC's scini drivers for the kernels that
// package flavour was built for (reference 2.5: the RHEL 7 RPM carries modules for RHEL 7
// kernels; Ubuntu's were pinned). Kernels of CoreOS and Flatcar are in no package: their
// drivers come from the driver repository the emulator also writes (driver_sync's layout,
// `<repo>/<kernel>/scini.tar`), which has no driver for some kernels on purpose.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Component, PackageFlavor } from "../model/types.js";
import { buildDeb, buildRpm, type PayloadFile } from "./package-archives.js";

/** Kernels whose scini driver is inside the SDC package of each flavour. */
export const PACKAGED_KERNELS: Record<PackageFlavor, string[]> = {
  rpm: ["3.10.0-1160.el7.x86_64", "3.10.0-957.el7.x86_64", "2.6.32-754.el6.x86_64"],
  deb: ["4.4.0-38-generic", "4.4.0-186-generic", "4.15.0-20-generic", "4.9.0-13-amd64"],
};

/** Kernels the emulated driver repository has a driver for (CoreOS and Flatcar's among them). */
export const REPOSITORY_KERNELS = ["4.19.106-coreos", "5.10.43-flatcar", "4.15.0-29-generic"];

const SERVICE: Record<Component, string> = {
  mdm: "mdm",
  sds: "sds",
  sdc: "scini",
  lia: "lia",
  gateway: "scaleio-gateway",
};

function payload(
  c: Component,
  version: string,
  flavor: PackageFlavor,
  simBin: string,
): PayloadFile[] {
  const files: PayloadFile[] = [
    { path: `/opt/emc/scaleio/${c}/VERSION`, content: `${version}\n` },
    {
      path: `/opt/emc/scaleio/${c}/bin/${SERVICE[c]}.sh`,
      content: `#!/bin/sh\n# ${SERVICE[c]} start script of the ScaleIO emulator's package\nexit 0\n`,
      mode: 0o755,
    },
  ];
  if (c === "sdc") {
    files.push({
      path: "/opt/emc/scaleio/sdc/bin/drv_cfg",
      // The node's address, root and emulator come from the caller's environment.
      content: `#!/bin/sh\nexec '${join(simBin, "drv_cfg")}' "$@"\n`,
      mode: 0o755,
    });
    for (const k of PACKAGED_KERNELS[flavor]) {
      files.push({
        path: `/opt/emc/scaleio/sdc/scini/${k}/scini.ko`,
        content: `scini ${version} for ${k}\n`,
      });
    }
  }
  return files;
}

/** The package file's bytes: a real rpm or deb (see package-archives.ts). */
export function emulatedPackage(
  c: Component,
  version: string,
  flavor: PackageFlavor,
  simBin: string,
): Buffer {
  const [v, release] = version.split("-") as [string, string];
  const files = payload(c, version, flavor, simBin);
  return flavor === "rpm"
    ? buildRpm({ name: `EMC-ScaleIO-${c}`, version: v, release: `${release}.el7`, files })
    : buildDeb({ name: `emc-scaleio-${c}`, version: v, release, files });
}

/** Writes the driver repository (`<dir>/<kernel>/scini.tar`). */
export function writeDriverRepo(dir: string): void {
  for (const k of REPOSITORY_KERNELS) {
    mkdirSync(join(dir, k), { recursive: true });
    writeFileSync(join(dir, k, "scini.tar"), `scini driver for ${k} (emulated)\n`);
  }
}
