// GET /v1/nodes and GET /v1/plans/{id} with filters (issue 20): pages with a `next` cursor,
// the unparameterised answers unchanged, hostnames on agents' steps, and 400s that say
// which parameter is wrong.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { operatorFixture, type OperatorFixture } from "../../support/operator-fixture.js";
import { waitUntil } from "../../support/wait.js";

const fixtures: OperatorFixture[] = [];
after(async () => {
  for (const f of fixtures) await f.close();
});

test("nodes: without parameters as before; with them paged, filtered, in natural order", async () => {
  const f = await operatorFixture({ agents: 11 });
  fixtures.push(f);
  const get = async (url: string) => (await f.app.inject({ url })).json();
  await waitUntil(() => f.view.nodes().every((n) => n.steps[0]?.status === "IN_PROGRESS"));
  const plain = await get("/v1/nodes");
  assert.deepEqual(Object.keys(plain), ["nodes"]);
  assert.deepEqual(plain.nodes, f.view.nodes(), "the whole list, as it was");
  assert.equal(plain.nodes[2].hostname, "host-10", "the registry's text order, as before");

  const p1 = await get("/v1/nodes?limit=4");
  assert.deepEqual(
    p1.nodes.map((n: { hostname: string }) => n.hostname),
    ["host-0", "host-1", "host-2", "host-3"],
  );
  assert.deepEqual(p1.nodes[0], plain.nodes[0], "a node has the same shape paged");
  let cursor = p1.next as string;
  const all = [...p1.nodes];
  while (cursor) {
    const pg = await get(`/v1/nodes?limit=4&cursor=${encodeURIComponent(cursor)}`);
    all.push(...pg.nodes);
    cursor = pg.next;
  }
  assert.equal(all.at(-1).hostname, "host-10");
  assert.equal(all.length, 11);

  f.platform.release("agent-7");
  await waitUntil(async () => (await get("/v1/nodes?status=ok")).nodes.length === 1);
  const ok = await get("/v1/nodes?status=ok&q=HOST-7");
  assert.deepEqual(ok, { nodes: [{ ...ok.nodes[0], hostname: "host-7" }] }, "no next: one page");
  const st = await get("/v1/nodes?sort=status&status=ok,in-progress&limit=11");
  assert.equal(st.nodes.at(-1).hostname, "host-7");
});

test("nodes: bad parameters are 400 and say what is wrong", async () => {
  const f = await operatorFixture();
  fixtures.push(f);
  const bad = async (qs: string, what: RegExp) => {
    const r = await f.app.inject({ url: `/v1/nodes?${qs}` });
    assert.equal(r.statusCode, 400, qs);
    assert.match(r.json().error, what, qs);
  };
  await bad("status=broken", /^bad query: status: takes error, lost, in-progress, ok/);
  await bad("sort=size", /^bad query: sort: takes hostname or status/);
  await bad("limit=0", /limit: at least 1/);
  await bad("limit=ten", /limit: takes a whole number/);
  await bad("limit=5000", /limit: at most 1000/);
  await bad("q=", /q: must not be empty/);
  await bad("q=a&q=b", /q: given more than once/);
  await bad("colour=red", /unknown parameter colour/);
  await bad("cursor=garbage", /bad cursor/);
  const c = (await f.app.inject({ url: "/v1/nodes?limit=1" })).json().next as string;
  await bad(`sort=status&cursor=${c}`, /pages sort=hostname/);
});

test("a plan filtered by status and agent: matching steps, with hostnames; 400 and 404", async () => {
  const f = await operatorFixture({ agents: 3 });
  fixtures.push(f);
  const get = (url: string) => f.app.inject({ url });
  await waitUntil(() => f.view.nodes().every((n) => n.steps[0]?.status === "IN_PROGRESS"));
  f.platform.release("agent-1");
  await waitUntil(() => f.view.node("agent-1")!.steps[0]!.status === "COMPLETE");
  const whole = (await get("/v1/plans/deploy")).json();
  assert.equal(whole.phases[0].steps[1].hostname, "host-1", "hostnames on agents' steps");
  assert.equal(whole.phases[1].steps[0].hostname, undefined, "none on the cluster's step");
  const done = (await get("/v1/plans/deploy?status=complete")).json();
  assert.deepEqual(done.progress, whole.progress, "the whole plan's counts");
  assert.equal(done.status, whole.status);
  assert.deepEqual(
    done.phases.map((p: { id: string; steps: { id: string }[] }) => [
      p.id,
      p.steps.map((s) => s.id),
    ]),
    [
      ["install", ["install/agent-1"]],
      ["verify", []],
    ],
  );
  const host = (await get("/v1/plans/deploy?agent=host-2&status=IN_PROGRESS,ERROR")).json();
  assert.deepEqual(
    host.phases[0].steps.map((s: { hostname: string }) => s.hostname),
    ["host-2"],
  );
  const r = await get("/v1/plans/deploy?status=DONE");
  assert.equal(r.statusCode, 400);
  assert.match(r.json().error, /^bad query: status: takes PENDING, IN_PROGRESS, COMPLETE, ERROR/);
  assert.equal((await get("/v1/plans/deploy?phase=x")).statusCode, 400);
  const nope = await get("/v1/plans/nope?status=ERROR");
  assert.equal(nope.statusCode, 404);
  assert.match(nope.json().error, /no plan 'nope'/);
});
