// The web UI on a narrow screen (420 px, a phone held upright) and its phase controls: nothing
// overflows sideways; a phase with work left is paused and resumed from the UI, and once
// finished it offers no "Pause phase" (there is nothing left in it to hold).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { launchChromium, type Browser } from "../support/browser.js";
import { operatorFixture, TOKEN, type OperatorFixture } from "../support/operator-fixture.js";

const LONG = 60_000;

describe("web UI at 420 px", () => {
  let browser: Browser;
  let fixture: OperatorFixture;
  let page: Page;
  let url = "";
  const problems: string[] = [];

  before(async () => {
    [browser, fixture] = await Promise.all([launchChromium(), operatorFixture({ agents: 2 })]);
    await fixture.app.listen({ host: "127.0.0.1", port: 0 });
    url = `http://127.0.0.1:${(fixture.app.server.address() as { port: number }).port}/ui/`;
    page = await browser.context.newPage();
    await page.setViewportSize({ width: 420, height: 800 });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  });

  after(async () => {
    await browser?.close();
    await fixture?.close();
  });

  /** How far the page reaches past the viewport's right edge, and what sticks out most. */
  const overflow = () =>
    page.evaluate<{
      scroll: number;
      width: number;
      worst: { tag: string; right: number };
    }>(`(() => {
      const width = document.documentElement.clientWidth;
      let worst = { tag: "", right: 0 };
      for (const el of document.querySelectorAll("body *")) {
        const r = el.getBoundingClientRect();
        if (r.width > 0 && r.right > worst.right)
          worst = { tag: el.tagName.toLowerCase() + "." + el.className, right: Math.round(r.right) };
      }
      return { scroll: document.documentElement.scrollWidth, width, worst };
    })()`);

  it("nothing sticks out sideways", { timeout: LONG }, async () => {
    await page.goto(url);
    await page.locator("#connection[data-state='live']").waitFor({ timeout: LONG });
    await page.locator("tr[data-step-row='deploy|install/agent-0']").waitFor({ timeout: LONG });
    const o = await overflow();
    assert.ok(
      o.scroll <= o.width,
      `page ${o.scroll} px wide in ${o.width} px: ${JSON.stringify(o.worst)}`,
    );
    assert.deepEqual(problems, []);
  });

  it(
    "a phase with work left can be paused; a finished one offers no pause",
    { timeout: LONG },
    async () => {
      const pause = (phase: string) =>
        page.locator(`section.phase[data-phase='${phase}'] button[data-action='pause-phase']`);
      await pause("install").waitFor({ timeout: LONG });
      // Changes need the API token.
      await page.locator("#token").fill(TOKEN);
      await page.locator("#token").press("Enter");
      const paused = () =>
        fixture.sched.engine.view("deploy").phases.find((p) => p.id === "install")!.paused;
      await pause("install").click();
      const resume = page.locator(
        "section.phase[data-phase='install'] button[data-action='resume-phase']",
      );
      await resume.waitFor({ timeout: LONG });
      assert.equal(paused(), true);
      await resume.click();
      await pause("install").waitFor({ timeout: LONG });
      assert.equal(paused(), false);
      for (const a of ["agent-0", "agent-1"]) fixture.platform.release(a);
      await fixture.sched.engine.waitFor("deploy", (v) => v.status === "COMPLETE", LONG);
      await page
        .locator("section.phase[data-phase='verify'] .badge")
        .filter({ hasText: /complete/i })
        .first()
        .waitFor({ timeout: LONG });
      await page.waitForFunction(
        `document.querySelectorAll("button[data-action='pause-phase']").length === 0`,
        null,
        { timeout: LONG },
      );
      assert.equal(await pause("install").count(), 0);
      // The plan itself can still be paused: new agents would add steps to it.
      assert.equal(await page.locator("button[data-action='pause-plan']").count(), 1);
      const o = await overflow();
      assert.ok(
        o.scroll <= o.width,
        `page ${o.scroll} px wide in ${o.width} px: ${JSON.stringify(o.worst)}`,
      );
    },
  );
});
