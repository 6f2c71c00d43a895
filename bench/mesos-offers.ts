// Benchmark: N agents (default 5,000) hosted in a few processes register with a master
// process; a framework then subscribes over raw HTTP. Prints the time until it holds
// offers from every agent (target <= 1 s) and the master's peak RSS (target <= 500 MB).
import { fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { RecordIODecoder } from "../src/mesos/recordio.js";

const AGENTS = Number(process.env.AGENTS ?? process.argv[2] ?? 5000);
const PER_PROCESS = Number(process.env.AGENTS_PER_PROCESS ?? 1250);
const here = fileURLToPath(new URL(".", import.meta.url));
const tsx = ["--import", import.meta.resolve("tsx")];
const dir = mkdtempSync(join(tmpdir(), "bench-mesos-"));
const block = 2 + (process.pid % 250);
const children: ChildProcess[] = [];

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString("utf8")));
      res.on("end", () => resolve(body));
    })
      .on("error", reject)
      .end();
  });
}

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function main(): Promise<void> {
  const master = fork(
    join(here, "../sim/mesos/master/main.ts"),
    [JSON.stringify({ host: `127.${block}.0.1` })],
    {
      execArgv: tsx,
      stdio: ["ignore", "pipe", "inherit", "ipc"],
    },
  );
  children.push(master);
  const url = await new Promise<string>((resolve) => {
    master.stdout!.on("data", (c: Buffer) => {
      const m = /master: (\S+)/.exec(c.toString("utf8"));
      if (m) resolve(m[1]!);
    });
  });
  const t0 = Date.now();
  for (let i = 0; i < AGENTS; i += PER_PROCESS) {
    const agents = [];
    for (let j = i; j < Math.min(AGENTS, i + PER_PROCESS); j++) {
      agents.push({
        host: `127.${block}.${1 + Math.floor((j + 2) / 250)}.${2 + ((j + 2) % 250)}`,
        masters: [url],
        workDir: join(dir, String(j)),
        resources: `cpus:${2 + (j % 7)};mem:${4096 + (j % 5) * 1024};disk:20480;ports:[31000-32000]`,
        attributes: `rack:r${j % 40}`,
        registrationBackoffMs: 500,
      });
    }
    const cfg = join(dir, `host-${i}.json`);
    writeFileSync(cfg, JSON.stringify({ agents }));
    children.push(
      fork(join(here, "../sim/mesos/agent/main.ts"), [cfg], {
        execArgv: tsx,
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      }),
    );
  }
  for (;;) {
    const m = JSON.parse(await get(`${url}/metrics/snapshot`)) as Record<string, number>;
    if (m["master/slaves_active"] === AGENTS) break;
    if (process.env.VERBOSE) console.error(`registered: ${m["master/slaves_active"]}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  console.log(`${AGENTS} agents registered in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const u = new URL(`${url}/api/v1/scheduler`);
  const body = JSON.stringify({
    type: "SUBSCRIBE",
    subscribe: {
      framework_info: {
        user: "bench",
        name: "bench",
        roles: ["*"],
        capabilities: [{ type: "MULTI_ROLE" }],
      },
    },
  });
  const start = Date.now();
  const elapsed = await new Promise<number>((resolve, reject) => {
    const seen = new Set<string>();
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
      },
      (res) => {
        const decoder = new RecordIODecoder();
        res.on("data", (chunk: Buffer) => {
          for (const record of decoder.push(chunk)) {
            const ev = JSON.parse(Buffer.from(record).toString("utf8")) as {
              type: string;
              offers?: { offers: { agent_id: { value: string } }[] };
            };
            if (ev.type === "OFFERS") for (const o of ev.offers!.offers) seen.add(o.agent_id.value);
            if (seen.size === AGENTS) {
              resolve(Date.now() - start);
              res.destroy();
              return;
            }
          }
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
  const peak = peakRssMb(master.pid!);
  console.log(`offers from all ${AGENTS} agents ${elapsed} ms after SUBSCRIBE (target <= 1000 ms)`);
  console.log(`master peak memory (VmHWM) ${peak.toFixed(0)} MB (target <= 500 MB)`);
}

function cleanup(): void {
  for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
  setTimeout(() => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }, 3000).unref();
}

main().then(cleanup, (err: unknown) => {
  console.error(err);
  cleanup();
  process.exitCode = 1;
});
