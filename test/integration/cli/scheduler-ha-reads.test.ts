// Two real scheduler processes sharing a ZooKeeper state store: the standby answers the
// operator's reads (plans, a plan, nodes) from the copy of the leader's views in the store,
// marked as a standby's copy with its age and the leader's URL; changes still get a 503 with
// the leader's URL. The leader killed, the standby answers from its copy until it leads,
// then from its own engine.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { startDevCluster, type DevCluster } from "../../../sim/mesos/index.js";
import { ZooKeeperServer } from "../../support/zookeeper.js";
import { waitUntil, withDeadline } from "../../support/wait.js";
import {
  killAll,
  requestJson as get,
  startZkScheduler,
  sigterm,
  type JsonAnswer as Answer,
} from "../../support/cli-process.js";

const SESSION_MS = 4000;
let cluster: DevCluster | undefined;
let zk: ZooKeeperServer | undefined;
after(async () => {
  killAll();
  await cluster?.stop();
  await zk?.destroy();
});

const startScheduler = (master: string, state: string) =>
  startZkScheduler(master, state, SESSION_MS);

type Plans = { plans: { id: string; phases: { id: string; steps: { id: string }[] }[] }[] };
/** Plans by id, each with its phases' step ids: what a copy a second old still has right. */
const shape = (b: Plans) =>
  b.plans.map((p) => ({
    id: p.id,
    phases: p.phases.map((ph) => [ph.id, ph.steps.map((s) => s.id)]),
  }));

test(
  "a standby answers GET /v1/plans, a plan and the nodes with the leader's, from the store",
  { timeout: 180_000 },
  async () => {
    zk = await ZooKeeperServer.start();
    cluster = await startDevCluster({
      agents: 3,
      master: { heartbeatIntervalMs: 500, allocationIntervalMs: 100 },
    });
    const state = zk.zkUrl("/scaleio-framework-ha-reads");
    const a = await startScheduler(cluster.masterUrl, state);
    // A standby's /health is 200 too, and the port is handed over on election: the role.
    await waitUntil(
      async () => {
        const h = await get(`${a.api}/health`).catch(() => undefined);
        return h?.status === 200 && h.body.role === "leader";
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    ).catch((err: Error) => {
      throw new Error(
        `${err.message}: the first scheduler leads (stderr: ${a.err().slice(-2000)})`,
      );
    });
    // Three agents: enough for the managers, so the leader has a deploy plan.
    await waitUntil(
      async () => {
        const b = (await get(`${a.api}/v1/nodes`)).body as { nodes?: unknown[] };
        return b.nodes?.length === 3;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: "the leader knows the three agents" },
    ).catch((err: Error) => {
      throw new Error(`${err.message} (leader's stderr: ${a.err().slice(-3000)})`);
    });
    const b = await startScheduler(cluster.masterUrl, state);
    await waitUntil(async () => (await get(`${b.api}/v1/leader`)).body.api === a.api, {
      timeoutMs: 15_000,
      what: "the standby knows the leader",
    });

    // The standby's plans are the leader's (statuses may lag by the copy's age: the ids,
    // phases and steps must be the same).
    let copy: Answer | undefined;
    let leaders: Plans | undefined;
    const same = async () => {
      copy = await get(`${b.api}/v1/plans`);
      leaders = (await get(`${a.api}/v1/plans`)).body as unknown as Plans;
      return (
        copy.status === 200 &&
        leaders.plans.length > 0 &&
        JSON.stringify(shape(copy.body as unknown as Plans)) === JSON.stringify(shape(leaders))
      );
    };
    await waitUntil(same, { timeoutMs: 30_000, intervalMs: 250 }).catch((err: Error) => {
      const show = (x: unknown) => String(JSON.stringify(x)).slice(0, 1000);
      throw new Error(
        `${err.message}: the standby's plans (${show(copy?.body)}) as the leader's (${show(leaders)})`,
      );
    });
    assert.equal(copy!.headers.get("x-served-by"), "standby");
    assert.equal(copy!.headers.get("x-leader"), a.api);
    const ageMs = Number(copy!.headers.get("x-view-age-ms"));
    assert.ok(Number.isInteger(ageMs) && ageMs >= 0 && ageMs < 15_000, `age ${ageMs} ms`);
    assert.equal(copy!.headers.get("age"), String(Math.floor(ageMs / 1000)));
    assert.equal((await get(`${a.api}/v1/plans`)).headers.get("x-served-by"), null);

    // One plan, and the nodes, as the leader has them.
    const planId = leaders!.plans[0]!.id;
    const one = await get(`${b.api}/v1/plans/${encodeURIComponent(planId)}`);
    assert.equal(one.status, 200);
    assert.equal(one.body.id, planId);
    assert.equal((await get(`${b.api}/v1/plans/no-such-plan`)).status, 404);
    const nodes = (await get(`${b.api}/v1/nodes`)).body as { nodes: { agentId: string }[] };
    const leaderNodes = (await get(`${a.api}/v1/nodes`)).body as { nodes: { agentId: string }[] };
    assert.deepEqual(
      nodes.nodes.map((n) => n.agentId),
      leaderNodes.nodes.map((n) => n.agentId),
    );
    const paged = await get(`${b.api}/v1/nodes?limit=1`);
    assert.equal((paged.body.nodes as unknown[]).length, 1);
    assert.equal(typeof paged.body.next, "string");

    // Changes still go to the leader.
    const post = await get(`${b.api}/v1/plans/${encodeURIComponent(planId)}/pause`, {
      method: "POST",
    });
    assert.equal(post.status, 503);
    const refusal = post.body;
    assert.equal(refusal.code, "NOT_LEADER");
    assert.equal(refusal.leader, a.api);

    // The leader dies: the standby leads and answers from its own engine.
    a.child.kill("SIGKILL");
    await withDeadline(a.exited, 10_000, "the leader's exit");
    // Until ZooKeeper expires the dead leader's session, the standby still answers reads
    // from its copy.
    const during = await get(`${b.api}/v1/plans`);
    assert.equal(during.status, 200);
    assert.equal(during.headers.get("x-served-by"), "standby");
    // Its port is handed from the standby's server to the leader's: a refused connection
    // meanwhile is a "not yet".
    await waitUntil(
      async () => {
        const r = await get(`${b.api}/v1/plans`).catch(() => undefined);
        return r?.status === 200 && r.headers.get("x-served-by") === null;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    ).catch((err: Error) => {
      throw new Error(
        `${err.message}: the new leader answers itself (stderr: ${b.err().slice(-2000)})`,
      );
    });
    assert.equal((await get(`${b.api}/v1/leader`)).body.leader, true);
    // (Its exit code is scheduler-ha.test.ts's business: this one is about reads.)
    assert.equal(await sigterm(b, "the new leader's exit"), 0);
  },
);
