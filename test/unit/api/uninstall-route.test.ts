// POST /v1/uninstall: the token is needed, the body is {confirm, destroyData?}, confirm must
// be the framework's name (400 CONFIRMATION_MISMATCH), a refusal answers its status and
// stable code (409 VOLUMES_EXIST), an accepted request is 202 with an event; GET says how far.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { auth, operatorFixture, type OperatorFixture } from "../../support/operator-fixture.js";
import type { UninstallRecord } from "../../../src/framework/uninstall.js";

const fixtures: OperatorFixture[] = [];
after(async () => {
  for (const f of fixtures) await f.close();
});

class FakeUninstaller {
  asked: boolean[] = [];
  volumes = true;
  async request(o: { destroyData: boolean }): Promise<UninstallRecord> {
    this.asked.push(o.destroyData);
    if (this.volumes && !o.destroyData)
      throw Object.assign(new Error("1 volume(s) exist (pg): remove them first"), {
        statusCode: 409,
        code: "VOLUMES_EXIST",
      });
    return { phase: "teardown", destroyData: o.destroyData, planId: "teardown", startedAt: 1 };
  }
  status() {
    return { state: this.asked.length ? ("teardown" as const) : ("none" as const) };
  }
}

test("uninstall: 401 without token, 400 bad body or confirmation, 409 with code, 202 and an event", async () => {
  const u = new FakeUninstaller();
  const f = await operatorFixture({ server: { uninstall: u } });
  fixtures.push(f);
  const post = (payload: unknown, headers: Record<string, string> = auth()) =>
    f.app.inject({ method: "POST", url: "/v1/uninstall", headers, payload: payload as object });

  assert.equal((await post({ confirm: "scaleio-test" }, {})).statusCode, 401);
  assert.equal((await post({})).statusCode, 400);
  assert.equal((await post({ confirm: "scaleio-test", destroyData: "yes" })).statusCode, 400);
  assert.equal((await post({ confirm: "scaleio-test", extra: 1 })).statusCode, 400);
  const wrong = await post({ confirm: "scaleio" });
  assert.equal(wrong.statusCode, 400);
  assert.equal(wrong.json().code, "CONFIRMATION_MISMATCH");
  assert.match(wrong.json().error, /'scaleio-test'/);
  assert.deepEqual(u.asked, [], "nothing asked of the uninstaller yet");

  const refused = await post({ confirm: "scaleio-test" });
  assert.equal(refused.statusCode, 409);
  assert.deepEqual(refused.json(), {
    error: "1 volume(s) exist (pg): remove them first",
    code: "VOLUMES_EXIST",
  });
  const ok = await post({ confirm: "scaleio-test", destroyData: true });
  assert.equal(ok.statusCode, 202, ok.body);
  assert.deepEqual(ok.json(), { accepted: true, planId: "teardown", destroyData: true });
  assert.ok(
    f.view.events
      .recent(5)
      .some((e) =>
        /operator asked to uninstall, destroying volumes/.test(
          (e.data as { msg?: string }).msg ?? "",
        ),
      ),
  );
  assert.deepEqual((await f.app.inject({ url: "/v1/uninstall" })).json(), { state: "teardown" });
});

test("uninstall without an uninstaller: 501 with a code; GET says none", async () => {
  const f = await operatorFixture();
  fixtures.push(f);
  const r = await f.app.inject({
    method: "POST",
    url: "/v1/uninstall",
    headers: auth(),
    payload: { confirm: "scaleio-test" },
  });
  assert.equal(r.statusCode, 501);
  assert.equal(r.json().code, "UNINSTALL_UNSUPPORTED");
  assert.deepEqual((await f.app.inject({ url: "/v1/uninstall" })).json(), { state: "none" });
});
