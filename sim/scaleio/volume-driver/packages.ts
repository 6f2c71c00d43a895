// The emulator's REX-Ray and dvdcli downloads, laid out as their projects shipped them: a
// gzipped tar holding one program (`rexray-Linux-x86_64-<version>.tar.gz` with `rexray`,
// `dvdcli-Linux-x86_64-<version>.tar.gz` with `dvdcli`). The program is a small shell script
// that runs this folder's stand-in with this Node; the emulator's CA is added to the trust
// store the stand-in uses (SSL_CERT_FILE, as a Go program reads it), as an operator would add
// a self-signed gateway's CA to the machine's.
import { existsSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

export const REXRAY_SIM_VERSION = "0.11.4";
export const DVDCLI_SIM_VERSION = "0.3.1";

export const rexrayTarballName = (v = REXRAY_SIM_VERSION) => `rexray-Linux-x86_64-${v}.tar.gz`;
export const dvdcliTarballName = (v = DVDCLI_SIM_VERSION) => `dvdcli-Linux-x86_64-${v}.tar.gz`;

const HERE = dirname(fileURLToPath(import.meta.url));
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The stand-in program itself (run with Node), for a node that has not installed it. The
 * stand-ins are plain JavaScript beside this file's source: the build compiles TypeScript
 * only, so from `dist/` they are found in the source tree.
 */
export function standInPath(tool: "rexray" | "dvdcli"): string {
  const beside = join(HERE, `${tool}.mjs`);
  if (existsSync(beside)) return beside;
  return join(HERE.replace(/([/\\])dist([/\\])sim([/\\])/, "$1sim$3"), `${tool}.mjs`);
}

/** The program a tarball holds: runs the stand-in `<tool>.mjs` of this folder. */
export function standInScript(tool: "rexray" | "dvdcli", version: string, caFile?: string): string {
  const versionVar = tool === "rexray" ? "REXRAY_SIM_VERSION" : "DVDCLI_SIM_VERSION";
  return [
    "#!/bin/sh",
    `# ${tool} ${version}: the ScaleIO emulator's stand-in (development nodes only).`,
    ...(caFile ? [`SCALEIO_SIM_GATEWAY_CA=${quote(caFile)}`, "export SCALEIO_SIM_GATEWAY_CA"] : []),
    `${versionVar}=${version} exec ${quote(process.execPath)} ${quote(standInPath(tool))} "$@"`,
    "",
  ].join("\n");
}

/** A ustar archive of regular files (enough for a one-program download). */
export function tarGz(files: { name: string; content: string | Buffer; mode?: number }[]): Buffer {
  const blocks: Buffer[] = [];
  for (const f of files) {
    const data = Buffer.isBuffer(f.content) ? f.content : Buffer.from(f.content);
    const h = Buffer.alloc(512);
    const put = (s: string, at: number, len: number) => h.write(s, at, len, "ascii");
    const octal = (n: number, len: number) => `${n.toString(8).padStart(len - 1, "0")}\0`;
    put(f.name, 0, 100);
    put(octal(f.mode ?? 0o644, 8), 100, 8);
    put(octal(0, 8), 108, 8);
    put(octal(0, 8), 116, 8);
    put(octal(data.length, 12), 124, 12);
    put(octal(0, 12), 136, 12);
    put("        ", 148, 8);
    put("0", 156, 1);
    put("ustar\0", 257, 6);
    put("00", 263, 2);
    let sum = 0;
    for (const b of h) sum += b;
    put(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8);
    blocks.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

/** Writes both downloads into the emulator's package repository; returns their file names. */
export function writeVolumeDriverPackages(repoDir: string, caFile?: string): string[] {
  const out: [string, Buffer][] = [
    [
      rexrayTarballName(),
      tarGz([
        {
          name: "rexray",
          content: standInScript("rexray", REXRAY_SIM_VERSION, caFile),
          mode: 0o755,
        },
      ]),
    ],
    [
      dvdcliTarballName(),
      tarGz([
        {
          name: "dvdcli",
          content: standInScript("dvdcli", DVDCLI_SIM_VERSION, caFile),
          mode: 0o755,
        },
      ]),
    ],
  ];
  for (const [name, data] of out) writeFileSync(join(repoDir, name), data);
  return out.map(([n]) => n);
}
