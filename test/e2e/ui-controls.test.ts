// The web UI in Chromium against a scheduler core (real plan engine, agent registry, store and
// operator API; not subscribed to Mesos) whose steps finish when the test releases them:
// force-complete after confirming, restart, a step finishing live, and reconnecting to a
// restarted scheduler on the same address without a reload.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { launchChromium, type Browser } from "../support/browser.js";
import { operatorFixture, TOKEN, type OperatorFixture } from "../support/operator-fixture.js";

const LONG = 60_000;

describe("web UI controls and reconnection", () => {
  let browser: Browser;
  let fixture: OperatorFixture;
  let page: Page;
  let port = 0;
  let navigations = 0;
  const pageProblems: string[] = [];

  const stepOf = (stepId: string) =>
    fixture.sched.engine
      .view("deploy")
      .phases.flatMap((p) => p.steps)
      .find((s) => s.id === stepId)!;
  const row = (stepId: string) => `tr[data-step-row="deploy|${stepId}"]`;

  const serve = async (agents: number) => {
    fixture = await operatorFixture({ agents });
    await fixture.app.listen({ host: "127.0.0.1", port });
    port = (fixture.app.server.address() as { port: number }).port;
  };

  before(async () => {
    [browser] = await Promise.all([launchChromium(), serve(2)]);
    page = await browser.context.newPage();
    page.on("framenavigated", (f) => {
      if (f === page.mainFrame()) navigations++;
    });
    page.on("pageerror", (e) => pageProblems.push(`page error: ${e.message}`));
    page.on("console", (m) => {
      // Failed loads while the scheduler is away are expected; anything else is a problem.
      if (m.type() === "error" && !/Failed to load resource|ERR_CONNECTION_REFUSED/.test(m.text()))
        pageProblems.push(`console: ${m.text()}`);
    });
  });

  after(async () => {
    await browser?.close();
    await fixture?.close();
  });

  it("groups agents by fault domain and shows their steps", { timeout: LONG }, async () => {
    await page.goto(`http://127.0.0.1:${port}/ui/`);
    await page.locator("#connection[data-state='live']").waitFor({ timeout: LONG });
    await page.locator(`${row("install/agent-0")} .step-status`).waitFor({ timeout: LONG });
    assert.equal(await page.locator(".domain h3").innerText(), "Region eu · zone z1 — 2 agent(s)");
    assert.equal(await page.locator("li.agent").count(), 2);
  });

  it("force-completes a step after confirmation", { timeout: LONG }, async () => {
    await page.locator("#token").fill(TOKEN);
    await page.locator("#token").press("Enter");
    await page.click(`${row("install/agent-0")} button[data-action="force-complete"]`);
    await page.locator("dialog#confirm").waitFor({ state: "visible", timeout: LONG });
    await page.click("#confirm-ok");
    await page
      .locator(`${row("install/agent-0")} .step-status[data-status="COMPLETE"]`)
      .waitFor({ timeout: LONG });
    assert.match(await page.locator(row("install/agent-0")).innerText(), /\(forced\)/);
    assert.deepEqual(
      [stepOf("install/agent-0").status, stepOf("install/agent-0").forced],
      ["COMPLETE", true],
    );
  });

  it("restarts a step; a released step completes live", { timeout: LONG }, async () => {
    await page.click(`${row("install/agent-0")} button[data-action="restart"]`);
    await page
      .locator(`${row("install/agent-0")} .step-status[data-status="IN_PROGRESS"]`)
      .waitFor({ timeout: LONG });
    assert.doesNotMatch(await page.locator(row("install/agent-0")).innerText(), /\(forced\)/);
    assert.equal(stepOf("install/agent-0").forced, undefined);

    fixture.platform.release("agent-1");
    await page
      .locator(`${row("install/agent-1")} .step-status[data-status="COMPLETE"]`)
      .waitFor({ timeout: LONG });
    assert.equal(navigations, 1);
  });

  it("reconnects to a restarted scheduler and shows its state", { timeout: LONG }, async () => {
    await page.evaluate("window.uiTestMarker = 1");
    await fixture.close();
    await page.locator("#connection[data-state='reconnecting']").waitFor({ timeout: LONG });
    // The new scheduler on the same address knows three agents.
    await serve(3);
    await page.locator("#connection[data-state='live']").waitFor({ timeout: LONG });
    await page.waitForFunction('document.querySelectorAll("li.agent").length === 3', null, {
      timeout: LONG,
    });
    await page.locator(`${row("install/agent-2")} .step-status`).waitFor({ timeout: LONG });
    assert.equal(navigations, 1);
    assert.equal(await page.evaluate("window.uiTestMarker"), 1);
    assert.deepEqual(pageProblems, []);
  });
});

describe("web UI when reads need the token", () => {
  let browser: Browser;
  let fixture: OperatorFixture;

  before(async () => {
    [browser, fixture] = await Promise.all([
      launchChromium(),
      operatorFixture({ protectReads: true }),
    ]);
    await fixture.app.listen({ host: "127.0.0.1", port: 0 });
  });

  after(async () => {
    await browser?.close();
    await fixture?.close();
  });

  it("asks for the token, then follows the stream with it", { timeout: LONG }, async () => {
    const page = await browser.context.newPage();
    const port = (fixture.app.server.address() as { port: number }).port;
    await page.goto(`http://127.0.0.1:${port}/ui/`);
    await page.locator("#connection[data-state='unauthorized']").waitFor({ timeout: LONG });
    assert.match(await page.locator("#notice").innerText(), /Not authorized \(401\).*token/s);

    await page.locator("#token").fill(TOKEN);
    await page.locator("#token").press("Enter");
    await page.locator("#connection[data-state='live']").waitFor({ timeout: LONG });
    const row = 'tr[data-step-row="deploy|install/agent-0"]';
    await page.locator(`${row} .step-status[data-status="IN_PROGRESS"]`).waitFor({
      timeout: LONG,
    });
    // Live through the token-bearing stream: a released step turns complete.
    fixture.platform.release("agent-0");
    await page.locator(`${row} .step-status[data-status="COMPLETE"]`).waitFor({ timeout: LONG });
    assert.equal(await page.locator("#notice").isHidden(), true);
  });
});
