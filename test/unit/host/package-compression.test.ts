// Real packages compress their payloads with xz (RHEL 7 rpms, most debs) or zstd (RHEL 9
// rpms, Ubuntu 22.04+ debs): the unpack install on CoreOS/Flatcar must read them. The payloads
// here are compressed by the system's own xz and zstd, so the decoders meet real streams.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { gunzipSync } from "node:zlib";
import { readPackageArchive } from "../../../src/host/package-archive.js";
import {
  buildDeb,
  buildRpm,
  type PackageSpec,
} from "../../../sim/scaleio/node/package-archives.js";

const spec: PackageSpec = {
  name: "EMC-ScaleIO-sdc",
  version: "2.0",
  release: "6035.0.el7",
  files: [
    { path: "/opt/emc/scaleio/sdc/bin/drv_cfg", content: "#!/bin/sh\n", mode: 0o755 },
    // Large and repetitive enough for several xz/zstd blocks' worth of back-references.
    { path: "/opt/emc/scaleio/sdc/share/big.txt", content: "scini ".repeat(200_000) },
  ],
};

function compress(tool: "xz" | "zstd", data: Buffer): Buffer {
  const r = spawnSync(tool, ["-c", "-q"], { input: data, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${tool} failed: ${r.stderr.toString()}`);
  return r.stdout;
}

/** The emulator builds gzip'ed payloads: recompress the rpm's payload with `tool`. */
function rpmWith(tool: "xz" | "zstd"): Buffer {
  const rpm = buildRpm(spec);
  const gz = rpm.indexOf(Buffer.from([0x1f, 0x8b, 0x08]));
  return Buffer.concat([rpm.subarray(0, gz), compress(tool, gunzipSync(rpm.subarray(gz)))]);
}

/** The same for a deb: its members renamed `.tar.xz` / `.tar.zst` and recompressed. */
function debWith(tool: "xz" | "zstd"): Buffer {
  const deb = buildDeb({ ...spec, name: "emc-scaleio-sdc", release: "6035.0" });
  const out: Buffer[] = [deb.subarray(0, 8)];
  for (let at = 8; at + 60 <= deb.length;) {
    const name = deb
      .subarray(at, at + 16)
      .toString("latin1")
      .trim()
      .replace(/\/$/, "");
    const size = Number(
      deb
        .subarray(at + 48, at + 58)
        .toString("latin1")
        .trim(),
    );
    let data = deb.subarray(at + 60, at + 60 + size);
    let member = name;
    if (name.endsWith(".gz")) {
      data = compress(tool, gunzipSync(data));
      member = name.replace(/\.gz$/, tool === "xz" ? ".xz" : ".zst");
    }
    const h = `${member}/`.padEnd(16) + "0".padEnd(12) + "0".padEnd(6) + "0".padEnd(6);
    out.push(Buffer.from(`${h}${"100644".padEnd(8)}${String(data.length).padEnd(10)}\`\n`));
    out.push(data);
    if (data.length % 2) out.push(Buffer.from("\n"));
    at += 60 + size + (size % 2);
  }
  return Buffer.concat(out);
}

for (const tool of ["xz", "zstd"] as const) {
  test(`package archives: rpm and deb payloads compressed with ${tool} are unpacked`, async () => {
    for (const [buf, format] of [
      [rpmWith(tool), "rpm"],
      [debWith(tool), "deb"],
    ] as const) {
      const a = await readPackageArchive(buf);
      assert.equal(a.format, format);
      assert.equal(a.version, "2.0-6035.0");
      const drv = a.entries.find((e) => e.path === "/opt/emc/scaleio/sdc/bin/drv_cfg");
      assert.equal(drv?.data?.toString(), "#!/bin/sh\n");
      assert.equal(drv?.mode, 0o755);
      const big = a.entries.find((e) => e.path === "/opt/emc/scaleio/sdc/share/big.txt");
      assert.equal(big?.data?.length, 1_200_000);
      assert.ok(big?.data?.equals(Buffer.from("scini ".repeat(200_000))));
    }
  });
}

test("package archives: a payload cut short in the middle of its xz or zstd stream is refused with the reason", async () => {
  for (const tool of ["xz", "zstd"] as const) {
    const rpm = rpmWith(tool);
    await assert.rejects(
      () => readPackageArchive(rpm.subarray(0, rpm.length - 40)),
      /rpm payload cannot be decompressed/,
    );
  }
});
