import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  writeFileSync,
  readdirSync,
  readFileSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileStateStore } from "../../../src/store/file-store.js";
import { StoreError } from "../../../src/store/store.js";
import { waitUntil } from "../../support/wait.js";

const tmp = () => mkdtempSync(join(tmpdir(), "store-"));

test("set, get, list and delete JSON values under path keys", async () => {
  const s = await FileStateStore.open(tmp());
  assert.equal(await s.get("framework/id"), undefined);
  await s.set("framework/id", { value: "f-0001" });
  await s.set("plans/deploy", { phases: [1, 2] });
  await s.set("plans/update", { phases: [] });
  assert.deepEqual(await s.get("framework/id"), { value: "f-0001" });
  assert.deepEqual(await s.list("plans"), ["plans/deploy", "plans/update"]);
  assert.deepEqual(await s.list(""), ["framework/id", "plans/deploy", "plans/update"]);
  await s.delete("plans/deploy");
  await s.delete("plans/deploy");
  assert.deepEqual(await s.list("plans/"), ["plans/update"]);
  await s.checkWritable();
  await s.close();
});

test("writes of one key in flight together apply in call order; the last one called wins", async () => {
  const dir = tmp();
  const s = await FileStateStore.open(dir);
  // Big values of different sizes make the writes take different times.
  const value = (i: number) => ({ i, pad: "x".repeat((20 - i) * 50_000) });
  await Promise.all(Array.from({ length: 20 }, (_, i) => s.set("facts", value(i))));
  assert.equal((await s.get<{ i: number }>("facts"))!.i, 19);
  // A delete called after a write is not undone by it; a write after the delete is kept.
  const w = s.set("k", { v: 1 });
  const d = s.delete("k");
  await Promise.all([w, d]);
  assert.equal(await s.get("k"), undefined);
  // close() lets writes already asked for finish.
  void s.set("late", { v: 2 });
  await s.close();
  const again = await FileStateStore.open(dir);
  assert.deepEqual(await again.get("late"), { v: 2 });
  await again.close();
});

test("files are private to the owner", async () => {
  const dir = tmp();
  const s = await FileStateStore.open(join(dir, "state"));
  await s.set("a", 1);
  assert.equal(statSync(join(dir, "state", "a.json")).mode & 0o077, 0);
  assert.equal(statSync(join(dir, "state")).mode & 0o077, 0);
  await s.close();
});

test("keys that could escape the directory are refused", async () => {
  const s = await FileStateStore.open(tmp());
  for (const bad of ["../x", "/etc/passwd", "a/../../b", "", "a//b", "a b", ".hidden"]) {
    await assert.rejects(
      s.set(bad, 1),
      (e: unknown) => e instanceof StoreError && e.code === "BAD_KEY",
    );
  }
  await s.close();
});

test("a corrupt file is reported, not silently ignored", async () => {
  const dir = tmp();
  const s = await FileStateStore.open(dir);
  writeFileSync(join(dir, "broken.json"), "{half");
  await assert.rejects(
    s.get("broken"),
    (e: unknown) => e instanceof StoreError && e.code === "CORRUPT",
  );
  await s.close();
});

test("one scheduler per state directory; a stale lock of a dead process is taken over", async () => {
  const dir = tmp();
  const a = await FileStateStore.open(dir);
  // Another live process holds it: simulate with a child that keeps running.
  await a.close();
  const child = spawn(process.execPath, ["-e", "setInterval(()=>{}, 1000)"], { stdio: "ignore" });
  try {
    writeFileSync(join(dir, ".lock"), String(child.pid));
    await assert.rejects(
      FileStateStore.open(dir),
      (e: unknown) =>
        e instanceof StoreError && e.code === "LOCKED" && /in use by process/.test(e.message),
    );
  } finally {
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
  }
  // The holder is dead now: the lock is stale.
  const b = await FileStateStore.open(dir);
  await b.set("k", 1);
  await b.close();
});

