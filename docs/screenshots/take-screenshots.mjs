#!/usr/bin/env node
// Takes the web UI screenshots in this folder against a running demo (`npm run demo` prints
// the api:, gateway: and control: lines; pass those three URLs). It plays a small story on the
// emulator: application I/O on a volume, the pool filling up to almost full, a slow spell,
// then an SDS killed so the framework repairs it; and shoots the dashboard at two moments.
//
//   node docs/screenshots/take-screenshots.mjs <api> <gateway> <control>
//
// Uses Debian's Chromium through playwright-core. Talks to 127.0.0.1 only. The admin password
// is the demo's (SCALEIO_ADMIN_PASSWORD, else the demo default).
import { Buffer } from "node:buffer";
import { mkdirSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { Agent, fetch as undiciFetch } from "undici";

const [api, gateway, control] = process.argv.slice(2);
if (!api || !gateway || !control) {
  console.error("usage: take-screenshots.mjs <api-url> <gateway-url> <control-url>");
  process.exit(2);
}
for (const u of [api, gateway, control])
  if (!/^https?:\/\/127\.\d+\.\d+\.\d+:\d+\/?$/.test(u)) {
    console.error(`not a loopback URL: ${u}`);
    process.exit(2);
  }
const OUT = fileURLToPath(new URL("./", import.meta.url));
const PASSWORD = process.env.SCALEIO_ADMIN_PASSWORD || "Demo-Adm1n-Pass";
// The emulator's gateway has a self-signed certificate; this script talks to it on loopback.
const insecure = new Agent({ connect: { rejectUnauthorized: false } });

const log = (msg) => console.log(`${new Date().toISOString().slice(11, 19)} ${msg}`);

async function json(url, init = {}) {
  const res = await undiciFetch(url, {
    ...init,
    headers: { "content-type": "application/json", ...(init.headers ?? {}) },
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${url}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

const admin = (path, body) =>
  json(`${control}/admin/${path}`, { method: "POST", body: JSON.stringify(body ?? {}) });

async function gatewayCall(path, body) {
  const basic = (user, pass) => `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;
  const login = await undiciFetch(`${gateway}/api/login`, {
    dispatcher: insecure,
    headers: { authorization: basic("admin", PASSWORD) },
  });
  if (!login.ok) throw new Error(`gateway login: ${login.status}`);
  const token = (await login.json()).toString();
  const res = await undiciFetch(`${gateway}${path}`, {
    dispatcher: insecure,
    method: body ? "POST" : "GET",
    headers: { authorization: basic("admin", token), "content-type": "application/json" },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  if (!res.ok) throw new Error(`gateway ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Resolves once `n` more observations are in the history. */
async function observations(n) {
  const count = async () => (await json(`${api}/v1/health/history`)).samples.length;
  const target = (await count()) + n;
  while ((await count()) < target) await sleep(1000);
}

async function until(what, ok, timeoutMs = 300_000) {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(250);
  }
}

const [pool] = (await json(`${api}/v1/pools`)).pools;
if (!pool) throw new Error("no pool yet: wait for the demo to be healthy");
const volumes = await gatewayCall("/api/types/Volume/instances");
const volumeId =
  volumes.find((v) => v.name === "app1")?.id ??
  (
    await gatewayCall("/api/types/Volume/instances", {
      storagePoolId: pool.id,
      volumeSizeInKb: String(8 * 2 ** 20),
      name: "app1",
      volumeType: "ThinProvisioned",
    })
  ).id;
// Data on the volume: its I/O then lands on devices, whose latency the plots show.
await admin(`volumes/${volumeId}/write`, { sizeGb: 4 });
log(`volume ${volumeId} in pool ${pool.object}`);

// The story, one step per few observations, so the plots have something to show.
const story = [
  [
    "application I/O starts",
    () => admin(`volumes/${volumeId}/workload`, { readIops: 600, writeIops: 250, ioSizeKb: 16 }),
  ],
  ["pool at 35 %", () => admin(`pools/${pool.id}/fill`, { percent: 35 })],
  [
    "more I/O",
    () => admin(`volumes/${volumeId}/workload`, { readIops: 1400, writeIops: 700, ioSizeKb: 32 }),
  ],
  ["pool at 60 %", () => admin(`pools/${pool.id}/fill`, { percent: 60 })],
  ["slow I/O (12 ms)", () => admin("slow-io", { latencyMs: 12 })],
  ["pool at 78 %", () => admin(`pools/${pool.id}/fill`, { percent: 78 })],
  ["I/O speed back", () => admin("slow-io", { latencyMs: 0 })],
  ["pool at 86 %", () => admin(`pools/${pool.id}/fill`, { percent: 86 })],
  ["pool at 92 %", () => admin(`pools/${pool.id}/fill`, { percent: 92 })],
];
for (const [what, act] of story) {
  await act();
  log(what);
  await observations(3);
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  await page.goto(`${api}/ui/`);
  await page.locator("#connection[data-state='live']").waitFor();
  await page
    .locator('.conditions li[data-type="CapacityAlmostFull"]')
    .waitFor({ timeout: 120_000 });
  await page
    .locator('figure.plot[data-metric="usedPercent"] path.series')
    .waitFor({ state: "attached" });
  mkdirSync(OUT, { recursive: true });
  await page.screenshot({ path: `${OUT}ui-almost-full-pool.png` });
  log("ui-almost-full-pool.png");

  // An SDS dies: the pool rebuilds and the framework repairs the SDS (the recovery plan).
  const state = await json(`${control}/admin/state`);
  const sdsIp = state.nodes.filter((n) => n.services?.sds === "active").at(-1)?.ip;
  if (!sdsIp) throw new Error("no running SDS to kill");
  await admin(`sds/${sdsIp}/kill`);
  log(`SDS on ${sdsIp} killed`);
  await until("a repair in progress", async () => {
    const r = await undiciFetch(`${api}/v1/plans/recovery`);
    return r.ok && (await r.json()).status === "IN_PROGRESS";
  });
  await page
    .locator('article[data-plan="recovery"] .plan-status[data-status="IN_PROGRESS"]')
    .waitFor();
  await page.locator('.conditions li[data-severity="critical"]').first().waitFor();
  await page.screenshot({ path: `${OUT}ui-repair-in-progress.png`, fullPage: true });
  log("ui-repair-in-progress.png");
} finally {
  await browser.close();
}
