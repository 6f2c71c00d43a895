// REX-Ray and dvdcli were shipped as gzipped tar files holding one program
// (`rexray-Linux-x86_64-<version>.tar.gz`). Reading one needs no tar tool on the host (CoreOS
// has none to spare): the ustar headers are read here.
import { gunzipSync } from "node:zlib";

const BLOCK = 512;

function text(b: Buffer, at: number, len: number): string {
  const raw = b.subarray(at, at + len);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? raw.length : end).toString("utf8");
}

/** The header's checksum: the sum of its bytes with the checksum field read as spaces. */
function checksumOk(header: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  return parseInt(text(header, 148, 8).trim(), 8) === sum;
}

/**
 * The content of the regular file whose last path segment is `name` (`rexray`,
 * `./rexray`, `rexray-0.11.4/rexray`), or undefined when the archive has none.
 */
export function programFromTarGz(archive: Buffer, name: string): Buffer | undefined {
  const tar = gunzipSync(archive);
  if (tar.length < BLOCK) throw new Error("not a tar archive (shorter than one block)");
  for (let at = 0; at + BLOCK <= tar.length;) {
    const header = tar.subarray(at, at + BLOCK);
    if (header.every((b) => b === 0)) return undefined; // end of archive
    if (!checksumOk(header)) throw new Error("not a tar archive (bad header checksum)");
    const size = parseInt(text(header, 124, 12).trim() || "0", 8);
    if (!Number.isFinite(size) || size < 0) throw new Error("damaged tar header (size)");
    const prefix = text(header, 257, 6).startsWith("ustar") ? text(header, 345, 155) : "";
    const path = prefix ? `${prefix}/${text(header, 0, 100)}` : text(header, 0, 100);
    const type = String.fromCharCode(header[156] ?? 0);
    const dataAt = at + BLOCK;
    if ((type === "0" || type === "\0") && path.split("/").filter(Boolean).at(-1) === name) {
      if (dataAt + size > tar.length) throw new Error(`${path}: archive ends early`);
      return Buffer.from(tar.subarray(dataAt, dataAt + size));
    }
    at = dataAt + Math.ceil(size / BLOCK) * BLOCK;
  }
  return undefined;
}
