// Finding raw devices a storage server may take: whole disks (or files standing in for them
// in the development cluster) with no partitions, no filesystem or other signature, not
// mounted, not the root disk. The signature probe reads the first bytes like blkid does, so
// a device is judged by its content, not only by what lsblk believes.
import { open, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { run } from "./process.js";

export interface DiscoveredDevice {
  path: string;
  sizeBytes: number;
  usable: boolean;
  reason?: string;
}

interface Signature {
  name: string;
  offset: number;
  bytes: Buffer;
}

// Well-known on-disk magics (offsets as blkid's probes use them).
const SIGNATURES: Signature[] = [
  { name: "ext2/3/4", offset: 0x438, bytes: Buffer.from([0x53, 0xef]) },
  { name: "xfs", offset: 0, bytes: Buffer.from("XFSB") },
  { name: "btrfs", offset: 0x10040, bytes: Buffer.from("_BHRfS_M") },
  { name: "LVM2 physical volume", offset: 0x218, bytes: Buffer.from("LVM2 001") },
  { name: "LUKS", offset: 0, bytes: Buffer.from([0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe]) },
  { name: "swap", offset: 4086, bytes: Buffer.from("SWAPSPACE2") },
  { name: "GPT partition table", offset: 512, bytes: Buffer.from("EFI PART") },
  { name: "iso9660", offset: 0x8001, bytes: Buffer.from("CD001") },
  { name: "vfat", offset: 0x52, bytes: Buffer.from("FAT32") },
  { name: "zfs member", offset: 0x4000 + 8, bytes: Buffer.from([0x0c, 0xb1, 0xba, 0x00]) },
];
const MBR_BOOT = { offset: 510, bytes: Buffer.from([0x55, 0xaa]) };
const PROBE_BYTES = 0x10100;

/** Names the signature found at the start of a device or file, or undefined if it looks blank. */
export async function probeSignature(path: string): Promise<string | undefined> {
  const fh = await open(path, "r");
  try {
    const buf = Buffer.alloc(PROBE_BYTES);
    const { bytesRead } = await fh.read(buf, 0, PROBE_BYTES, 0);
    const head = buf.subarray(0, bytesRead);
    for (const s of SIGNATURES) {
      if (
        head.length >= s.offset + s.bytes.length &&
        head.subarray(s.offset, s.offset + s.bytes.length).equals(s.bytes)
      ) {
        return s.name;
      }
    }
    if (
      head.length >= 512 &&
      head.subarray(MBR_BOOT.offset, MBR_BOOT.offset + 2).equals(MBR_BOOT.bytes)
    ) {
      return "DOS partition table";
    }
    return undefined;
  } finally {
    await fh.close();
  }
}

interface LsblkNode {
  name?: string;
  path?: string;
  size?: number | string;
  type?: string;
  fstype?: string | null;
  mountpoint?: string | null;
  mountpoints?: (string | null)[];
  ro?: boolean | string;
  children?: LsblkNode[];
}

/** Interprets `lsblk -J -b -o NAME,PATH,SIZE,TYPE,FSTYPE,MOUNTPOINT,RO` output (pure). */
export function parseLsblk(json: string): DiscoveredDevice[] {
  const doc = JSON.parse(json) as { blockdevices?: LsblkNode[] };
  const out: DiscoveredDevice[] = [];
  const mounted = (n: LsblkNode): boolean =>
    Boolean(n.mountpoint) ||
    (n.mountpoints ?? []).some(Boolean) ||
    (n.children ?? []).some(mounted);
  for (const d of doc.blockdevices ?? []) {
    if (d.type !== "disk") continue;
    const path = d.path ?? `/dev/${d.name}`;
    const sizeBytes = Number(d.size ?? 0);
    let reason: string | undefined;
    if (d.ro === true || d.ro === "1") reason = "read-only";
    else if (
      (d.children ?? []).some(
        (c) => (c.mountpoint ?? "") === "/" || (c.mountpoints ?? []).includes("/"),
      )
    )
      reason = "root disk";
    else if (mounted(d)) reason = "mounted";
    else if ((d.children ?? []).length > 0) reason = "has partitions";
    else if (d.fstype) reason = `holds ${d.fstype}`;
    out.push({ path, sizeBytes, usable: reason === undefined, ...(reason ? { reason } : {}) });
  }
  return out;
}

/** Real hosts: lsblk, then a signature probe of each candidate. */
export async function discoverBlockDevices(): Promise<DiscoveredDevice[]> {
  const r = await run("lsblk", ["-J", "-b", "-o", "NAME,PATH,SIZE,TYPE,FSTYPE,MOUNTPOINT,RO"], {
    timeoutMs: 30_000,
  });
  return confirmBlank(parseLsblk(r.stdout));
}

/**
 * Development cluster: regular files in a folder stand in for disks (the emulator backs
 * them). Device paths are reported as `<prefix>/<name>`, e.g. /dev/sdb.
 */
export async function discoverFileDevices(
  dir: string,
  prefix = "/dev",
): Promise<DiscoveredDevice[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  const out: DiscoveredDevice[] = [];
  for (const name of names) {
    const st = await stat(join(dir, name));
    if (!st.isFile()) continue;
    out.push({ path: `${prefix}/${name}`, sizeBytes: st.size, usable: true });
  }
  return confirmBlank(out, (p) => join(dir, p.slice(prefix.length + 1)));
}

async function confirmBlank(
  devices: DiscoveredDevice[],
  locate: (path: string) => string = (p) => p,
): Promise<DiscoveredDevice[]> {
  for (const d of devices) {
    if (!d.usable) continue;
    try {
      const sig = await probeSignature(locate(d.path));
      if (sig) Object.assign(d, { usable: false, reason: `holds ${sig}` });
    } catch (err) {
      Object.assign(d, {
        usable: false,
        reason: `cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      });
    }
  }
  return devices;
}
