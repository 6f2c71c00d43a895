// A standby's API: alive with its role, says who leads, and sends everything else to the
// leader with a 503 naming it (reads guarded by the token when reads are protected).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Secret } from "../../../src/common/secret.js";
import type { LeaderView } from "../../../src/ha/elector.js";
import { buildStandbyServer, NOT_LEADER } from "../../../src/ha/standby-server.js";

const leading: LeaderView = {
  leader: false,
  current: { id: "a", pid: 42, api: "http://127.0.0.2:8080", since: "2026-12-03T16:00:00.000Z" },
};

test("a standby answers /health with its role, /v1/leader with the leader, changes with 503 and the leader's URL", async () => {
  let view: LeaderView = { leader: false, current: undefined };
  const app = buildStandbyServer({ version: "1.2.3", election: { view: () => view } });
  try {
    const h = await app.inject({ url: "/health" });
    assert.equal(h.statusCode, 200);
    assert.equal(h.json().role, "standby");
    const none = await app.inject({ method: "POST", url: "/v1/plans/deploy/pause" });
    assert.equal(none.statusCode, 503);
    assert.equal(none.json().leader, null);
    assert.match(none.json().error, /not known yet: none elected, or not read yet/);

    view = leading;
    assert.deepEqual((await app.inject({ url: "/v1/leader" })).json(), {
      leader: false,
      id: "a",
      pid: 42,
      api: "http://127.0.0.2:8080",
      since: "2026-12-03T16:00:00.000Z",
    });
    const post = await app.inject({ method: "POST", url: "/v1/uninstall", payload: {} });
    assert.equal(post.statusCode, 503);
    assert.equal(post.json().code, NOT_LEADER);
    assert.equal(post.json().leader, "http://127.0.0.2:8080");
    assert.match(
      post.json().error,
      /POST \/v1\/uninstall to the leader at http:\/\/127\.0\.0\.2:8080/,
    );
    assert.equal((await app.inject({ url: "/v1/plans" })).statusCode, 503);
    assert.equal((await app.inject({ url: "/version" })).json().versionstr, "1.2.3");
  } finally {
    await app.close();
  }
});

test("with protected reads, /v1/leader needs the token", async () => {
  const app = buildStandbyServer({
    version: "1.2.3",
    election: { view: () => leading },
    apiToken: new Secret("tok-123456789", "api token"),
    protectReads: true,
  });
  try {
    assert.equal((await app.inject({ url: "/v1/leader" })).statusCode, 401);
    const ok = await app.inject({
      url: "/v1/leader",
      headers: { authorization: "Bearer tok-123456789" },
    });
    assert.equal(ok.statusCode, 200);
  } finally {
    await app.close();
  }
});
