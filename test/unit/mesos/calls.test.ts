// Every scheduler call helper produces the JSON of reference section 3.5.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as calls from "../../../src/mesos/scheduler/calls.js";
import { MesosProtocolError } from "../../../src/mesos/errors.js";
import { SCHEDULER_CALL_TYPES, bodyKey } from "../../../src/mesos/types/scheduler.js";

const A = { value: "m-S3" };

test("one helper per call type, each with its body under the lower-case key", () => {
  const built = [
    calls.subscribe({ user: "root", name: "fw" }, []),
    calls.teardown(),
    calls.accept(["o1"], []),
    calls.decline(["o1"]),
    calls.acceptInverseOffers(["io1"]),
    calls.declineInverseOffers(["io1"]),
    calls.revive(),
    calls.kill("t1"),
    calls.shutdown("e1", "m-S3"),
    calls.acknowledge({
      task_id: { value: "t1" },
      agent_id: A,
      state: "TASK_RUNNING",
      uuid: "mz5afCHQT26KGyw9Tl9gcQ==",
    }),
    calls.acknowledgeOperationStatus("m-S3", "op1", "Jx2b9Q0hTwOqv8z1mRk4aA=="),
    calls.reconcile(),
    calls.reconcileOperations(),
    calls.message("m-S3", "e1", Buffer.from("hi")),
    calls.request([]),
    calls.suppress(),
    calls.updateFramework({ user: "root", name: "fw" }),
  ];
  assert.deepEqual(built.map((c) => c.type).sort(), [...SCHEDULER_CALL_TYPES].sort());
  for (const c of built) {
    if (c.type === "TEARDOWN" || c.type === "REVIVE" || c.type === "SUPPRESS") continue;
    assert.ok(bodyKey(c.type) in c, `${c.type} must carry its body object`);
  }
});

test("shapes match the reference examples", () => {
  assert.deepEqual(calls.decline([{ value: "o118" }, "o119"], { refuse_seconds: 300 }), {
    type: "DECLINE",
    decline: {
      offer_ids: [{ value: "o118" }, { value: "o119" }],
      filters: { refuse_seconds: 300 },
    },
  });
  assert.deepEqual(calls.revive(["storage"]), { type: "REVIVE", revive: { roles: ["storage"] } });
  assert.deepEqual(calls.suppress(["storage"]), {
    type: "SUPPRESS",
    suppress: { roles: ["storage"] },
  });
  assert.deepEqual(calls.kill("bs-1", "m-S3", { grace_period: { nanoseconds: 30000000000 } }), {
    type: "KILL",
    kill: {
      task_id: { value: "bs-1" },
      agent_id: A,
      kill_policy: { grace_period: { nanoseconds: 30000000000 } },
    },
  });
  assert.deepEqual(calls.reconcile([{ taskId: "bs-1", agentId: "m-S3" }, { taskId: "bs-2" }]), {
    type: "RECONCILE",
    reconcile: {
      tasks: [{ task_id: { value: "bs-1" }, agent_id: A }, { task_id: { value: "bs-2" } }],
    },
  });
  assert.deepEqual(calls.reconcile(), { type: "RECONCILE", reconcile: { tasks: [] } });
  assert.deepEqual(
    calls.acknowledgeOperationStatus("m-S3", "reserve-1", "Jx2b9Q0hTwOqv8z1mRk4aA=="),
    {
      type: "ACKNOWLEDGE_OPERATION_STATUS",
      acknowledge_operation_status: {
        agent_id: A,
        operation_id: { value: "reserve-1" },
        uuid: "Jx2b9Q0hTwOqv8z1mRk4aA==",
      },
    },
  );
  assert.deepEqual(calls.message("m-S3", "e1", "cmViYWxhbmNl"), {
    type: "MESSAGE",
    message: { agent_id: A, executor_id: { value: "e1" }, data: "cmViYWxhbmNl" },
  });
  assert.deepEqual(calls.message("m-S3", "e1", Buffer.from("rebalance")).type, "MESSAGE");
  assert.equal(
    (calls.message("m-S3", "e1", Buffer.from("rebalance")) as { message: { data: string } }).message
      .data,
    "cmViYWxhbmNl",
  );
  assert.deepEqual(calls.shutdown("e1", "m-S3"), {
    type: "SHUTDOWN",
    shutdown: { executor_id: { value: "e1" }, agent_id: A },
  });
  assert.deepEqual(calls.updateFramework({ user: "u", name: "n", id: { value: "f" } }, ["r"]), {
    type: "UPDATE_FRAMEWORK",
    update_framework: {
      framework_info: { user: "u", name: "n", id: { value: "f" } },
      suppressed_roles: ["r"],
    },
  });
});

test("acknowledge refuses updates that must not be acknowledged", () => {
  const base = { task_id: { value: "t1" }, agent_id: A, state: "TASK_LOST" as const };
  assert.throws(() => calls.acknowledge(base), MesosProtocolError);
  assert.throws(() => calls.acknowledge({ ...base, uuid: "aGVsbG8=" }), /16 bytes/);
  assert.throws(
    () =>
      calls.acknowledge({
        task_id: { value: "t1" },
        state: "TASK_RUNNING",
        uuid: "mz5afCHQT26KGyw9Tl9gcQ==",
      }),
    /agent_id/,
  );
});
