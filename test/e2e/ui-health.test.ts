// The web UI's health pictures in Chromium against a scheduler core (real plan engine, agent
// registry, health monitor and operator API) whose platform reports conditions, pools and an
// hour of observations the test sets: the conditions panel, capacity per pool, the plots,
// shortened agent ids and the scrolling event log.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { launchChromium, type Browser } from "../support/browser.js";
import {
  GatedPlatform,
  offer,
  operatorFixture,
  type OperatorFixture,
} from "../support/operator-fixture.js";
import type { ConditionFinding } from "../../src/framework/health/types.js";
import type { HistorySample, PoolView } from "../../src/framework/scheduler.js";

const LONG = 60_000;
const ARTIFACTS = fileURLToPath(new URL("../../test-artifacts/", import.meta.url));
const GIB = 2 ** 30;
const LONG_ID = "7d3f6a1c-2b4e-4f3a-9c1d-0e5f6a7b8c9d-S12";
const FULL = "pool/pd1/sp1";
const REBUILDING = "pool/pd1/sp2";
const FULL_MESSAGE = "pool pd1/sp1 is 95.2 % used (warning at 80 %, critical at 90 %)";

/** The platform's observer, as the health monitor reads it; the test says what it found. */
class TestObserver extends EventEmitter {
  findings: ConditionFinding[] = [];
  error: string | undefined = undefined;
  observed() {
    return true;
  }
  observeSoon() {}
  find(findings: ConditionFinding[]) {
    this.findings = findings;
    this.emit("observed");
  }
}

class HealthPlatform extends GatedPlatform {
  readonly health = new TestObserver();
  poolList: PoolView[] = [];
  samples: HistorySample[] = [];
  pools() {
    return this.poolList;
  }
  history(since?: number) {
    return this.samples.filter((s) => since === undefined || s.at >= since);
  }
}

function pool(id: string, totalGib: number, spareGib: number, usedGib: number): PoolView {
  return {
    object: `pool/pd1/${id}`,
    id: `id-${id}`,
    name: id,
    group: "pd1",
    usedPercent: Math.round((usedGib / (totalGib - spareGib)) * 1000) / 10,
    sparePercentage: Math.round((spareGib / totalGib) * 100),
    capacity: {
      totalBytes: totalGib * GIB,
      usedBytes: usedGib * GIB,
      spareBytes: spareGib * GIB,
      freeBytes: (totalGib - spareGib - usedGib) * GIB,
    },
  };
}

function sample(at: number, i: number): HistorySample {
  return {
    at,
    pools: {
      [FULL]: {
        usedPercent: 80 + (15 * i) / 1000,
        iops: 400 + 100 * Math.sin(i / 50),
        kbPerSecond: 20_000 + 5000 * Math.cos(i / 40),
        latencyMicros: 700 + (i % 100),
      },
      [REBUILDING]: { usedPercent: 22, iops: 120, kbPerSecond: 4000, latencyMicros: 1500 },
    },
  };
}

/** Points in an SVG path's `d` (each M or L is one). */
const pointCount = (d: string) => (d.match(/[ML]/g) ?? []).length;

