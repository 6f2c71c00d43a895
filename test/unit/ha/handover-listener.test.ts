// The listener a standby hands to its full API when elected: the socket stays open across
// the switch, a connection kept alive sends its next request to the new API, requests polled
// through the switch all get an answer, and a malformed request is answered once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import Fastify from "fastify";
import { Pool } from "undici";
import { HandoverListener } from "../../../src/ha/handover-listener.js";
import { DEFAULT_HTTP_LIMITS } from "../../../src/api/http-limits.js";

function app(name: string, listener: HandoverListener) {
  const turn = listener.adopt();
  const a = Fastify({ logger: false, serverFactory: turn.serverFactory });
  a.get("/who", async () => ({ name }));
  return { app: a, turn };
}

test("the socket stays open across the switch; kept-alive connections reach the new API", async () => {
  const listener = new HandoverListener({ limits: DEFAULT_HTTP_LIMITS });
  const standby = app("standby", listener);
  await standby.app.ready();
  standby.turn.activate();
  const port = await listener.listen("127.0.0.1", 0);
  let connections = 0;
  listener.server.on("connection", () => connections++);
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 1 });
  const leader = app("leader", listener);
  const who = async () => {
    const res = await pool.request({ path: "/who", method: "GET" });
    return ((await res.body.json()) as { name: string }).name;
  };
  try {
    assert.equal(await who(), "standby");
    // Requests back to back through the switch: every one answered, by one API or the other.
    const answers: string[] = [];
    let switched = false;
    const polling = (async () => {
      while (!switched || answers.at(-1) !== "leader") answers.push(await who());
    })();
    await leader.app.ready();
    leader.turn.activate();
    switched = true;
    await polling;
    assert.equal(answers.at(-1), "leader");
    assert.ok(answers.every((a) => a === "standby" || a === "leader"));
    assert.equal(connections, 1, "one connection, kept alive across the switch");
    // The standby instance closed: the listener is the leader's and it still serves.
    await standby.app.close();
    assert.equal(await who(), "leader");
  } finally {
    await pool.close();
    await listener.close();
  }
  assert.equal(listener.server.listening, false);
  await leader.app.close();
});

test("a malformed request is answered once (one API's error handler, not each one's)", async () => {
  const listener = new HandoverListener({ limits: DEFAULT_HTTP_LIMITS });
  const first = app("standby", listener);
  await first.app.ready();
  first.turn.activate();
  const second = app("leader", listener);
  await second.app.ready();
  second.turn.activate();
  const port = await listener.listen("127.0.0.1", 0);
  try {
    const answer = await new Promise<string>((resolve, reject) => {
      const sock = connect({ host: "127.0.0.1", port });
      let text = "";
      sock.on("data", (d) => (text += d.toString()));
      sock.on("close", () => resolve(text));
      sock.on("error", reject);
      sock.write("NOT HTTP AT ALL\r\n\r\n");
    });
    assert.equal(answer.match(/HTTP\/1\.1 400/g)?.length, 1, answer);
  } finally {
    await listener.close();
  }
});