/** Fields 3.. of /proc/<pid>/stat (field 2, the command, may hold spaces). */
function procStat(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    return text.slice(text.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}
const startTimeOf = (pid: number) => procStat(pid)?.[19];
const noProc = procStat(process.pid) === undefined;

test(
  "the lock records the holder's start time and blocks a second opener while it runs",
  {
    skip: noProc && "no /proc",
  },
  async () => {
    const dir = tmp();
    const a = await FileStateStore.open(dir);
    const [pid, start] = readFileSync(join(dir, ".lock"), "utf8").trim().split(" ");
    assert.equal(Number(pid), process.pid);
    assert.equal(start, startTimeOf(process.pid));
    await a.close();
    assert.throws(() => readFileSync(join(dir, ".lock")), /ENOENT/);

    const child = spawn(process.execPath, ["-e", "setInterval(()=>{}, 1000)"], { stdio: "ignore" });
    try {
      await waitUntil(() => startTimeOf(child.pid!) !== undefined, {
        what: "the child's /proc entry",
      });
      writeFileSync(join(dir, ".lock"), `${child.pid} ${startTimeOf(child.pid!)}\n`);
      await assert.rejects(
        FileStateStore.open(dir),
        (e: unknown) => e instanceof StoreError && e.code === "LOCKED",
      );
      // The same PID with another start time is a later process that reused the PID.
      writeFileSync(join(dir, ".lock"), `${child.pid} ${Number(startTimeOf(child.pid!)) + 1}\n`);
      const b = await FileStateStore.open(dir);
      await b.close();
    } finally {
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
    }
  },
);

test(
  "a lock held by a killed scheduler not yet reaped (a zombie) is taken over",
  {
    skip: noProc && "no /proc",
  },
  async () => {
    const dir = tmp();
    // The shell starts a child and then becomes `sleep`, which never reaps it: the child,
    // once it exits, stays a zombie as long as the sleep runs.
    const parent = spawn("sh", ["-c", "sleep 0 & echo $!; exec sleep 60"], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    try {
      const zombie = await new Promise<number>((resolve, reject) => {
        parent.stdout!.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
        parent.once("error", reject);
      });
      await waitUntil(() => procStat(zombie)?.[0] === "Z", { what: "the zombie" });
      for (const text of [`${zombie}\n`, `${zombie} ${startTimeOf(zombie)}\n`]) {
        writeFileSync(join(dir, ".lock"), text);
        const s = await FileStateStore.open(dir);
        await s.set("k", 1);
        await s.close();
      }
    } finally {
      parent.kill("SIGKILL");
      await new Promise((r) => parent.once("exit", r));
    }
  },
);

test("SIGKILL in the middle of writes never leaves a torn value", async () => {
  const dir = tmp();
  const script = `
    import { FileStateStore } from ${JSON.stringify(new URL("../../../src/store/file-store.ts", import.meta.url).href)};
    const s = await FileStateStore.open(${JSON.stringify(dir)});
    let i = 0;
    process.stdout.write("ready\\n");
    for (;;) { i++; await s.set("k" + (i % 5), { i, pad: "x".repeat(20000 + (i % 7) * 1000) }); }
  `;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (d: Buffer) => d.toString().includes("ready") && resolve());
    child.once("exit", () => reject(new Error("writer exited early")));
  });
  // Let it write until at least a few keys exist, then kill it hard.
  const deadline = Date.now() + 10_000;
  while (readdirSync(dir).filter((f) => f.endsWith(".json")).length < 5) {
    if (Date.now() > deadline) throw new Error("writer made no progress");
    await new Promise((r) => setImmediate(r));
  }
  child.kill("SIGKILL");
  await new Promise((r) => child.once("exit", r));
  const s = await FileStateStore.open(dir);
  for (const key of await s.list("")) {
    const v = await s.get<{ i: number; pad: string }>(key);
    assert.ok(v && typeof v.i === "number" && v.pad.length >= 20000, `key ${key} is whole`);
  }
  await s.close();
});

test("a commit cut short by a crash is finished when the store opens again", async () => {
  const dir = tmp();
  const s = await FileStateStore.open(dir);
  await s.set("a", "old-a");
  await s.set("b", "old-b");
  await s.close();
  // What a crash after the journal was written, and before it was applied, leaves behind.
  mkdirSync(join(dir, ".journal"), { recursive: true });
  writeFileSync(
    join(dir, ".journal", "000001700000000-1-1.json"),
    JSON.stringify([
      { key: "a", text: JSON.stringify("new-a") },
      { key: "b", text: null },
      { key: "c/d", text: JSON.stringify({ n: 1 }) },
    ]),
  );
  const again = await FileStateStore.open(dir);
  assert.equal(await again.get("a"), "new-a");
  assert.equal(await again.get("b"), undefined);
  assert.deepEqual(await again.get("c/d"), { n: 1 });
  assert.deepEqual(await again.list(""), ["a", "c/d"]);
  assert.deepEqual(readdirSync(join(dir, ".journal")), []);
  await again.close();
});
