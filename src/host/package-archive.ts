// Reads rpm and deb package files without any system tool: the package's name and version and
// its payload's files. Used where no package manager exists (CoreOS, Flatcar), where payloads
// are unpacked by us, and to look inside a package before installing it (which kernels its
// SDC driver was built for). Formats: rpm = lead, signature and main headers, a cpio (newc)
// payload; deb = an ar archive holding control.tar and data.tar. Payload compression: gzip,
// xz (RHEL 7 rpms, most debs), zstd (RHEL 9 rpms, Ubuntu 22.04+ debs) or none; xz and zstd are
// decoded in JS/WASM (no native build, so the single-file executor can carry them); bzip2 is
// refused by name.
import { gunzipSync } from "node:zlib";
import { posix } from "node:path";
import xzDecompress from "xz-decompress";
import { decompress as unzstd } from "fzstd";

export class PackageArchiveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PackageArchiveError";
  }
}

export interface ArchiveEntry {
  /** Absolute, normalised host path (`/opt/emc/scaleio/sdc/bin/drv_cfg`). */
  path: string;
  type: "file" | "dir" | "symlink";
  mode: number;
  data?: Buffer;
  linkTarget?: string;
}

export interface PackageArchive {
  format: "rpm" | "deb";
  name: string;
  /** `2.0-6035.0` (rpm: VERSION-RELEASE without the dist tag; deb: Version). */
  version: string;
  entries: ArchiveEntry[];
}

/** Reads a whole package file (rpm or deb, told apart by their magic numbers). */
export async function readPackageArchive(buf: Buffer): Promise<PackageArchive> {
  if (buf.length >= 4 && buf.readUInt32BE(0) === 0xedabeedb) return readRpm(buf);
  if (buf.subarray(0, 8).toString("latin1") === "!<arch>\n") return readDeb(buf);
  throw new PackageArchiveError("not an rpm or deb package (unknown magic number)");
}

/** An absolute path inside the host for an archive member name, or undefined for `.`. */
function hostPathOf(name: string): string | undefined {
  const clean = posix.normalize(`/${name.replace(/^\.?\/*/, "")}`);
  if (clean === "/" || clean === "/.") return undefined;
  if (clean.split("/").includes("..")) {
    throw new PackageArchiveError(`payload member '${name}' leaves the root`);
  }
  return clean.replace(/\/$/, "");
}

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const ZSTD_MAGIC = 0xfd2fb528;

/** Decodes a payload by its magic number (the rpm header's compressor tag is not trusted). */
async function decompress(data: Buffer, what: string): Promise<Buffer> {
  try {
    if (data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b) return gunzipSync(data);
    if (data.subarray(0, 6).equals(XZ_MAGIC)) return await unxz(data);
    if (data.length >= 4 && data.readUInt32LE(0) === ZSTD_MAGIC) {
      const out = unzstd(data);
      return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    }
  } catch (err) {
    throw new PackageArchiveError(`${what} cannot be decompressed: ${(err as Error).message}`);
  }
  if (data.subarray(0, 3).toString("latin1") === "BZh") {
    throw new PackageArchiveError(`${what} is compressed with bzip2: not supported`);
  }
  return data;
}

async function unxz(data: Buffer): Promise<Buffer> {
  const stream = new xzDecompress.XzReadableStream(new Blob([data]).stream());
  return Buffer.from(await new Response(stream).arrayBuffer());
}

// ---- rpm ----

const RPMTAG = { NAME: 1000, VERSION: 1001, RELEASE: 1002 } as const;

interface RpmHeader {
  strings: Map<number, string>;
  end: number;
}

function readRpmHeader(buf: Buffer, at: number, what: string): RpmHeader {
  if (buf.length < at + 16 || buf.readUInt32BE(at) >>> 8 !== 0x8eade8) {
    throw new PackageArchiveError(`rpm ${what} header missing`);
  }
  const count = buf.readUInt32BE(at + 8);
  const size = buf.readUInt32BE(at + 12);
  const index = at + 16;
  const store = index + count * 16;
  const end = store + size;
  if (count > 100_000 || end > buf.length)
    throw new PackageArchiveError(`rpm ${what} header is cut short`);
  const strings = new Map<number, string>();
  for (let i = 0; i < count; i++) {
    const e = index + i * 16;
    const tag = buf.readUInt32BE(e);
    const type = buf.readUInt32BE(e + 4);
    const offset = buf.readUInt32BE(e + 8);
    // STRING (6) and I18NSTRING (9): NUL-terminated in the store.
    if ((type === 6 || type === 9) && store + offset < end) {
      const from = store + offset;
      const nul = buf.indexOf(0, from);
      strings.set(tag, buf.subarray(from, nul < 0 || nul > end ? end : nul).toString("utf8"));
    }
  }
  return { strings, end };
}

async function readRpm(buf: Buffer): Promise<PackageArchive> {
  if (buf.length < 96) throw new PackageArchiveError("rpm lead is cut short");
  const sig = readRpmHeader(buf, 96, "signature");
  const mainAt = sig.end + ((8 - (sig.end % 8)) % 8); // the signature is padded to 8 bytes
  const main = readRpmHeader(buf, mainAt, "main");
  const name = main.strings.get(RPMTAG.NAME);
  const version = main.strings.get(RPMTAG.VERSION);
  const release = main.strings.get(RPMTAG.RELEASE);
  if (!name || !version || !release)
    throw new PackageArchiveError("rpm header has no name or version");
  const payload = await decompress(buf.subarray(main.end), "rpm payload");
  return {
    format: "rpm",
    name,
    version: `${version}-${release.replace(/\.el\d+.*$/, "")}`,
    entries: readCpio(payload),
  };
}

