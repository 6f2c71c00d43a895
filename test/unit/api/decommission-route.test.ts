// POST /v1/nodes/{agentId}/decommission and /recommission: the token is needed, the body is
// {removeSdc?: boolean} (and {} to recommission), the platform decides: 202 with its answer
// and an event; a refusal answers with its status, code and figures (409 with the pools'
// room); 404 for an unknown agent; 501 when the platform cannot decommission.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import {
  auth,
  GatedPlatform,
  operatorFixture,
  type OperatorFixture,
} from "../../support/operator-fixture.js";
import {
  NodeRequestRefused,
  type DecommissionRequest,
} from "../../../src/framework/node-lifecycle.js";

class DecommissioningPlatform extends GatedPlatform {
  asked: string[] = [];
  async decommission(agentId: string, req: DecommissionRequest) {
    this.asked.push(`decommission ${agentId} ${req.removeClient}`);
    if (agentId === "agent-1")
      throw new NodeRequestRefused(
        409,
        "INSUFFICIENT_CAPACITY",
        "agent agent-1 (host-1) cannot be decommissioned: pool pd/sp: 2 fault units would remain; at least 3 are needed",
        { pools: [{ pool: "pd/sp", faultUnitsAfter: 2 }] },
      );
    return {
      planId: "decommission",
      phaseId: `node/${agentId}`,
      message: "decommissioning host-0",
    };
  }
  async recommission(agentId: string) {
    this.asked.push(`recommission ${agentId}`);
    if (agentId === "agent-1")
      throw new NodeRequestRefused(409, "NOT_DECOMMISSIONED", "agent-1 is not decommissioned");
  }
}

const fixtures: OperatorFixture[] = [];
after(async () => {
  for (const f of fixtures) await f.close();
});

test("decommission: 202 with the plan and an event; 409 with the code and the figures; 404; 400; 401", async () => {
  const platform = new DecommissioningPlatform();
  const f = await operatorFixture({ platform });
  fixtures.push(f);
  const post = (path: string, payload: unknown, headers: Record<string, string> = auth()) =>
    f.app.inject({ method: "POST", url: path, headers, payload: payload as object });
  const ok = await post("/v1/nodes/agent-0/decommission", { removeSdc: true });
  assert.equal(ok.statusCode, 202, ok.body);
  assert.deepEqual(ok.json(), {
    planId: "decommission",
    phaseId: "node/agent-0",
    message: "decommissioning host-0",
  });
  assert.ok(
    f.view.events
      .recent(5)
      .some((e) =>
        /operator asked to decommission host-0: decommissioning host-0/.test(
          (e.data as { msg?: string }).msg ?? "",
        ),
      ),
  );
  assert.equal((await post("/v1/nodes/agent-0/decommission", {})).statusCode, 202);
  const refused = await post("/v1/nodes/agent-1/decommission", {});
  assert.equal(refused.statusCode, 409);
  assert.deepEqual(refused.json(), {
    error:
      "agent agent-1 (host-1) cannot be decommissioned: pool pd/sp: 2 fault units would remain; at least 3 are needed",
    code: "INSUFFICIENT_CAPACITY",
    pools: [{ pool: "pd/sp", faultUnitsAfter: 2 }],
  });
  assert.equal((await post("/v1/nodes/agent-9/decommission", {})).statusCode, 404);
  for (const bad of [{ removeSdc: "yes" }, { removeSdc: true, force: true }, []])
    assert.equal(
      (await post("/v1/nodes/agent-0/decommission", bad)).statusCode,
      400,
      JSON.stringify(bad),
    );
  assert.equal((await post("/v1/nodes/agent-0/decommission", {}, {})).statusCode, 401);

  const back = await post("/v1/nodes/agent-0/recommission", {});
  assert.equal(back.statusCode, 202, back.body);
  assert.equal(back.json().accepted, true);
  const notOut = await post("/v1/nodes/agent-1/recommission", {});
  assert.equal(notOut.statusCode, 409);
  assert.equal(notOut.json().code, "NOT_DECOMMISSIONED");
  assert.equal((await post("/v1/nodes/agent-0/recommission", { x: 1 })).statusCode, 400);
  assert.equal((await post("/v1/nodes/agent-0/recommission", {}, {})).statusCode, 401);
  assert.deepEqual(platform.asked, [
    "decommission agent-0 true",
    "decommission agent-0 false",
    "decommission agent-1 false",
    "recommission agent-0",
    "recommission agent-1",
  ]);
});

test("a platform that cannot decommission: 501", async () => {
  const f = await operatorFixture();
  fixtures.push(f);
  for (const verb of ["decommission", "recommission"]) {
    const r = await f.app.inject({
      method: "POST",
      url: `/v1/nodes/agent-0/${verb}`,
      headers: auth(),
      payload: {},
    });
    assert.equal(r.statusCode, 501, verb);
  }
});
