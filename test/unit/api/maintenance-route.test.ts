// POST /v1/nodes/{agentId}/maintenance: the token is needed, the body is {enter: boolean},
// the platform decides (202 with its answer and an event; 409 with its reason and code when
// it refuses; 404 for an unknown agent; 501 when the platform has no maintenance).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import {
  auth,
  GatedPlatform,
  operatorFixture,
  type OperatorFixture,
} from "../../support/operator-fixture.js";

class MaintainedPlatform extends GatedPlatform {
  asked: [string, boolean][] = [];
  override nodeInfo(agentId: string) {
    const info = super.nodeInfo(agentId);
    return agentId === "agent-0"
      ? { ...info, maintenance: { state: "in" as const, by: "operator", since: 1 } }
      : info;
  }
  async setMaintenance(agentId: string, enter: boolean) {
    this.asked.push([agentId, enter]);
    if (agentId === "agent-1")
      throw Object.assign(new Error("SDS sds0 of PD pd1 is already in maintenance"), {
        statusCode: 409,
        code: "MAINTENANCE_REFUSED",
      });
    return { state: enter ? "entering" : "exiting", message: `${agentId}: on its way` };
  }
}

const fixtures: OperatorFixture[] = [];
after(async () => {
  for (const f of fixtures) await f.close();
});

test("enter and exit: 202 with the platform's answer and an event; 409 with the reason; 404; 400; 401", async () => {
  const platform = new MaintainedPlatform();
  const f = await operatorFixture({ platform });
  fixtures.push(f);
  const post = (agent: string, payload: unknown, headers: Record<string, string> = auth()) =>
    f.app.inject({
      method: "POST",
      url: `/v1/nodes/${agent}/maintenance`,
      headers,
      payload: payload as object,
    });
  const ok = await post("agent-0", { enter: true });
  assert.equal(ok.statusCode, 202, ok.body);
  assert.deepEqual(ok.json(), { state: "entering", message: "agent-0: on its way" });
  assert.ok(
    f.view.events
      .recent(5)
      .some((e) =>
        /operator asked host-0 into maintenance: agent-0: on its way/.test(
          (e.data as { msg?: string }).msg ?? "",
        ),
      ),
  );
  assert.equal((await post("agent-0", { enter: false })).json().state, "exiting");
  const refused = await post("agent-1", { enter: true });
  assert.equal(refused.statusCode, 409);
  assert.deepEqual(refused.json(), {
    error: "SDS sds0 of PD pd1 is already in maintenance",
    code: "MAINTENANCE_REFUSED",
  });
  assert.equal((await post("agent-9", { enter: true })).statusCode, 404);
  for (const bad of [{}, { enter: "yes" }, { enter: true, force: true }])
    assert.equal((await post("agent-0", bad)).statusCode, 400, JSON.stringify(bad));
  assert.equal((await post("agent-0", { enter: true }, {})).statusCode, 401);
  // The node's maintenance shows on /v1/nodes.
  const node = (await f.app.inject({ url: "/v1/nodes/agent-0" })).json();
  assert.deepEqual(node.maintenance, { state: "in", by: "operator", since: 1 });
  assert.equal((await f.app.inject({ url: "/v1/nodes/agent-1" })).json().maintenance, undefined);
  assert.deepEqual(platform.asked, [
    ["agent-0", true],
    ["agent-0", false],
    ["agent-1", true],
  ]);
});

test("a platform without maintenance: 501", async () => {
  const f = await operatorFixture();
  fixtures.push(f);
  const r = await f.app.inject({
    method: "POST",
    url: "/v1/nodes/agent-0/maintenance",
    headers: auth(),
    payload: { enter: true },
  });
  assert.equal(r.statusCode, 501);
});