/** cpio "newc" (070701) and "crc" (070702) archives. */
function readCpio(buf: Buffer): ArchiveEntry[] {
  const out: ArchiveEntry[] = [];
  let at = 0;
  const hex = (o: number) => parseInt(buf.subarray(at + o, at + o + 8).toString("latin1"), 16);
  while (at + 110 <= buf.length) {
    const magic = buf.subarray(at, at + 6).toString("latin1");
    if (magic !== "070701" && magic !== "070702") {
      throw new PackageArchiveError(`rpm payload is not a cpio (newc) archive at byte ${at}`);
    }
    const mode = hex(14);
    const size = hex(54);
    const nameSize = hex(94);
    const nameAt = at + 110;
    const name = buf.subarray(nameAt, nameAt + nameSize - 1).toString("utf8");
    const dataAt = nameAt + nameSize + ((4 - ((110 + nameSize) % 4)) % 4);
    if (name === "TRAILER!!!") return out;
    if (dataAt + size > buf.length)
      throw new PackageArchiveError(`rpm payload member '${name}' is cut short`);
    const data = buf.subarray(dataAt, dataAt + size);
    const path = hostPathOf(name);
    const kind = mode & 0o170000;
    if (path) {
      if (kind === 0o040000) out.push({ path, type: "dir", mode: mode & 0o7777 });
      else if (kind === 0o120000)
        out.push({ path, type: "symlink", mode: 0o777, linkTarget: data.toString("utf8") });
      else if (kind === 0o100000)
        out.push({ path, type: "file", mode: mode & 0o7777, data: Buffer.from(data) });
    }
    at = dataAt + size + ((4 - (size % 4)) % 4);
  }
  throw new PackageArchiveError("rpm payload has no cpio trailer");
}

// ---- deb ----

function readAr(buf: Buffer): Map<string, Buffer> {
  const members = new Map<string, Buffer>();
  let at = 8;
  while (at + 60 <= buf.length) {
    const name = buf
      .subarray(at, at + 16)
      .toString("latin1")
      .trim()
      .replace(/\/$/, "");
    const size = Number(
      buf
        .subarray(at + 48, at + 58)
        .toString("latin1")
        .trim(),
    );
    if (!Number.isFinite(size) || at + 60 + size > buf.length) {
      throw new PackageArchiveError(`deb member '${name}' is cut short`);
    }
    members.set(name, buf.subarray(at + 60, at + 60 + size));
    at += 60 + size + (size % 2);
  }
  return members;
}

async function readDeb(buf: Buffer): Promise<PackageArchive> {
  const members = readAr(buf);
  const find = (prefix: string) => [...members.entries()].find(([n]) => n.startsWith(prefix));
  const control = find("control.tar");
  const data = find("data.tar");
  if (!control || !data) throw new PackageArchiveError("deb has no control.tar or data.tar");
  const controlFile = readTar(await decompress(control[1], control[0])).find(
    (e) => e.path === "/control" && e.type === "file",
  );
  if (!controlFile?.data) throw new PackageArchiveError("deb has no control file");
  const fields = new Map<string, string>();
  for (const line of controlFile.data.toString("utf8").split("\n")) {
    const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
    if (m) fields.set(m[1]!.toLowerCase(), m[2]!.trim());
  }
  const name = fields.get("package");
  const version = fields.get("version");
  if (!name || !version)
    throw new PackageArchiveError("deb control file has no Package or Version");
  return { format: "deb", name, version, entries: readTar(await decompress(data[1], data[0])) };
}

/** ustar/GNU tar, with pax `path`/`linkpath` and GNU long names. */
function readTar(buf: Buffer): ArchiveEntry[] {
  const out: ArchiveEntry[] = [];
  let at = 0;
  let longName: string | undefined;
  let longLink: string | undefined;
  const str = (o: number, n: number) => {
    const s = buf.subarray(at + o, at + o + n);
    const nul = s.indexOf(0);
    return (nul < 0 ? s : s.subarray(0, nul)).toString("utf8");
  };
  const octal = (o: number, n: number) => parseInt(str(o, n).trim() || "0", 8);
  while (at + 512 <= buf.length) {
    if (buf.subarray(at, at + 512).every((b) => b === 0)) break;
    const size = octal(124, 12);
    const type = str(156, 1) || "0";
    const dataAt = at + 512;
    if (dataAt + size > buf.length) throw new PackageArchiveError("tar member is cut short");
    const data = buf.subarray(dataAt, dataAt + size);
    const next = dataAt + Math.ceil(size / 512) * 512;
    if (type === "L" || type === "K") {
      const v = data.toString("utf8").replace(/\0.*$/s, "");
      if (type === "L") longName = v;
      else longLink = v;
      at = next;
      continue;
    }
    if (type === "x") {
      for (const rec of data.toString("utf8").split("\n")) {
        const m = /^\d+ (path|linkpath)=(.*)$/.exec(rec);
        if (m?.[1] === "path") longName = m[2];
        if (m?.[1] === "linkpath") longLink = m[2];
      }
      at = next;
      continue;
    }
    const prefix = str(345, 155);
    const name = longName ?? (prefix ? `${prefix}/${str(0, 100)}` : str(0, 100));
    const link = longLink ?? str(157, 100);
    longName = longLink = undefined;
    const mode = octal(100, 8) & 0o7777;
    const path = hostPathOf(name);
    if (path) {
      if (type === "5") out.push({ path, type: "dir", mode });
      else if (type === "2") out.push({ path, type: "symlink", mode: 0o777, linkTarget: link });
      else if (type === "0" || type === "7")
        out.push({ path, type: "file", mode, data: Buffer.from(data) });
    }
    at = next;
  }
  return out;
}
