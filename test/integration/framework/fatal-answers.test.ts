// The scheduler process against Mesos answers that retrying cannot fix: a --master that is
// not a Mesos master (404 on the scheduler API) and an ERROR "framework removed" end the
// process with one clear line on stderr and exit code 5, instead of a process that stays up
// answering /health with 503 forever. Malformed events before that do not disturb it.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ScriptedMaster, subscribedEvent } from "../../support/scripted-master.js";
import { waitUntil, withDeadline } from "../../support/wait.js";

const main = fileURLToPath(new URL("../../../src/cli/main.ts", import.meta.url));
const EXIT_MESOS_REFUSED = 5;
const FID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d-0042";

const children: ChildProcess[] = [];
const closers: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of children) c.kill("SIGKILL");
  for (const close of closers) await close().catch(() => undefined);
});

function scheduler(master: string) {
  const dir = mkdtempSync(join(tmpdir(), "sched-fatal-"));
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      main,
      "scheduler",
      "--master",
      master,
      "--state-dir",
      join(dir, "state"),
      "--api-address",
      "127.0.0.1",
      "--api-port",
      "0",
    ],
    {
      env: { ...process.env, SCALEIO_ADMIN_PASSWORD: "Fatal-Test-pw1" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  children.push(child);
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return { dir, child, out: () => out, err: () => err, exited };
}

/** The stderr lines that are not JSON log lines. */
function plainLines(text: string): string[] {
  return text.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("{"));
}

test(
  "a --master answering 404 on /api/v1/scheduler: one clear line and exit 5",
  { timeout: 60_000 },
  async () => {
    const server: Server = createServer((req, res) => {
      req.resume();
      res.writeHead(404, { "Content-Type": "text/html" });
      res.end(
        `<html><head><title>404 Not Found</title></head><body>${"<p>nope</p>".repeat(500)}</body></html>`,
      );
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    closers.push(() => new Promise((r) => server.close(r)));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const s = scheduler(url);
    const code = await withDeadline(s.exited, 45_000, "the scheduler to exit");
    assert.equal(code, EXIT_MESOS_REFUSED, s.err().slice(-2000));
    assert.deepEqual(plainLines(s.err()), [
      `scaleio-framework: ${url} is not a Mesos master: HTTP 404 on /api/v1/scheduler`,
    ]);
    assert.ok(!s.err().includes("<p>"), "no HTML in any line");
  },
);

test(
  "malformed events leave the process subscribed and healthy; ERROR 'framework removed' then ends it with exit 5",
  { timeout: 60_000 },
  async () => {
    const master = await ScriptedMaster.start();
    closers.push(() => master.close());
    const s = scheduler(master.url);
    const stream = master.openStream(await master.next("SUBSCRIBE", 45_000));
    stream.send([subscribedEvent(FID, 15), { type: "HEARTBEAT" }]);
    await waitUntil(() => /^api: http:\/\/127\.0\.0\.1:\d+$/m.test(s.out()), {
      timeoutMs: 30_000,
      what: "the api: line",
    });
    const api = /^api: (\S+)$/m.exec(s.out())![1]!;
    const healthy = async () => (await fetch(`${api}/health`)).status === 200;
    await waitUntil(healthy, { timeoutMs: 20_000, intervalMs: 100, what: "healthy" });
    stream.send([
      { type: "OFFERS", offers: { offers: "not an array" } },
      { type: "OFFERS", offers: { offers: [{ id: { value: "o1" }, hostname: "h" }] } },
      { type: "UPDATE", update: {} },
      { type: "FAILURE", failure: { agent_id: 1 } },
      { type: "HEARTBEAT" },
    ]);
    await waitUntil(() => (s.err().match(/invalid mesos event skipped/g) ?? []).length === 4, {
      timeoutMs: 10_000,
      what: "the four events reported",
    });
    assert.equal(s.child.exitCode, null, "still running");
    assert.ok(await healthy(), "still subscribed and healthy");
    assert.equal(master.subscribes.length, 1);
    stream.send([{ type: "ERROR", error: { message: "Framework has been removed" } }]);
    const code = await withDeadline(s.exited, 20_000, "the scheduler to exit");
    assert.equal(code, EXIT_MESOS_REFUSED, s.err().slice(-2000));
    const lines = plainLines(s.err());
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.equal(
      lines[0],
      `scaleio-framework: the master at ${master.url} ended the subscription: Framework has been removed; framework ${FID} cannot subscribe again: to register as a new framework, remove ${join(s.dir, "state", "framework", "id.json")}`,
    );
  },
);
