// /openapi.json is a valid OpenAPI 3.1 document and describes exactly the routes the server
// registers (both ways), so neither can drift from the other.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { Validator } from "@seriousme/openapi-schema-validator";
import { operatorFixture, type OperatorFixture } from "../../support/operator-fixture.js";

const fixtures: OperatorFixture[] = [];
after(async () => {
  for (const f of fixtures) await f.close();
});

/** "METHOD /path" of every documented operation, and those only some servers have. */
function documentedRoutes(doc: { paths: Record<string, Record<string, Record<string, unknown>>> }) {
  const all = new Set<string>();
  const zkOnly = new Set<string>();
  for (const [path, item] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(item)) {
      const route = `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ":$1")}`;
      all.add(route);
      if (op["x-only-with"] === "zookeeper-state") zkOnly.add(route);
    }
  return { all, zkOnly };
}

/** The routes a server registered, without fastify's HEAD twins and the web UI's files. */
const apiRoutes = (f: OperatorFixture) =>
  new Set(f.routes.filter((r) => !r.startsWith("HEAD ") && !/^GET \/(ui(\/.*)?)?$/.test(r)));

test("the OpenAPI document validates and matches the registered routes", async () => {
  const f = await operatorFixture();
  fixtures.push(f);
  const doc = (await f.app.inject({ url: "/openapi.json" })).json();
  const result = await new Validator().validate(doc);
  assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
  assert.equal(doc.openapi, "3.1.0");

  const { all: documented, zkOnly } = documentedRoutes(doc);
  const registered = apiRoutes(f);
  assert.ok(registered.size > 10, "the server registered its routes");
  const missingInDoc = [...registered].filter((r) => !documented.has(r));
  const missingInServer = [...documented].filter((r) => !registered.has(r));
  assert.deepEqual(missingInDoc, [], "routes the document does not describe");
  // With the state in a directory, only what is documented as ZooKeeper-only is absent.
  assert.deepEqual(missingInServer, [...zkOnly], "documented routes the server does not have");
});

test("with the state in ZooKeeper (a leader election) the server has every documented route", async () => {
  const f = await operatorFixture({
    server: { leader: { view: () => ({ leader: true, current: undefined }) } },
  });
  fixtures.push(f);
  const doc = (await f.app.inject({ url: "/openapi.json" })).json();
  const { all: documented, zkOnly } = documentedRoutes(doc);
  assert.deepEqual([...zkOnly], ["GET /v1/leader"]);
  const registered = apiRoutes(f);
  assert.deepEqual(
    [...registered].filter((r) => !documented.has(r)),
    [],
    "routes the document does not describe",
  );
  assert.deepEqual(
    [...documented].filter((r) => !registered.has(r)),
    [],
    "documented routes the server does not have",
  );
  const leader = await f.app.inject({ url: "/v1/leader" });
  assert.equal(leader.statusCode, 200);
  assert.deepEqual(Object.keys(leader.json()).sort(), ["api", "id", "leader", "pid", "since"]);
});