describe("web UI health: conditions, pools, plots, ids and the log", () => {
  let browser: Browser;
  let fixture: OperatorFixture;
  let platform: HealthPlatform;
  let page: Page;
  const pageProblems: string[] = [];

  before(async () => {
    platform = new HealthPlatform();
    const now = Date.now();
    // An hour at 3.6 s: 1000 samples, more than the plots draw.
    platform.samples = Array.from({ length: 1000 }, (_, i) => sample(now - (999 - i) * 3600, i));
    platform.poolList = [
      pool("sp1", 100, 10, 85.68),
      { ...pool("sp2", 200, 20, 40), rebuild: { remainingBytes: 3 * GIB, progressPercent: 42 } },
    ];
    [browser, fixture] = await Promise.all([
      launchChromium(),
      operatorFixture({ agents: 2, platform }),
    ]);
    // An agent with a real Mesos-length id, and a step named after it.
    await fixture.sched.agents.observe(offer(LONG_ID, "host-long"));
    await platform.recompute();
    await fixture.app.listen({ host: "127.0.0.1", port: 0 });
    page = await browser.context.newPage();
    page.on("pageerror", (e) => pageProblems.push(`page error: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") pageProblems.push(`console: ${m.text()}`);
    });
    const port = (fixture.app.server.address() as { port: number }).port;
    await page.goto(`http://127.0.0.1:${port}/ui/`);
    await page.locator("#connection[data-state='live']").waitFor({ timeout: LONG });
  });

  after(async () => {
    await browser?.close();
    await fixture?.close();
  });

  it("shows the conditions first, a critical one at the top with its message", async () => {
    // The warning is raised first, so it is the older: critical still comes first.
    const rebuilding: ConditionFinding = {
      type: "Rebuilding",
      severity: "warning",
      object: REBUILDING,
      message: "pool pd1/sp2 rebuilding 42 % (3072 MiB left)",
    };
    platform.health.find([rebuilding]);
    await page.locator('.conditions li[data-type="Rebuilding"]').waitFor({ timeout: LONG });
    platform.health.find([
      rebuilding,
      { type: "CapacityAlmostFull", severity: "critical", object: FULL, message: FULL_MESSAGE },
    ]);
    await page.locator('#health[data-health="critical"]').waitFor({ timeout: LONG });

    assert.equal(await page.locator("main > section").first().getAttribute("id"), "health-panel");
    const first = page.locator(".conditions li").first();
    assert.equal(await first.getAttribute("data-severity"), "critical");
    assert.match(await first.innerText(), new RegExp(FULL_MESSAGE.replace(/[.()%]/g, "\\$&")));
    assert.equal(await page.locator(".conditions li").count(), 2);
    assert.equal(
      await page.locator(".conditions li").nth(1).getAttribute("data-severity"),
      "warning",
    );
    // Not said twice: the summary's problems leave out what the panel shows.
    assert.equal(await page.locator("#summary .problems li", { hasText: FULL_MESSAGE }).count(), 0);
  });

  it("shows each pool's capacity as used, spare and free", async () => {
    const card = page.locator(`article.pool[data-pool="${FULL}"]`);
    await card.waitFor({ timeout: LONG });
    const part = (name: string) => card.locator(`rect[data-part="${name}"]`);
    const width = async (name: string) => Number(await part(name).getAttribute("width"));
    assert.ok(Math.abs((await width("used")) - 85.68) < 0.01);
    assert.equal(await width("spare"), 10);
    assert.ok(Math.abs((await width("free")) - 4.32) < 0.01);
    assert.equal(Number(await part("spare").getAttribute("x")), Number(await width("used")));
    // The pool's critical condition colours it.
    assert.match((await part("used").getAttribute("class")) ?? "", /sev-critical/);
    const legend = async (name: string) =>
      card.locator(`.cap-legend [data-part="${name}"]`).innerText();
    assert.match(await legend("used"), /Used\s+85\.7 GiB · 95\.2 %/);
    assert.match(await legend("spare"), /Spare\s+10\.0 GiB · 10 %/);
    assert.match(await legend("free"), /Free\s+4\.3 GiB/);
    // A rebuild shows its progress.
    const rebuild = page.locator(`article.pool[data-pool="${REBUILDING}"] .rebuild`);
    assert.equal(await rebuild.locator("progress").getAttribute("value"), "42");
    assert.match(await rebuild.innerText(), /42 % · 3\.0 GiB left/);
  });

  it("plots the last hour: one path per pool for each metric, bounded", async () => {
    const plots = page.locator("figure.plot");
    await page
      .locator('figure.plot[data-metric="latencyMicros"] path.series')
      .nth(1)
      // A flat line has no height: attached, not "visible".
      .waitFor({ state: "attached", timeout: LONG });
    assert.deepEqual(
      await plots.evaluateAll((els) => els.map((e) => e.getAttribute("data-metric"))),
      ["usedPercent", "iops", "kbPerSecond", "latencyMicros"],
    );
    for (const metric of ["usedPercent", "iops", "kbPerSecond", "latencyMicros"]) {
      const paths = page.locator(`figure.plot[data-metric="${metric}"] path.series`);
      assert.deepEqual(
        await paths.evaluateAll((els) => els.map((e) => e.getAttribute("data-series"))),
        [FULL, REBUILDING],
      );
      for (const d of await paths.evaluateAll((els) => els.map((e) => e.getAttribute("d")!))) {
        assert.match(d, /^M[\d.]+ [\d.]+L/);
        // 1000 samples, at most 120 points.
        const n = pointCount(d);
        assert.ok(n > 100 && n <= 120, `${metric}: ${n} points`);
      }
    }
    const latest = page.locator('figure.plot[data-metric="usedPercent"] .plot-legend li').first();
    assert.match(await latest.innerText(), /pd1 \/ sp1: 95\.0 %/);
  });

  it("redraws the plots only when new samples arrive", async () => {
    const svg = 'figure.plot[data-metric="usedPercent"] svg';
    await page.locator(svg).evaluate((el) => ((el as unknown as { mark: number }).mark = 1));
    // A read that brings nothing new leaves the plot as it was.
    await page.waitForResponse((r) => r.url().includes("/v1/health/history?since="), {
      timeout: LONG,
    });
    // Past the frame that would draw what the read brought.
    await page.evaluate(
      "new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))",
    );
    assert.equal(
      await page.locator(svg).evaluate((el) => (el as unknown as { mark?: number }).mark),
      1,
    );

    const last = platform.samples.at(-1)!;
    const next = sample(last.at + 3600, 1000);
    next.pools[FULL]!.usedPercent = 97.5;
    platform.samples.push(next);
    await page
      .locator('figure.plot[data-metric="usedPercent"] .plot-legend li', { hasText: "97.5 %" })
      .waitFor({ timeout: LONG });
    assert.equal(
      await page.locator(svg).evaluate((el) => (el as unknown as { mark?: number }).mark),
      undefined,
    );
  });

  it("shortens long agent ids and keeps the full id on hover", async () => {
    const id = page.locator(`li.agent[data-agent="${LONG_ID}"] .agent-id`);
    await id.waitFor({ timeout: LONG });
    assert.equal(await id.innerText(), "7d3f6a1c…9d-S12");
    assert.equal(await id.getAttribute("title"), LONG_ID);
    const step = page.locator(`tr[data-step-row="deploy|install/${LONG_ID}"] .step-id`);
    await step.waitFor({ timeout: LONG });
    assert.equal(await step.innerText(), "install/7d3f6a1c…9d-S12");
    assert.equal(await step.getAttribute("title"), `install/${LONG_ID}`);
    // Short ids stay as they are, without a title.
    const short = page.locator('li.agent[data-agent="agent-0"] .agent-id');
    assert.equal(await short.innerText(), "agent-0");
    assert.equal(await short.getAttribute("title"), null);
  });

  it("scrolls the event log in its box and follows the newest line", async () => {
    const log = page.locator("#log");
    const box = () =>
      log.evaluate((el) => ({
        top: el.scrollTop,
        height: el.clientHeight,
        scroll: el.scrollHeight,
        outer: el.getBoundingClientRect().height,
      }));
    const before = await box();
    for (let i = 0; i < 120; i++) fixture.view.events.log("info", `line ${i} of the test`);
    await log.locator("li", { hasText: "line 119 of the test" }).waitFor({ timeout: LONG });
    const full = await box();
    assert.equal(full.outer, before.outer, "the box keeps its height");
    assert.ok(full.scroll > full.height * 2, "its content is taller than the box");
    assert.ok(full.scroll - full.top - full.height <= 8, "it shows the newest line");
    assert.match(await log.locator("li").last().innerText(), /line 119 of the test/);

    // Scrolled up to read: new lines do not pull the box down; a button brings it back.
    await log.evaluate((el) => (el.scrollTop = 0));
    await page.locator("#log-newest").waitFor({ state: "visible", timeout: LONG });
    for (let i = 120; i < 130; i++) fixture.view.events.log("warn", `line ${i} of the test`);
    await log.locator("li", { hasText: "line 129 of the test" }).waitFor({ timeout: LONG });
    assert.equal((await box()).top, 0);

    await page.click("#log-newest");
    await page.locator("#log-newest").waitFor({ state: "hidden", timeout: LONG });
    fixture.view.events.log("info", "line 130 of the test");
    await log.locator("li", { hasText: "line 130 of the test" }).waitFor({ timeout: LONG });
    const back = await box();
    assert.ok(back.scroll - back.top - back.height <= 8, "following the newest again");

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}ui-health.png`, fullPage: true });
    assert.deepEqual(pageProblems, []);
  });
});
