// The web UI in Debian's Chromium against the real scheduler of the demo (development Mesos
// cluster, ScaleIO emulator). The deploy is held at its "consumers" phase (paused through the
// API as soon as the plan exists) so the browser sees it in progress however slow the machine;
// the UI then pauses and resumes the plan, and resumes the phase to watch it finish live.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { startDemo, type Demo } from "../../sim/demo/demo.js";
import { launchChromium, type Browser } from "../support/browser.js";
import { until } from "../support/wait.js";

const TOKEN = "ui-test-token-7f3a9c1e5b";
const PASSWORD = "Ui-Test-Adm1n-Secret";
const HELD_PHASE = "consumers";
const LONG = 180_000;
const ARTIFACTS = fileURLToPath(new URL("../../test-artifacts/", import.meta.url));

// The demo reads both from the environment.
process.env.SCALEIO_FRAMEWORK_API_TOKEN = TOKEN;
process.env.SCALEIO_ADMIN_PASSWORD = PASSWORD;

interface PlanView {
  id: string;
  status: string;
  paused: boolean;
  phases: { id: string; paused: boolean; steps: { id: string; status: string }[] }[];
}

describe("web UI in Chromium against the real scheduler", () => {
  let demo: Demo;
  let browser: Browser;
  let page: Page;
  let navigations = 0;
  const pageProblems: string[] = [];

  const api = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${demo.apiUrl}${path}`, init);
    return { status: res.status, body: (await res.json()) as unknown };
  };
  const deployPlan = async () => (await api("/v1/plans/deploy")).body as PlanView;
  const plan = 'article[data-plan="deploy"]';

  before(async () => {
    [browser, demo] = await Promise.all([
      launchChromium(),
      startDemo({ agents: 3, out: () => {}, deadlineMs: 240_000 }),
    ]);
    // Hold the deploy before its consumers phase, as soon as the plan exists.
    const engine = demo.scheduler.scheduler.engine;
    await until(engine, ["plan"], () => engine.planIds().includes("deploy"), LONG);
    const held = await api("/v1/plans/deploy/pause", {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ phase: HELD_PHASE }),
    });
    assert.equal(held.status, 200, JSON.stringify(held.body));

    page = await browser.context.newPage();
    page.on("framenavigated", (f) => {
      if (f === page.mainFrame()) navigations++;
    });
    page.on("pageerror", (e) => pageProblems.push(`page error: ${e.message}`));
    page.on("console", (m) => {
      // 401 answers are logged by the browser as failed loads; everything else is a problem.
      if (m.type() === "error" && !/status of 401/.test(m.text())) {
        pageProblems.push(`console: ${m.text()}`);
      }
    });
  });

  after(async () => {
    await browser?.close();
    // The demo's own deadline must not outlive the test.
    demo?.healthy.catch(() => {});
    await demo?.stop();
  });

  it("renders the cluster and a deploy in progress", { timeout: LONG }, async () => {
    await page.goto(`${demo.apiUrl}/`);
    assert.match(page.url(), /\/ui\/$/);
    await page
      .locator(`${plan} .plan-status[data-status="IN_PROGRESS"]`)
      .waitFor({ timeout: LONG });
    await page.locator("#connection[data-state='live']").waitFor({ timeout: LONG });
    // The held phase shows as paused, with its steps still to do.
    const phase = page.locator(`${plan} section[data-phase="${HELD_PHASE}"]`);
    await phase.locator('button[data-action="resume-phase"]').waitFor({ timeout: LONG });
    await phase.locator('.step-status[data-status="PENDING"]').first().waitFor({ timeout: LONG });
    // Topology: three agents with roles, grouped by their racks; the summary's health.
    await page.waitForFunction('document.querySelectorAll("li.agent").length === 3', null, {
      timeout: LONG,
    });
    assert.ok((await page.locator("li.agent .role").count()) >= 3);
    assert.equal(await page.locator(".domain").count(), 3);
    await page.locator("#health[data-health]").waitFor({ timeout: LONG });
    await page.evaluate("window.uiTestMarker = 1");
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}ui-deploy-in-progress.png`, fullPage: true });
    assert.equal(navigations, 1);
  });

  it("a change without a token shows the 401 message", { timeout: LONG }, async () => {
    assert.equal(await page.inputValue("#token"), "");
    await page.click(`${plan} button[data-action="pause-plan"]`);
    const notice = page.locator("#notice");
    await notice.waitFor({ state: "visible", timeout: LONG });
    assert.match(await notice.innerText(), /Not authorized \(401\).*token/s);
    assert.equal((await deployPlan()).paused, false);
  });

  it("force-complete asks for confirmation, and cancelling changes nothing", async () => {
    await page.locator("#token").fill(TOKEN);
    // Keyboard only: Enter in the token field submits the token form.
    await page.locator("#token").press("Enter");
    await page.locator("#notice").waitFor({ state: "hidden", timeout: LONG });
    assert.equal(await page.evaluate("location.search + location.hash"), "");

    const phase = page.locator(`${plan} section[data-phase="${HELD_PHASE}"]`);
    const key = await phase.locator("tr[data-step-row]").first().getAttribute("data-step-row");
    const stepId = key!.split("|")[1]!;
    await page.locator(`tr[data-step-row="${key}"] button[data-action="force-complete"]`).click();
    const dialog = page.locator("dialog#confirm");
    await dialog.waitFor({ state: "visible", timeout: LONG });
    assert.match(await dialog.innerText(), /marked complete without running it/);
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden", timeout: LONG });
    const step = (await deployPlan()).phases.flatMap((p) => p.steps).find((s) => s.id === stepId);
    assert.equal(step?.status, "PENDING");
  });

  it("pauses and resumes the plan from the UI; its steps then complete live", async () => {
    // A step the hold keeps pending; resuming the whole plan releases paused phases too.
    const phase = page.locator(`${plan} section[data-phase="${HELD_PHASE}"]`);
    const key = await phase.locator("tr[data-step-row]").first().getAttribute("data-step-row");
    const status = page.locator(`tr[data-step-row="${key}"] .step-status`);
    assert.equal(await status.innerText(), "Pending");

    await page.locator(`${plan} button[data-action="pause-plan"]`).press("Enter");
    await page.locator(`${plan} .plan-status[data-status="WAITING"]`).waitFor({ timeout: LONG });
    const paused = await deployPlan();
    assert.equal(paused.paused, true);
    assert.equal(paused.status, "WAITING");

    await page.click(`${plan} button[data-action="resume-plan"]`);
    await page.locator(`${plan} button[data-action="pause-plan"]`).waitFor({ timeout: LONG });
    const resumed = await deployPlan();
    assert.equal(resumed.paused, false);
    assert.ok(["IN_PROGRESS", "COMPLETE"].includes(resumed.status), resumed.status);

    // The phase finishes live and folds (a long deploy's finished tables would fill the
    // page); opened again, its step says Complete.
    await phase.locator('.phase-head [data-status="COMPLETE"]').first().waitFor({ timeout: LONG });
    const steps = phase.locator("details.phase-steps");
    await page.waitForFunction(
      (el) => el !== null && !el.hasAttribute("open"),
      await steps.elementHandle(),
      {
        timeout: LONG,
      },
    );
    await steps.locator("summary").click();
    await page
      .locator(`tr[data-step-row="${key}"] .step-status[data-status="COMPLETE"]`)
      .waitFor({ timeout: LONG });
    assert.equal(await status.innerText(), "Complete");
    await page.locator(`${plan} .plan-status[data-status="COMPLETE"]`).waitFor({ timeout: LONG });
    const done = await demo.healthy;
    assert.equal(done.status, "COMPLETE");
    // The summary turns healthy once the platform is observed again; the log says what the
    // operator did (a finished step is its step event, with no log line of its own).
    await page.locator('#health[data-health="healthy"]').waitFor({ timeout: LONG });
    await page
      .locator("#log li", { hasText: /operator resumed deploy$/ })
      .first()
      .waitFor({ timeout: LONG });

    // Same document all along: no navigation, the marker survived.
    assert.equal(navigations, 1);
    assert.equal(await page.evaluate("window.uiTestMarker"), 1);
    // No secret in the page, no script error, no CSP violation.
    assert.doesNotMatch(await page.content(), new RegExp(PASSWORD));
    assert.deepEqual(pageProblems, []);

    const shot = `${ARTIFACTS}ui-dashboard.png`;
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`screenshot: ${shot}`);
  });

  it("a finished phase offers no pause (pausing a phase live: ui-narrow.test.ts)", async () => {
    const phase = page.locator(`${plan} section[data-phase="${HELD_PHASE}"]`);
    await page.locator(`${plan} .plan-status[data-status="COMPLETE"]`).waitFor({ timeout: LONG });
    assert.equal(await phase.locator('button[data-action="pause-phase"]').count(), 0);
    assert.equal(await page.locator(`${plan} button[data-action="pause-plan"]`).count(), 1);
  });
});
