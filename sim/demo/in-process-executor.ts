// Zero-latency mode of the development cluster: the real node executor (src/executor) with
// the real ScaleIO node handlers, run inside the agent host process instead of as a child
// process per agent, and the emulator's node tools (scli, drv_cfg, rpm, yum...) answered by
// one loopback HTTP call each instead of a forwarder process per command. What remains is
// the framework's own work: the scheduler, the Mesos protocol on both sides, the plan
// engine, the executor's step code and the REST gateway calls. Loaded by agents through
// AgentOptions.inProcessExecutorModule.
import { request, Agent as HttpAgent } from "node:http";
import { basename } from "node:path";
import { pino } from "pino";
import { ExecutorClient, readExecutorEnvironment } from "../../src/mesos/executor/index.js";
import { hostProfileFromEnv, type ProgramRunner } from "../../src/host/profile.js";
import {
  HostCommandError,
  run as spawnProgram,
  type RunOptions,
  type RunResult,
} from "../../src/host/process.js";
import { confineToEmulatedNode } from "../../src/host/emulated-node.js";
import { scaleioNodeHandlers } from "../../src/platforms/scaleio/node/index.js";
import { NodeExecutor } from "../../src/executor/executor.js";
import { HandlerRegistry } from "../../src/executor/run-step.js";
import { secretsFetcherFromEnv } from "../../src/executor/secrets.js";
import type { InProcessExecutor } from "../mesos/agent/agent.js";
import { TOOLS, type Tool } from "../scaleio/node/exec.js";

const keepAlive = new HttpAgent({ keepAlive: true, maxSockets: 64 });
const registry = new HandlerRegistry(scaleioNodeHandlers);
const silent = pino({ level: "silent" });

/** The variables the emulator's tool forwarders pass on (bin/_forward.mjs). */
const FORWARDED_ENV = [
  "SCALEIO_SIM_NODE_IP",
  "SCALEIO_SIM_ROOT",
  "MDM_ROLE_IS_MANAGER",
  "MDM_IP",
  "TOKEN",
  "GATEWAY_ADMIN_PASSWORD",
];

function scrub(text: string, secrets: string[] | undefined): string {
  let out = text;
  for (const s of secrets ?? []) if (s) out = out.split(s).join("[redacted]");
  return out;
}

function post(
  url: string,
  body: string,
  signal?: AbortSignal,
  retried = false,
): Promise<[number, string]> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: "POST",
      agent: keepAlive,
      headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      ...(signal ? { signal } : {}),
    });
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve([res.statusCode ?? 0, Buffer.concat(chunks).toString("utf8")]));
    });
    req.on("error", (err: NodeJS.ErrnoException) => {
      // A kept-alive socket the server had just closed: the request never reached it.
      if (!retried && req.reusedSocket && err.code === "ECONNRESET") {
        post(url, body, signal, true).then(resolve, reject);
      } else reject(err);
    });
    req.end(body);
  });
}

/** Runs the emulator's node tools for one node with a loopback call, as run() would a process. */
export function emulatorToolRunner(
  controlUrl: string,
  nodeEnv: Record<string, string | undefined>,
): ProgramRunner {
  const root = nodeEnv.SCALEIO_SIM_ROOT;
  // What the node's processes see of it (its root, address, tools), as an executor's child would.
  const nodeVars = Object.fromEntries(
    Object.entries(nodeEnv).filter((e): e is [string, string] => e[1] !== undefined),
  );
  const installed = root ? confineToEmulatedNode(spawnProgram, { root, toolDirs: [] }) : undefined;
  return async (program: string, args: string[], opts: RunOptions = {}): Promise<RunResult> => {
    const started = Date.now();
    const tool = basename(program);
    const fail = (message: string, r: Partial<RunResult> = {}) =>
      new HostCommandError(
        message,
        {
          exitCode: r.exitCode ?? null,
          signal: null,
          stdout: r.stdout ?? "",
          stderr: r.stderr ?? "",
        },
        program,
      );
    if (!(TOOLS as readonly string[]).includes(tool)) {
      // A program installed under the node's own root (REX-Ray, dvdcli from their downloads)
      // runs as a process there, confined to that root as in the process-per-agent mode.
      if (installed)
        return installed(program, args, { ...opts, env: { ...nodeVars, ...opts.env } });
      throw fail(`${program}: command not found`);
    }
    opts.signal?.throwIfAborted();
    const all: Record<string, string | undefined> = { ...nodeEnv, ...opts.env };
    const env = Object.fromEntries(
      FORWARDED_ENV.filter((k) => all[k] !== undefined).map((k) => [k, all[k]]),
    );
    let status: number;
    let text: string;
    try {
      [status, text] = await post(
        `${controlUrl}/node/exec`,
        JSON.stringify({
          tool: tool as Tool,
          argv: args,
          env,
          ...(opts.cwd ? { cwd: opts.cwd } : {}),
          // What a process would read on its standard input (scli's password prompts).
          ...(opts.input !== undefined ? { stdin: opts.input.toString() } : {}),
        }),
        opts.signal,
      );
    } catch (err) {
      throw fail(`${program}: ${opts.signal?.aborted ? "aborted" : (err as Error).message}`);
    }
    const out = JSON.parse(text) as {
      exitCode?: number;
      stdout?: string;
      stderr?: string;
      message?: string;
    };
    const result: RunResult =
      status === 200
        ? {
            exitCode: out.exitCode ?? 0,
            signal: null,
            stdout: scrub(out.stdout ?? "", opts.redact),
            stderr: scrub(out.stderr ?? "", opts.redact),
            truncated: false,
            durationMs: Date.now() - started,
          }
        : {
            exitCode: 1,
            signal: null,
            stdout: "",
            stderr: scrub(`${tool}: ${out.message ?? text}\n`, opts.redact),
            truncated: false,
            durationMs: Date.now() - started,
          };
    if ((opts.check ?? true) && result.exitCode !== 0) {
      const tail = (result.stderr.trim() || result.stdout.trim()).split("\n").slice(-5).join(" | ");
      throw fail(
        `${program} ${scrub(args.join(" "), opts.redact)} failed (exit ${result.exitCode})${tail ? `: ${tail}` : ""}`,
        result,
      );
    }
    return result;
  };
}

/** Entry point for the agent (InProcessExecutorModule). */
export function startExecutor(env: Record<string, string>): InProcessExecutor {
  let killedEarly = false;
  let kill: () => void = () => (killedEarly = true);
  const exited = (async () => {
    const mesosEnv = readExecutorEnvironment(env);
    const control = env.SCALEIO_SIM_CONTROL;
    if (!control) throw new Error("SCALEIO_SIM_CONTROL is not set");
    const host = await hostProfileFromEnv(env, { run: emulatorToolRunner(control, env) }).catch(
      (err: Error) => err,
    );
    const secrets = await secretsFetcherFromEnv(env);
    const client = new ExecutorClient({ env: mesosEnv });
    const executor = new NodeExecutor({
      client,
      registry,
      host,
      fetchSecrets: secrets,
      log: silent,
    });
    const killed = new Promise<number>((resolve) => {
      kill = () => {
        void client.stop();
        resolve(137);
      };
    });
    if (killedEarly) return 137;
    executor.start();
    return Promise.race([executor.exited, killed]);
  })();
  return { exited, kill: () => kill() };
}
