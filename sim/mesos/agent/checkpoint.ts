// Agent checkpoints under <workDir>/meta, written atomically (tmp + rename): the agent id,
// port and checkpointed resources; per framework its FrameworkInfo; per executor its info,
// process id, tasks and their unacknowledged updates.
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  existsSync,
} from "node:fs";
import { join } from "node:path";
import type {
  ExecutorInfo,
  FrameworkInfo,
  Resource,
  TaskInfo,
  TaskStatus,
} from "../../../src/mesos/types/index.js";
import { parseMesosJson, stringifyMesosJson } from "../../../src/mesos/json.js";

export interface AgentCheckpoint {
  agent_id?: string;
  port: number;
  resources?: Resource[];
}

export interface ExecutorCheckpoint {
  info: ExecutorInfo;
  kind: "custom" | "command" | "default";
  container_id: string;
  sandbox: string;
  state: string;
  checkpoint: boolean;
  pid?: number;
  command_pids?: Record<string, number>;
  tasks: {
    info: TaskInfo;
    state: TaskStatus["state"];
    phase: "queued" | "delivered";
    group?: string;
    updates?: TaskStatus[];
  }[];
  queue?: { group?: TaskInfo[]; task?: TaskInfo }[];
}

const safe = (s: string) => encodeURIComponent(s);

function writeAtomic(path: string, value: unknown): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, stringifyMesosJson(value));
  renameSync(tmp, path);
}

function readJson<T>(path: string): T | undefined {
  try {
    return parseMesosJson(readFileSync(path, "utf8")) as T;
  } catch {
    return undefined;
  }
}

export class Checkpointer {
  private readonly meta: string;
  constructor(workDir: string) {
    this.meta = join(workDir, "meta");
    mkdirSync(join(this.meta, "frameworks"), { recursive: true });
  }

  readAgent(): AgentCheckpoint | undefined {
    return readJson<AgentCheckpoint>(join(this.meta, "agent.json"));
  }

  writeAgent(cp: AgentCheckpoint): void {
    writeAtomic(join(this.meta, "agent.json"), cp);
  }

  private fwDir(fid: string): string {
    return join(this.meta, "frameworks", safe(fid));
  }

  /** What each framework's checkpoint holds now: every launch carries the FrameworkInfo. */
  private readonly frameworkText = new Map<string, string>();

  writeFramework(info: FrameworkInfo): void {
    const id = info.id!.value;
    const text = stringifyMesosJson(info);
    if (this.frameworkText.get(id) === text) return;
    const dir = this.fwDir(id);
    mkdirSync(join(dir, "executors"), { recursive: true });
    writeAtomic(join(dir, "framework.json"), info);
    this.frameworkText.set(id, text);
  }

  writeExecutor(fid: string, cp: ExecutorCheckpoint): void {
    const dir = join(this.fwDir(fid), "executors");
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
    writeAtomic(join(dir, `${safe(cp.info.executor_id.value)}.json`), cp);
  }

  removeExecutor(fid: string, eid: string): void {
    rmSync(join(this.fwDir(fid), "executors", `${safe(eid)}.json`), { force: true });
  }

  removeFramework(fid: string): void {
    this.frameworkText.delete(fid);
    rmSync(this.fwDir(fid), { recursive: true, force: true });
  }

  readAll(): { framework: FrameworkInfo; executors: ExecutorCheckpoint[] }[] {
    const out: { framework: FrameworkInfo; executors: ExecutorCheckpoint[] }[] = [];
    const root = join(this.meta, "frameworks");
    for (const name of readdirSync(root)) {
      const framework = readJson<FrameworkInfo>(join(root, name, "framework.json"));
      if (!framework?.id) continue;
      const executors: ExecutorCheckpoint[] = [];
      const edir = join(root, name, "executors");
      for (const f of existsSync(edir) ? readdirSync(edir) : []) {
        if (!f.endsWith(".json")) continue;
        const cp = readJson<ExecutorCheckpoint>(join(edir, f));
        if (cp) executors.push(cp);
      }
      out.push({ framework, executors });
    }
    return out;
  }

  /** What a host reboot loses: the agent id and every executor; resources stay. */
  forgetAfterReboot(): void {
    const agent = this.readAgent();
    if (agent) {
      delete agent.agent_id;
      this.writeAgent(agent);
    }
    rmSync(join(this.meta, "frameworks"), { recursive: true, force: true });
    mkdirSync(join(this.meta, "frameworks"), { recursive: true });
  }

  /** Every process id recorded (for cleanup by whoever started the agent). */
  allPids(): number[] {
    const pids: number[] = [];
    for (const { executors } of this.readAll()) {
      for (const e of executors) {
        if (e.pid !== undefined) pids.push(e.pid);
        pids.push(...Object.values(e.command_pids ?? {}));
      }
    }
    return pids;
  }
}
