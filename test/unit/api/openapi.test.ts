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

test("the OpenAPI document validates and matches the registered routes", async () => {
  const f = await operatorFixture();
  fixtures.push(f);
  const doc = (await f.app.inject({ url: "/openapi.json" })).json();
  const result = await new Validator().validate(doc);
  assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
  assert.equal(doc.openapi, "3.1.0");

  const documented = new Set<string>();
  for (const [path, item] of Object.entries(doc.paths as Record<string, object>))
    for (const method of Object.keys(item))
      documented.add(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ":$1")}`);
  // HEAD twins of GET routes are fastify's; the web UI's static files are not API routes.
  const registered = new Set(
    f.routes.filter((r) => !r.startsWith("HEAD ") && !/^GET \/(ui(\/.*)?)?$/.test(r)),
  );
  assert.ok(registered.size > 10, "the server registered its routes");
  const missingInDoc = [...registered].filter((r) => !documented.has(r));
  const missingInServer = [...documented].filter((r) => !registered.has(r));
  assert.deepEqual(missingInDoc, [], "routes the document does not describe");
  assert.deepEqual(missingInServer, [], "documented routes the server does not have");
});
