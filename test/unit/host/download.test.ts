import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { download } from "../../../src/host/download.js";

test("download: http and file URLs into the cache, once; caps, 404 and bad names refused", async () => {
  const dir = mkdtempSync(join(tmpdir(), "dl-"));
  let hits = 0;
  const server = createServer((req, res) => {
    hits += 1;
    if (req.url === "/pkg/emc-scaleio-sds_2.0-6035.0_amd64.deb") res.end("deb bytes");
    else if (req.url === "/big.bin") {
      res.write(Buffer.alloc(4096));
      res.end(Buffer.alloc(4096));
    } else if (req.url === "/hang.bin")
      res.write("x"); // never ends
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const cacheDir = join(dir, "cache");
    const p = await download(`${base}/pkg/emc-scaleio-sds_2.0-6035.0_amd64.deb`, { cacheDir });
    assert.equal(readFileSync(p, "utf8"), "deb bytes");
    await download(`${base}/pkg/emc-scaleio-sds_2.0-6035.0_amd64.deb`, { cacheDir });
    assert.equal(hits, 1, "cached");
    await assert.rejects(download(`${base}/missing.rpm`, { cacheDir }), /HTTP 404/);
    await assert.rejects(download(`${base}/big.bin`, { cacheDir, maxBytes: 5000 }), /limit/);
    await assert.rejects(
      download(`${base}/hang.bin`, { cacheDir, timeoutMs: 300 }),
      /timed out after 300 ms/,
    );
    await assert.rejects(download(`${base}/a%20b;rm`, { cacheDir }), /plain file name/);
    await assert.rejects(download("ftp://x/y.rpm", { cacheDir }), /not http, https or file/);
    const src = join(dir, "EMC-ScaleIO-lia-2.0-6035.0.el7.x86_64.rpm");
    writeFileSync(src, "rpm bytes");
    const q = await download(pathToFileURL(src).href, { cacheDir });
    assert.equal(readFileSync(q, "utf8"), "rpm bytes");
    assert.ok(
      readdirSync(cacheDir).every((f) => !f.includes(".part-")),
      "no partial files",
    );
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  }
});
