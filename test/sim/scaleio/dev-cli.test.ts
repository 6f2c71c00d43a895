// `scaleio-framework dev scaleio`: one `gateway: <url>` line when ready, a working HTTPS
// gateway trusted through the CA in the state dir, and a clean exit on SIGTERM and SIGINT.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, request } from "undici";

const ROOT = new URL("../../../", import.meta.url).pathname;

async function runDev(signal: NodeJS.Signals): Promise<void> {
  const stateDir = mkdtempSync(join(tmpdir(), "scaleio-dev-"));
  // Runs the same code as bin/scaleio-framework dev, from source (no build needed).
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "-e",
      `import("./sim/cli/dev.ts").then((m) => m.runDev(process.argv.slice(1)))`,
      "scaleio",
      "--port",
      "0",
      "--state-dir",
      stateDir,
    ],
    {
      cwd: ROOT,
      env: { ...process.env, SCALEIO_SIM_ADMIN_PASSWORD: "Dev-pw-1" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  // Resolves on the first full stdout line; fails on early exit or after the deadline.
  const firstLine = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no gateway line within 30 s; stderr: ${stderr}`)),
      30_000,
    );
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
      if (stdout.includes("\n")) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before printing; stderr: ${stderr}`));
    });
  });
  try {
    await firstLine;
    const m = /^gateway: (https:\/\/127\.0\.0\.1:\d+)\n$/.exec(stdout);
    assert.ok(m, `exactly one gateway line, got ${JSON.stringify(stdout)}`);
    const info = JSON.parse(readFileSync(join(stateDir, "emulator.json"), "utf8")) as {
      gateway: string;
      caFile: string;
    };
    assert.equal(info.gateway, m[1]);
    const agent = new Agent({ connect: { ca: readFileSync(info.caFile, "utf8") } });
    try {
      const v = await request(`${m[1]}/api/version`, { dispatcher: agent });
      assert.equal(await v.body.text(), '"2.0"');
      const auth = `Basic ${Buffer.from("admin:Dev-pw-1").toString("base64")}`;
      const login = await request(`${m[1]}/api/login`, {
        dispatcher: agent,
        headers: { authorization: auth },
      });
      assert.equal(login.statusCode, 200);
      await login.body.text();
    } finally {
      await agent.close();
    }
    child.kill(signal);
    assert.equal(await exited, 0);
    assert.equal(stdout.split("\n").filter(Boolean).length, 1);
    assert.ok(!stdout.includes("Dev-pw-1") && !stderr.includes("Dev-pw-1"));
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
    await exited;
    rmSync(stateDir, { recursive: true, force: true });
  }
}

test("dev scaleio prints one gateway line, serves HTTPS with its CA, and stops on SIGTERM", async () => {
  await runDev("SIGTERM");
});

test("dev scaleio stops cleanly on SIGINT", async () => {
  await runDev("SIGINT");
});
