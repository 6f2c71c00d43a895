// The web UI in Chromium at 1,000 agents, against a stand-in API (real web/ files, synthetic
// data in the API's shapes) whose steps change 85 times a second: the main thread stays free
// (the targets, no task over 100 ms and under 25 % busy, are measured by `npm run bench:ui`;
// the test guards against a return of the old whole-page redraws) and every click on an
// agent's "Steps" toggle is handled; the failed agents are found through the filter, an agent's steps across plans have
// a page of their own (#/agent/<id>), hostnames sort naturally and the log filters by level
// and agent. Screenshots go to test-artifacts/.
//
// UI_SCALE_WEB_ROOT=<folder> serves another copy of the UI (to measure an older one).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { CDPSession, Page } from "playwright-core";
import { launchChromium, type Browser } from "../support/browser.js";
import { startScaleStandin, type Standin } from "../support/scale-standin.js";
import { waitUntil } from "../support/wait.js";
import { naturalCompare } from "../../src/framework/natural-order.js";

const AGENTS = 1000;
const RATE = 85;
const FAILURES = 12;
/** The window measured: this many step changes (about 20 s). */
const WINDOW_CHANGES = RATE * 20;
/** A click after every this many step changes (about one a second). */
const CLICK_EVERY_CHANGES = RATE;
/** A click counts as handled when its effect shows within this. */
const CLICK_DEADLINE_MS = 3000;
const LONG = 120_000;
/**
 * What the test itself asserts of the main thread: far from the old UI's figures (tasks of
 * 2.4–4.9 s, 99 % busy) and far enough above the targets (no task over 100 ms, under 25 %
 * busy) that a loaded machine does not fail it. The targets are measured by `npm run
 * bench:ui`, which runs this file to measure only and prints the figures.
 */
const GUARD = { longestMs: 1000, busyPercent: 60 };
const ARTIFACTS = fileURLToPath(new URL("../../test-artifacts/", import.meta.url));
const MEASURE_ONLY = process.env.UI_SCALE_MEASURE_ONLY === "1";

// Collects long tasks from the start of the page (the observer buffers earlier ones too).
const LONGTASKS = `
  window.__longTasks = [];
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries())
        window.__longTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: "longtask", buffered: true });
  } catch {}
`;

interface LongTask {
  start: number;
  duration: number;
}

async function metrics(cdp: CDPSession): Promise<Record<string, number>> {
  const { metrics } = (await cdp.send("Performance.getMetrics")) as {
    metrics: { name: string; value: number }[];
  };
  return Object.fromEntries(metrics.map((m) => [m.name, m.value]));
}

