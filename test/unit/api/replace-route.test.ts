// POST /v1/nodes/{agentId}/replace: the token is needed, the body is {} or {force: boolean},
// the platform decides (202 with the plan and what it does, and an event; 409 with its reason
// and stable code; 404 for an unknown agent; 501 when the platform cannot replace nodes).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import {
  auth,
  GatedPlatform,
  operatorFixture,
  type OperatorFixture,
} from "../../support/operator-fixture.js";

class ReplacingPlatform extends GatedPlatform {
  asked: [string, boolean | undefined][] = [];
  async replaceNode(agentId: string, opts: { force?: boolean }) {
    this.asked.push([agentId, opts.force]);
    if (agentId === "agent-1" && !opts.force)
      throw Object.assign(new Error("host-1 is neither lost nor failing"), {
        statusCode: 409,
        code: "AGENT_HEALTHY",
      });
    return { plan: "replace", message: `${agentId}: mdm2 moves`, replacement: "agent-2" };
  }
}

const fixtures: OperatorFixture[] = [];
after(async () => {
  for (const f of fixtures) await f.close();
});

test("202 with the plan and an event; 409 with the reason and code; force; 404; 400; 401", async () => {
  const platform = new ReplacingPlatform();
  const f = await operatorFixture({ platform });
  fixtures.push(f);
  const post = (agent: string, payload?: unknown, headers: Record<string, string> = auth()) =>
    f.app.inject({
      method: "POST",
      url: `/v1/nodes/${agent}/replace`,
      headers,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  const ok = await post("agent-0", {});
  assert.equal(ok.statusCode, 202, ok.body);
  assert.deepEqual(ok.json(), {
    plan: "replace",
    message: "agent-0: mdm2 moves",
    replacement: "agent-2",
  });
  assert.ok(
    f.view.events
      .recent(5)
      .some((e) =>
        /operator asked to replace host-0: agent-0: mdm2 moves/.test(
          (e.data as { msg?: string }).msg ?? "",
        ),
      ),
  );
  assert.equal((await post("agent-0")).statusCode, 202, "no body is {}");
  const refused = await post("agent-1", {});
  assert.equal(refused.statusCode, 409);
  assert.deepEqual(refused.json(), {
    error: "host-1 is neither lost nor failing",
    code: "AGENT_HEALTHY",
  });
  assert.equal((await post("agent-1", { force: true })).statusCode, 202);
  assert.equal((await post("agent-9", {})).statusCode, 404);
  for (const bad of [{ force: "yes" }, { force: true, now: 1 }])
    assert.equal((await post("agent-0", bad)).statusCode, 400, JSON.stringify(bad));
  assert.equal((await post("agent-0", {}, {})).statusCode, 401);
  assert.deepEqual(platform.asked, [
    ["agent-0", false],
    ["agent-0", false],
    ["agent-1", false],
    ["agent-1", true],
  ]);
});

test("a platform that cannot replace nodes: 501", async () => {
  const f = await operatorFixture();
  fixtures.push(f);
  const r = await f.app.inject({
    method: "POST",
    url: "/v1/nodes/agent-0/replace",
    headers: auth(),
    payload: {},
  });
  assert.equal(r.statusCode, 501);
});
