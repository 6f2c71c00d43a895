// The alert webhook: condition changes arrive at a receiver as Alertmanager's webhook payload
// (version 4), in order; a receiver that is away gets the post again with backoff, one that
// refuses it is not asked again; the health monitor is never held up; no secret leaves.
import { test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import {
  AlertWebhook,
  alertmanagerPayload,
  type WebhookPayload,
} from "../../../src/framework/health/alert-webhook.js";
import type { ConditionChange } from "../../../src/framework/health/types.js";
import { waitUntil } from "../../support/wait.js";

const T0 = Date.parse("2024-05-01T10:00:00Z");
const raised: ConditionChange = {
  kind: "raised",
  condition: {
    type: "CapacityAlmostFull",
    severity: "warning",
    object: "pool/pd/p1",
    message: "pool pd/p1 is 85 % used",
    since: T0,
  },
};
const cleared: ConditionChange = { ...raised, kind: "cleared" };

async function receiver(answer: (n: number, req: IncomingMessage, res: ServerResponse) => void) {
  const got: WebhookPayload[] = [];
  let n = 0;
  const srv = createServer((req, res) => {
    let b = "";
    req.on("data", (d: Buffer) => (b += d.toString()));
    req.on("end", () => {
      n++;
      got.push(JSON.parse(b) as WebhookPayload);
      answer(n, req, res);
    });
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/alerts`,
    got,
    requests: () => n,
    close: () => new Promise<void>((r) => srv.close(() => r())),
  };
}

function webhook(url: string, over: Partial<ConstructorParameters<typeof AlertWebhook>[0]> = {}) {
  const warnings: string[] = [];
  const hook = new AlertWebhook({
    url,
    receiver: "storage",
    externalURL: () => "http://127.0.0.1:8080",
    labels: { cluster: "scaleio" },
    logger: { warn: (o, m) => warnings.push(`${m} ${JSON.stringify(o)}`) },
    backoff: { initialMs: 10, maxMs: 40 },
    now: () => T0 + 60_000,
    ...over,
  });
  return { hook, warnings };
}

test("the payload is Alertmanager's webhook v4: firing, then resolved with its end", () => {
  const o = { receiver: "storage", externalURL: "http://x:1", labels: { cluster: "c" } };
  const p = alertmanagerPayload([raised], { ...o, now: T0 + 1000 });
  assert.equal(p.version, "4");
  assert.equal(p.status, "firing");
  assert.equal(p.receiver, "storage");
  assert.equal(p.externalURL, "http://x:1");
  assert.deepEqual(p.alerts[0]!.labels, {
    cluster: "c",
    alertname: "CapacityAlmostFull",
    severity: "warning",
    object: "pool/pd/p1",
  });
  assert.deepEqual(p.commonLabels, p.alerts[0]!.labels);
  assert.equal(p.alerts[0]!.annotations.summary, "pool pd/p1 is 85 % used");
  assert.equal(p.alerts[0]!.startsAt, "2024-05-01T10:00:00.000Z");
  assert.equal(p.alerts[0]!.endsAt, "0001-01-01T00:00:00Z");
  assert.equal(p.alerts[0]!.generatorURL, "http://x:1/v1/health");
  assert.match(p.alerts[0]!.fingerprint, /^[0-9a-f]{16}$/);

  const r = alertmanagerPayload([cleared], { ...o, now: T0 + 1000 });
  assert.equal(r.status, "resolved");
  assert.equal(r.alerts[0]!.endsAt, "2024-05-01T10:00:01.000Z");
  assert.equal(r.alerts[0]!.fingerprint, p.alerts[0]!.fingerprint, "the same alert");

  const changed: ConditionChange = {
    kind: "changed",
    previous: "warning",
    condition: { ...raised.condition, severity: "critical" },
  };
  const lost: ConditionChange = {
    kind: "raised",
    condition: {
      type: "AgentLost",
      severity: "warning",
      object: "agent/h1",
      message: "lost",
      since: T0,
    },
  };
  const m = alertmanagerPayload([changed, lost], { ...o, now: T0 });
  assert.equal(m.status, "firing", "firing while any alert fires");
  assert.deepEqual(m.commonLabels, { cluster: "c" });
  // The severity is a label: the warning alert ends, the critical one begins.
  assert.deepEqual(
    m.alerts.map((a) => `${a.status} ${a.labels.alertname} ${a.labels.severity}`),
    [
      "resolved CapacityAlmostFull warning",
      "firing CapacityAlmostFull critical",
      "firing AgentLost warning",
    ],
  );
  assert.equal(m.alerts[0]!.fingerprint, p.alerts[0]!.fingerprint, "the warning alert ends");
  assert.notEqual(m.alerts[1]!.fingerprint, p.alerts[0]!.fingerprint);
  assert.match(m.alerts[1]!.annotations.description!, /critical now \(was warning\)/);
});

test("changes are posted in order, without holding up the emitter", async () => {
  const rx = await receiver((_n, _req, res) => res.writeHead(200).end());
  const monitor = new EventEmitter();
  const { hook } = webhook(rx.url);
  hook.start(monitor);
  try {
    const t = process.hrtime.bigint();
    monitor.emit("change", [raised]);
    monitor.emit("change", [cleared]);
    assert.ok(process.hrtime.bigint() - t < 50_000_000n, "emit returns at once");
    await waitUntil(() => hook.delivered === 2, { timeoutMs: 5000, what: "two posts" });
    assert.deepEqual(
      rx.got.map((p) => p.status),
      ["firing", "resolved"],
    );
  } finally {
    await hook.stop();
    await rx.close();
  }
});

test("a receiver that is away gets the post again; one that refuses it is not asked again", async () => {
  const rx = await receiver((n, _req, res) => res.writeHead(n <= 2 ? 503 : 200).end());
  const { hook, warnings } = webhook(rx.url);
  try {
    hook.enqueue([raised]);
    await waitUntil(() => hook.delivered === 1, { timeoutMs: 5000, what: "the post delivered" });
    assert.equal(rx.requests(), 3, "two failures, then delivered");
    assert.deepEqual(warnings, []);
  } finally {
    await hook.stop();
    await rx.close();
  }

  const refusing = await receiver((_n, _req, res) => res.writeHead(400).end("bad"));
  const r2 = webhook(refusing.url);
  try {
    r2.hook.enqueue([raised]);
    r2.hook.enqueue([cleared]);
    await waitUntil(() => r2.hook.dropped === 2, { timeoutMs: 5000, what: "both given up" });
    assert.equal(refusing.requests(), 2, "a 400 is not retried");
    assert.match(r2.warnings[0]!, /post given up .*HTTP 400/);
  } finally {
    await r2.hook.stop();
    await refusing.close();
  }
});

test("a receiver that never answers is given up after the attempts; nothing waits forever", async () => {
  const rx = await receiver(() => {
    /* never answers */
  });
  const { hook, warnings } = webhook(rx.url, { timeoutMs: 100, attempts: 2 });
  try {
    hook.enqueue([raised]);
    await waitUntil(() => hook.dropped === 1, { timeoutMs: 5000, what: "the post given up" });
    assert.equal(rx.requests(), 2);
    assert.match(warnings[0]!, /post given up/);
    assert.doesNotMatch(warnings[0]!, /127\.0\.0\.1:\d+\/alerts\?/);
  } finally {
    await hook.stop();
    await rx.close();
  }
});

test("the queue is bounded and no secret leaves", async () => {
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => (release = r));
  const rx = await receiver((_n, _req, res) => void gate.then(() => res.writeHead(200).end()));
  const secret = "Adm1n-S3cret";
  const { hook, warnings } = webhook(rx.url, {
    maxQueue: 2,
    redact: (t) => t.split(secret).join("[redacted]"),
  });
  try {
    const leaky: ConditionChange = {
      ...raised,
      condition: { ...raised.condition, message: `login with ${secret} refused` },
    };
    hook.enqueue([leaky]); // in flight
    await waitUntil(() => rx.requests() === 1, { timeoutMs: 5000, what: "the first post" });
    for (let i = 0; i < 4; i++) hook.enqueue([raised]);
    assert.equal(hook.dropped, 2, "beyond two waiting, the oldest go");
    assert.match(warnings[0]!, /too many posts waiting/);
    release();
    await waitUntil(() => hook.delivered === 3, { timeoutMs: 5000, what: "the rest posted" });
    assert.equal(rx.got[0]!.alerts[0]!.annotations.summary, "login with [redacted] refused");
    assert.ok(!JSON.stringify(rx.got).includes(secret));
  } finally {
    release();
    await hook.stop();
    await rx.close();
  }
});
