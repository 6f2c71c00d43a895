// The emulator's package files are real rpm and deb archives (small ones): a host without a
// package manager (CoreOS, Flatcar) unpacks their payload itself, so they must have one.
// rpm: lead, a signature header, a main header (name, version, release, arch, payload format
// and compressor), a gzip'ed cpio "newc" payload. deb: an ar archive with debian-binary,
// control.tar.gz and data.tar.gz. Enough for any reader of the formats; the headers carry no
// digests or signatures, so a real rpm would refuse them without --nosignature --nodigest.
import { gzipSync } from "node:zlib";

export interface PayloadFile {
  /** Absolute path the package installs the file at. */
  path: string;
  content: string | Buffer;
  mode?: number;
}

export interface PackageSpec {
  name: string;
  /** `2.0` */
  version: string;
  /** `6035.0.el7` (rpm) / appended after a dash in the deb version. */
  release: string;
  files: PayloadFile[];
}

const bytes = (c: string | Buffer) => (typeof c === "string" ? Buffer.from(c, "utf8") : c);

/** Every folder above the files, parents first (package payloads list them too). */
function dirsOf(files: PayloadFile[]): string[] {
  const dirs = new Set<string>();
  for (const f of files) {
    const parts = f.path.split("/").filter(Boolean);
    for (let i = 1; i < parts.length; i++) dirs.add(`/${parts.slice(0, i).join("/")}`);
  }
  return [...dirs].sort();
}

// ---- rpm ----

function cpioNewc(files: PayloadFile[]): Buffer {
  const chunks: Buffer[] = [];
  let ino = 1;
  const pad4 = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);
  const add = (name: string, mode: number, data: Buffer) => {
    const nameBuf = Buffer.from(`${name}\0`, "utf8");
    const h = (n: number) => n.toString(16).padStart(8, "0");
    const header = `070701${h(ino++)}${h(mode)}${h(0)}${h(0)}${h(1)}${h(0)}${h(data.length)}${h(0)}${h(0)}${h(0)}${h(0)}${h(nameBuf.length)}${h(0)}`;
    chunks.push(
      Buffer.from(header, "latin1"),
      nameBuf,
      pad4(110 + nameBuf.length),
      data,
      pad4(data.length),
    );
  };
  for (const d of dirsOf(files)) add(`.${d}`, 0o040755, Buffer.alloc(0));
  for (const f of files) add(`.${f.path}`, 0o100000 | (f.mode ?? 0o644), bytes(f.content));
  add("TRAILER!!!", 0, Buffer.alloc(0));
  return Buffer.concat(chunks);
}

/** An rpm header: index entries sorted by tag, strings (type 6) and int32s (type 4). */
function rpmHeader(entries: [number, string | number][]): Buffer {
  const index: Buffer[] = [];
  const store: Buffer[] = [];
  let size = 0;
  for (const [tag, value] of [...entries].sort((a, b) => a[0] - b[0])) {
    let data: Buffer;
    let type: number;
    if (typeof value === "number") {
      const align = (4 - (size % 4)) % 4;
      if (align) {
        store.push(Buffer.alloc(align));
        size += align;
      }
      data = Buffer.alloc(4);
      data.writeUInt32BE(value);
      type = 4;
    } else {
      data = Buffer.from(`${value}\0`, "utf8");
      type = 6;
    }
    const e = Buffer.alloc(16);
    e.writeUInt32BE(tag, 0);
    e.writeUInt32BE(type, 4);
    e.writeUInt32BE(size, 8);
    e.writeUInt32BE(1, 12);
    index.push(e);
    store.push(data);
    size += data.length;
  }
  const head = Buffer.alloc(16);
  head.writeUInt32BE(0x8eade801, 0);
  head.writeUInt32BE(index.length, 8);
  head.writeUInt32BE(size, 12);
  return Buffer.concat([head, ...index, ...store]);
}

export function buildRpm(spec: PackageSpec): Buffer {
  const lead = Buffer.alloc(96);
  lead.writeUInt32BE(0xedabeedb, 0);
  lead.writeUInt8(3, 4); // format 3.0
  lead.writeUInt16BE(0, 6); // binary
  lead.writeUInt16BE(1, 8); // x86
  lead.write(`${spec.name}-${spec.version}-${spec.release}`.slice(0, 65), 10, "latin1");
  lead.writeUInt16BE(1, 76); // Linux
  lead.writeUInt16BE(5, 78); // signature in a header
  const payload = gzipSync(cpioNewc(spec.files));
  const main = rpmHeader([
    [1000, spec.name],
    [1001, spec.version],
    [1002, spec.release],
    [1021, "linux"],
    [1022, "x86_64"],
    [1124, "cpio"],
    [1125, "gzip"],
  ]);
  const sig = rpmHeader([[1000, main.length + payload.length]]); // RPMSIGTAG_SIZE
  const sigPad = Buffer.alloc((8 - (sig.length % 8)) % 8);
  return Buffer.concat([lead, sig, sigPad, main, payload]);
}

// ---- deb ----

function tar(files: PayloadFile[], withDirs: boolean): Buffer {
  const chunks: Buffer[] = [];
  const add = (name: string, type: "0" | "5", mode: number, data: Buffer) => {
    const h = Buffer.alloc(512);
    if (Buffer.byteLength(name) > 100) throw new Error(`tar name too long: ${name}`);
    h.write(name, 0, "utf8");
    h.write(`${mode.toString(8).padStart(7, "0")}\0`, 100, "latin1");
    h.write("0000000\0", 108, "latin1");
    h.write("0000000\0", 116, "latin1");
    h.write(`${data.length.toString(8).padStart(11, "0")}\0`, 124, "latin1");
    h.write("00000000000\0", 136, "latin1");
    h.write("        ", 148, "latin1");
    h.write(type, 156, "latin1");
    h.write("ustar\0", 257, "latin1");
    h.write("00", 263, "latin1");
    const sum = h.reduce((a, b) => a + b, 0);
    h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
    chunks.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  };
  if (withDirs) for (const d of dirsOf(files)) add(`.${d}/`, "5", 0o755, Buffer.alloc(0));
  for (const f of files) add(`.${f.path}`, "0", f.mode ?? 0o644, bytes(f.content));
  chunks.push(Buffer.alloc(1024));
  return Buffer.concat(chunks);
}

function ar(members: [string, Buffer][]): Buffer {
  const chunks: Buffer[] = [Buffer.from("!<arch>\n", "latin1")];
  for (const [name, data] of members) {
    const h =
      `${name}/`.padEnd(16) +
      "0".padEnd(12) +
      "0".padEnd(6) +
      "0".padEnd(6) +
      "100644".padEnd(8) +
      String(data.length).padEnd(10) +
      "`\n";
    chunks.push(Buffer.from(h, "latin1"), data);
    if (data.length % 2) chunks.push(Buffer.from("\n"));
  }
  return Buffer.concat(chunks);
}

export function buildDeb(spec: PackageSpec): Buffer {
  const control = `Package: ${spec.name}\nVersion: ${spec.version}-${spec.release}\nArchitecture: amd64\nMaintainer: ScaleIO emulator\nDescription: emulated ${spec.name}\n`;
  return ar([
    ["debian-binary", Buffer.from("2.0\n")],
    ["control.tar.gz", gzipSync(tar([{ path: "/control", content: control }], false))],
    ["data.tar.gz", gzipSync(tar(spec.files, true))],
  ]);
}
