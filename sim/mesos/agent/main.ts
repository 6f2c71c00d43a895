// Agent host process: runs one agent, or hundreds to thousands of them (many-agents mode),
// each with its own address, id and resources. Started by the dev cluster with a JSON
// config path as argv[2]; controlled over the IPC channel; prints nothing but errors.
import { readFileSync } from "node:fs";
import { Agent, type AgentOptions } from "./agent.js";

interface HostConfig {
  agents: AgentOptions[];
  verbose?: boolean;
}

type Control =
  | { op: "partition" | "heal" | "redetect"; host: string; id?: number }
  | { op: "masters"; urls: string[]; id?: number }
  | { op: "kill_executor"; host: string; framework_id: string; executor_id: string; id?: number }
  | { op: "state"; host: string; id?: number }
  | { op: "stop"; kill_executors: boolean; id?: number };

const config = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as HostConfig;
const log = config.verbose ? (l: string) => process.stderr.write(`${l}\n`) : undefined;
const agents = new Map<string, Agent>();

async function main(): Promise<void> {
  // Start in batches so thousands of agents do not open thousands of sockets at once.
  const list = config.agents;
  for (let i = 0; i < list.length; i += 200) {
    await Promise.all(
      list.slice(i, i + 200).map(async (o) => {
        const a = new Agent({ ...o, ...(log ? { log } : {}) });
        await a.start();
        agents.set(o.host, a);
      }),
    );
  }
  process.send?.({
    ready: [...agents.values()].map((a) => ({ host: a.opts.host, port: a.port })),
  });
}

function reply(id: number | undefined, value: unknown): void {
  if (id !== undefined) process.send?.({ reply: id, value });
}

process.on("message", (msg: Control) => {
  const a = "host" in msg ? agents.get(msg.host) : undefined;
  switch (msg.op) {
    case "partition":
      a?.partition();
      return reply(msg.id, true);
    case "heal":
      a?.heal();
      return reply(msg.id, true);
    case "redetect":
      if (a) {
        a.registered = false;
        a.masterUrl = undefined;
        void a.register();
      }
      return reply(msg.id, true);
    case "masters":
      for (const ag of agents.values()) ag.opts.masters = msg.urls;
      return reply(msg.id, true);
    case "kill_executor":
      return reply(msg.id, a?.killExecutor(msg.framework_id, msg.executor_id) ?? false);
    case "state":
      return reply(msg.id, a ? { id: a.id, registered: a.registered, ...a.state() } : null);
    case "stop":
      return stopAndExit(msg.kill_executors, () => reply(msg.id, true));
  }
});

let stopping = false;

/** Stops every agent once (whichever of the reasons below comes first), then exits. */
function stopAndExit(killExecutors: boolean, then?: () => void): void {
  if (stopping) return;
  stopping = true;
  void Promise.allSettled([...agents.values()].map((ag) => ag.stop(killExecutors))).then(
    (results) => {
      for (const r of results)
        if (r.status === "rejected") process.stderr.write(`agent stop: ${String(r.reason)}\n`);
      then?.();
      process.exit(0);
    },
  );
}

// If whoever started us goes away, do not linger, and take the executors along: each is in
// its own process group, so nothing else would stop them.
process.on("disconnect", () => stopAndExit(true));
// A terminal's Ctrl-C or `timeout` signals the whole process group, this process included:
// stop the executors too rather than die and leave them behind.
process.on("SIGTERM", () => stopAndExit(true));
process.on("SIGINT", () => stopAndExit(true));

main().catch((err: unknown) => {
  process.stderr.write(`agent host failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
