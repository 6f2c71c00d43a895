import { test } from "node:test";
import assert from "node:assert/strict";
import {
  mkdtempSync,
  writeFileSync,
  openSync,
  writeSync,
  closeSync,
  ftruncateSync,
  mkdirSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { discoverFileDevices, parseLsblk, probeSignature } from "../../../src/host/devices.js";
import { run } from "../../../src/host/process.js";

const LSBLK = JSON.stringify({
  blockdevices: [
    {
      name: "vda",
      path: "/dev/vda",
      size: 53687091200,
      type: "disk",
      fstype: null,
      mountpoint: null,
      ro: false,
      children: [
        {
          name: "vda1",
          path: "/dev/vda1",
          size: 53686042624,
          type: "part",
          fstype: "ext4",
          mountpoint: "/",
        },
      ],
    },
    {
      name: "vdb",
      path: "/dev/vdb",
      size: 214748364800,
      type: "disk",
      fstype: null,
      mountpoint: null,
      ro: false,
    },
    {
      name: "vdc",
      path: "/dev/vdc",
      size: 214748364800,
      type: "disk",
      fstype: "xfs",
      mountpoint: null,
      ro: false,
    },
    {
      name: "vdd",
      path: "/dev/vdd",
      size: 214748364800,
      type: "disk",
      fstype: "ext4",
      mountpoint: "/data",
      ro: false,
    },
    {
      name: "vde",
      path: "/dev/vde",
      size: 214748364800,
      type: "disk",
      fstype: null,
      mountpoint: null,
      ro: false,
      children: [{ name: "vde1", type: "part", fstype: null, mountpoint: null }],
    },
    {
      name: "sr0",
      path: "/dev/sr0",
      size: 1073741312,
      type: "rom",
      fstype: "iso9660",
      mountpoint: null,
      ro: true,
    },
    { name: "loop0", path: "/dev/loop0", size: 100, type: "loop" },
  ],
});

test("lsblk: only blank whole disks are usable, and each refusal says why", () => {
  const devices = parseLsblk(LSBLK);
  assert.deepEqual(
    devices.map((d) => [d.path, d.usable, d.reason]),
    [
      ["/dev/vda", false, "root disk"],
      ["/dev/vdb", true, undefined],
      ["/dev/vdc", false, "holds xfs"],
      ["/dev/vdd", false, "mounted"],
      ["/dev/vde", false, "has partitions"],
    ],
  );
  assert.equal(devices[1]!.sizeBytes, 214748364800);
});

test("signature probe: blank, ext4 (made by mkfs), xfs magic, partition table", async () => {
  const dir = mkdtempSync(join(tmpdir(), "dev-"));
  const blank = join(dir, "blank");
  writeFileSync(blank, Buffer.alloc(1 << 20));
  assert.equal(await probeSignature(blank), undefined);
  const ext4 = join(dir, "ext4");
  const fd = openSync(ext4, "w");
  ftruncateSync(fd, 16 << 20);
  closeSync(fd);
  await run("mkfs.ext4", ["-q", "-F", ext4]);
  assert.equal(await probeSignature(ext4), "ext2/3/4");
  const xfs = join(dir, "xfs");
  writeFileSync(xfs, Buffer.concat([Buffer.from("XFSB"), Buffer.alloc(4096)]));
  assert.equal(await probeSignature(xfs), "xfs");
  const mbr = join(dir, "mbr");
  const buf = Buffer.alloc(4096);
  buf[510] = 0x55;
  buf[511] = 0xaa;
  writeFileSync(mbr, buf);
  assert.equal(await probeSignature(mbr), "DOS partition table");
  const tiny = join(dir, "tiny");
  writeFileSync(tiny, "x");
  assert.equal(await probeSignature(tiny), undefined);
});

test("file-backed devices of the development cluster: a device with a filesystem is never offered", async () => {
  const dir = mkdtempSync(join(tmpdir(), "devs-"));
  writeFileSync(join(dir, "sdb"), Buffer.alloc(1 << 20));
  const fd = openSync(join(dir, "sdc"), "w");
  writeSync(fd, Buffer.from("XFSB"));
  closeSync(fd);
  mkdirSync(join(dir, "by-id"));
  const devices = await discoverFileDevices(dir);
  assert.deepEqual(
    devices.map((d) => [d.path, d.usable, d.reason ?? null]),
    [
      ["/dev/sdb", true, null],
      ["/dev/sdc", false, "holds xfs"],
    ],
  );
  assert.deepEqual(await discoverFileDevices(join(dir, "missing")), []);
});
