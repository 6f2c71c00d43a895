// The master's maintenance endpoints (Mesos maintenance primitives): read and replace the
// schedule, and read the tasks running on an agent (from /master/state) to know when it is
// drained. Adding or removing one machine keeps every other machine's window as it was.
import type { MachineID } from "../types/common.js";
import type { MaintenanceSchedule } from "../types/maintenance.js";
import { parseMesosJson, stringifyMesosJson } from "../json.js";

export interface MaintenanceClientOptions {
  /** The leading master's base URL (http://host:5050). */
  master: string | (() => string);
  /** `Authorization` header value, when the master wants HTTP authentication. */
  authorization?: () => string | undefined;
  timeoutMs?: number;
}

export class MaintenanceError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "MaintenanceError";
  }
}

const sameMachine = (a: MachineID, b: MachineID) =>
  (a.hostname ?? "").toLowerCase() === (b.hostname ?? "").toLowerCase() &&
  (a.ip ?? "") === (b.ip ?? "");

export class MaintenanceClient {
  constructor(private readonly o: MaintenanceClientOptions) {}

  private base(): string {
    const m = typeof this.o.master === "function" ? this.o.master() : this.o.master;
    return m.replace(/\/+$/, "");
  }

  private async request(method: "GET" | "POST", path: string, body?: unknown): Promise<string> {
    const auth = this.o.authorization?.();
    const res = await fetch(`${this.base()}${path}`, {
      method,
      headers: {
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
        ...(auth ? { authorization: auth } : {}),
      },
      ...(body !== undefined ? { body: stringifyMesosJson(body) } : {}),
      signal: AbortSignal.timeout(this.o.timeoutMs ?? 30_000),
    });
    const text = await res.text();
    if (!res.ok) throw new MaintenanceError(res.status, `${method} ${path}: ${res.status} ${text}`);
    return text;
  }

  async schedule(): Promise<MaintenanceSchedule> {
    const text = await this.request("GET", "/master/maintenance/schedule");
    return text.trim() ? (parseMesosJson(text) as MaintenanceSchedule) : { windows: [] };
  }

  private async replace(s: MaintenanceSchedule): Promise<void> {
    await this.request("POST", "/master/maintenance/schedule", s);
  }

  /** Puts one machine in a window starting now (DRAINING); a machine already scheduled is left as is. */
  async drain(machine: MachineID, durationMs: number, now = Date.now()): Promise<boolean> {
    const current = await this.schedule();
    const windows = current.windows ?? [];
    if (windows.some((w) => w.machine_ids.some((m) => sameMachine(m, machine)))) return false;
    const ns = (ms: number) => BigInt(Math.round(ms)) * 1_000_000n;
    await this.replace({
      windows: [
        ...windows,
        {
          machine_ids: [machine],
          unavailability: {
            start: { nanoseconds: ns(now) },
            duration: { nanoseconds: ns(durationMs) },
          },
        },
      ],
    });
    return true;
  }

  /** Takes one machine out of the schedule (back to UP); other windows are kept. */
  async release(machine: MachineID): Promise<void> {
    const current = await this.schedule();
    const windows = (current.windows ?? [])
      .map((w) => ({ ...w, machine_ids: w.machine_ids.filter((m) => !sameMachine(m, machine)) }))
      .filter((w) => w.machine_ids.length > 0);
    const count = (l: { machine_ids: MachineID[] }[]) =>
      l.reduce((n, w) => n + w.machine_ids.length, 0);
    if (count(windows) === count(current.windows ?? [])) return;
    await this.replace({ windows });
  }

  /** Tasks still active on an agent, per framework id (from /master/state). */
  async activeTasks(agentId: string): Promise<{ frameworkId: string; taskId: string }[]> {
    const state = parseMesosJson(await this.request("GET", "/master/state")) as {
      frameworks?: {
        id: string;
        tasks?: { id: string; slave_id?: string; agent_id?: string; state?: string }[];
      }[];
    };
    const terminal = /^TASK_(FINISHED|FAILED|KILLED|ERROR|LOST|DROPPED|GONE|GONE_BY_OPERATOR)$/;
    return (state.frameworks ?? []).flatMap((f) =>
      (f.tasks ?? [])
        .filter((t) => (t.slave_id ?? t.agent_id) === agentId && !terminal.test(t.state ?? ""))
        .map((t) => ({ frameworkId: f.id, taskId: t.id })),
    );
  }
}