describe("web UI at 1,000 agents with 85 step changes a second", () => {
  let browser: Browser;
  let standin: Standin;
  let page: Page;
  let cdp: CDPSession;
  /** Thread time rather than wall time: what the main thread itself did. */
  let cpu: CDPSession;
  const problems: string[] = [];

  before(async () => {
    [browser, standin] = await Promise.all([
      launchChromium(),
      startScaleStandin({
        agents: AGENTS,
        stepsPerSecond: RATE,
        failures: FAILURES,
        ...(process.env.UI_SCALE_WEB_ROOT ? { webRoot: process.env.UI_SCALE_WEB_ROOT } : {}),
      }),
    ]);
    page = await browser.context.newPage();
    await page.addInitScript(LONGTASKS);
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error" && !/status of 401/.test(m.text()))
        problems.push(`console: ${m.text()}`);
    });
    cdp = await browser.context.newCDPSession(page);
    await cdp.send("Performance.enable");
    cpu = await browser.context.newCDPSession(page);
    await cpu.send("Performance.enable", { timeDomain: "threadTicks" });
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await standin?.close();
  });

  it("shows 1,000 healthy agents", { timeout: LONG }, async () => {
    const t0 = Date.now();
    await page.goto(`${standin.url}/ui/`);
    await page.locator("#connection[data-state='live']").waitFor({ timeout: LONG });
    await page.locator("li.agent details > summary").first().waitFor({ timeout: LONG });
    await page.locator("article.plan[data-plan='deploy']").waitFor({ timeout: LONG });
    const loadTasks = (await page.evaluate("window.__longTasks")) as LongTask[];
    console.log(
      `loaded in ${Date.now() - t0} ms; longest task while loading ${Math.round(
        Math.max(0, ...loadTasks.map((t) => t.duration)),
      )} ms`,
    );
    if (!MEASURE_ONLY)
      await page.screenshot({ path: `${ARTIFACTS}ui-scale-1000-healthy.png`, fullPage: true });
    assert.deepEqual(problems, []);
  });

  it("stays responsive while steps change; every click is handled", { timeout: LONG }, async () => {
    // Toggles as an operator clicks them, at their place on the screen: an agent's "Steps"
    // and a phase's table (one still to run, open).
    const targets = [
      page.locator("li.agent details > summary").first(),
      page.locator("#plans-body section[data-phase='volumes'] details.phase-steps > summary"),
    ];
    await targets[0]!.scrollIntoViewIfNeeded();
    // Kept in place: the toggle and a step's row are the same elements after the changes.
    await page.evaluate(`(() => {
      document.querySelector("li.agent details > summary").keptMark = 1;
      document.querySelector("#plans-body section[data-phase='sds'] tr[data-step-row]").keptMark = 1;
    })()`);
    const startMark = (await page.evaluate("performance.now()")) as number;
    const m0 = await metrics(cdp);
    const c0 = await metrics(cpu);
    const sent0 = standin.changes;
    standin.drive();
    const started = Date.now();
    let clicks = 0;
    let handled = 0;
    let slowestClick = 0;
    while (standin.changes - sent0 < WINDOW_CHANGES) {
      const due = standin.changes + CLICK_EVERY_CHANGES;
      // The first half of the window on the agent, the second on the phase (one scroll).
      const target = targets[standin.changes - sent0 < WINDOW_CHANGES / 2 ? 0 : 1]!;
      clicks++;
      const t = Date.now();
      try {
        await target.scrollIntoViewIfNeeded({ timeout: CLICK_DEADLINE_MS });
        const key = await target.evaluate((el) => el.parentElement!.getAttribute("data-key"));
        const wasOpen = await target.evaluate(
          (el) => (el.parentElement as unknown as { open: boolean }).open,
        );
        const box = await target.boundingBox();
        // No box: the toggle was being replaced as the operator aimed at it.
        if (!box) throw new Error("no box");
        await page.mouse.click(box.x + 20, box.y + box.height / 2);
        await page.waitForFunction(
          `document.querySelector('details[data-key="${key}"]')?.open === ${!wasOpen}`,
          null,
          { timeout: CLICK_DEADLINE_MS, polling: 20 },
        );
        handled++;
        slowestClick = Math.max(slowestClick, Date.now() - t);
      } catch {
        // lost: counted below
      }
      // Paced by the stream, not by the clock.
      await waitUntil(() => standin.changes >= due, { timeoutMs: LONG, what: "step changes" });
    }
    const m1 = await metrics(cdp);
    const c1 = await metrics(cpu);
    const elapsed = (Date.now() - started) / 1000;
    const sent = standin.changes - sent0;
    const tasks = ((await page.evaluate("window.__longTasks")) as LongTask[]).filter(
      (x) => x.start >= startMark,
    );
    const longest = Math.round(Math.max(0, ...tasks.map((x) => x.duration)));
    const span = m1.Timestamp! - m0.Timestamp!;
    const busy = ((m1.TaskDuration! - m0.TaskDuration!) / span) * 100;
    const cpuBusy = ((c1.TaskDuration! - c0.TaskDuration!) / span) * 100;
    const part = (name: string) =>
      `${name} ${(((m1[name]! - m0[name]!) / span) * 100).toFixed(1)} %`;
    console.log(["ScriptDuration", "LayoutDuration", "RecalcStyleDuration"].map(part).join(", "));
    console.log(
      `${sent} step changes in ${elapsed.toFixed(1)} s (${(sent / elapsed).toFixed(1)}/s); ` +
        `long tasks ${tasks.length}, longest ${longest} ms; main thread ${busy.toFixed(1)} % busy ` +
        `(${cpuBusy.toFixed(1)} % of a CPU); ` +
        `clicks handled ${handled} of ${clicks} (slowest ${slowestClick} ms)`,
    );
    // For the benchmark (bench/ui-scale.ts): the figures as one line of JSON.
    console.log(
      `ui-scale: ${JSON.stringify({ longestMs: longest, busyPercent: busy, cpuPercent: cpuBusy, handled, clicks, changesPerSecond: sent / elapsed })}`,
    );
    assert.ok(sent / elapsed > RATE * 0.9, `only ${(sent / elapsed).toFixed(1)} changes/s sent`);
    if (MEASURE_ONLY) return;
    assert.deepEqual(
      await page.evaluate(`[
        document.querySelector("li.agent details > summary").keptMark,
        document.querySelector("#plans-body section[data-phase='sds'] tr[data-step-row]").keptMark,
        document.querySelector("#plans-body section[data-phase='sds'] tr[data-step-row] .step-status").dataset.status,
      ]`),
      [1, 1, "COMPLETE"],
    );
    assert.ok(longest <= GUARD.longestMs, `a task took ${longest} ms`);
    assert.ok(busy < GUARD.busyPercent, `main thread ${busy.toFixed(1)} % busy`);
    assert.ok(cpuBusy < GUARD.busyPercent, `main thread ${cpuBusy.toFixed(1)} % of a CPU`);
    assert.equal(handled, clicks, `${clicks - handled} of ${clicks} clicks lost`);
    assert.deepEqual(problems, []);
  });

  it(
    "finds the dozen failed agents through the filter",
    { timeout: LONG, skip: MEASURE_ONLY },
    async () => {
      await waitUntil(() => standin.failed.length === FAILURES, {
        timeoutMs: LONG,
        what: `${FAILURES} failed agents`,
      });
      standin.pause();
      // Keyboard only: the "Failed" filter, with its count.
      const failedFilter = page.locator('#agent-filters button[data-filter="error"]');
      await page.waitForFunction(
        `document.querySelector('#agent-filters button[data-filter="error"] .count').textContent === "${FAILURES}"`,
        null,
        { timeout: LONG },
      );
      await failedFilter.focus();
      await page.keyboard.press("Enter");
      assert.equal(await failedFilter.getAttribute("aria-pressed"), "true");
      await page.waitForFunction(
        `document.querySelectorAll("li.agent").length === ${FAILURES}`,
        null,
        { timeout: LONG },
      );
      const ids = await page
        .locator("li.agent")
        .evaluateAll((els) =>
          els.map((e) => [e.getAttribute("data-agent"), e.getAttribute("data-status")]),
        );
      assert.deepEqual(ids.map(([id]) => id).sort(), [...standin.failed].sort());
      assert.ok(ids.every(([, status]) => status === "error"));
      assert.equal(
        await page.locator("#agents-range").innerText(),
        `Agents 1–${FAILURES} of ${FAILURES}`,
      );
      assert.match(await page.locator("li.agent .error-text").first().innerText(), /read-only/);
      // The failed steps alone in the plan's tables.
      await page.selectOption("#step-status", "ERROR");
      await page.waitForFunction(
        `document.querySelectorAll("#plans-body tr[data-step-row]").length === ${FAILURES}`,
        null,
        { timeout: LONG },
      );
      await page.screenshot({ path: `${ARTIFACTS}ui-scale-1000-failed.png`, fullPage: true });
      await page
        .locator("#topology")
        .screenshot({ path: `${ARTIFACTS}ui-scale-1000-failed-topology.png` });

      // A search narrows to one of them.
      const one = standin.nodes.find((n) => n.agentId === standin.failed[0])!;
      await page.locator("#agent-search").fill(one.hostname);
      await page.waitForFunction('document.querySelectorAll("li.agent").length === 1', null, {
        timeout: LONG,
      });
      assert.equal(await page.locator("li.agent").getAttribute("data-agent"), one.agentId);
      assert.deepEqual(problems, []);
    },
  );

  it(
    "shows an agent's steps across plans on a page of its own",
    { timeout: LONG, skip: MEASURE_ONLY },
    async () => {
      const one = standin.nodes.find((n) => n.agentId === standin.failed[0])!;
      await page.locator(`li.agent[data-agent="${one.agentId}"] a.agent-link`).click();
      assert.equal(new URL(page.url()).hash, `#/agent/${encodeURIComponent(one.agentId)}`);
      await page.locator("#agent-h", { hasText: one.hostname }).waitFor({ timeout: LONG });
      assert.equal(await page.evaluate("document.activeElement.id"), "agent-h");
      assert.equal(await page.locator("#topology").isVisible(), false);
      const rows = page.locator("#agent-body tr[data-step-row]");
      assert.equal(await rows.count(), 4);
      assert.equal(await page.locator('#agent-body .step-status[data-status="ERROR"]').count(), 1);
      assert.equal(
        (await page.locator('#agent-body .step-status[data-status="COMPLETE"]').count()) >= 1,
        true,
      );
      await page.screenshot({ path: `${ARTIFACTS}ui-scale-1000-agent.png` });
      // Its own URL: opened afresh, the same page.
      await page.goto(`${standin.url}/ui/#/agent/${encodeURIComponent(one.agentId)}`);
      await page.locator("#agent-body tr[data-step-row]").nth(3).waitFor({ timeout: LONG });
      // Back to the dashboard.
      await page.locator("#agent-back").click();
      await page.locator("#topology").waitFor({ timeout: LONG });
      assert.equal(await page.locator("#agent").isVisible(), false);
      assert.deepEqual(problems, []);
    },
  );

  it(
    "orders hostnames naturally and filters the log",
    { timeout: LONG, skip: MEASURE_ONLY },
    async () => {
      await page.locator("li.agent").first().waitFor({ timeout: LONG });
      await page.locator("#agent-search").fill("");
      await page.locator('#agent-filters button[data-filter="all"]').click();
      await page.selectOption("#step-status", "");
      const first = page.locator(".domain").first();
      const hosts = await first
        .locator("li.agent h4")
        .evaluateAll((els) => els.map((e) => e.firstChild!.textContent!.split(" ")[0]!));
      assert.deepEqual(hosts.slice(0, 3), [
        "storage-1.dc1.example",
        "storage-7.dc1.example",
        "storage-13.dc1.example",
      ]);
      assert.deepEqual(hosts, [...hosts].sort(naturalCompare));

      // Warnings only: the failures, each a line.
      await page.selectOption("#log-level", "warn");
      await page.waitForFunction(
        `[...document.querySelectorAll("#log > li")].every((l) => l.matches(".log-warn, .log-error"))`,
        null,
        { timeout: LONG },
      );
      assert.ok((await page.locator("#log > li.log-warn").count()) >= 1);
      // One agent: its lines only.
      const one = standin.nodes.find((n) => n.agentId === standin.failed.at(-1))!;
      await page.locator("#log-agent").fill(one.hostname);
      await page.waitForFunction(`document.querySelectorAll("#log > li").length === 1`, null, {
        timeout: LONG,
      });
      assert.match(
        await page.locator("#log > li").innerText(),
        new RegExp(`${one.hostname}.*read-only`),
      );
      // Finished steps: grouped, a line per run of them.
      await page.locator("#log-agent").fill("");
      await page.selectOption("#log-level", "done");
      // A group of several, pinned by its sequence number: `.last()` would resolve again at
      // each use, and a new run (begun when the newest reached its size limit) may hold one.
      const several = page.locator("#log > li.log-done", { hasText: /\d+ steps done/ }).last();
      await several.waitFor({ timeout: LONG });
      const seq = await several.getAttribute("data-seq");
      const group = page.locator(`#log > li.log-done[data-seq="${seq}"]`);
      assert.match(await group.locator("summary").innerText(), /^\d+ steps done$/);
      await group.locator("summary").click();
      assert.ok((await group.locator(".done-items > div").count()) > 1);
      assert.deepEqual(problems, []);
    },
  );
});
