// Maintenance primitives (reference 7) and the master's registry: what real Mesos keeps
// in its replicated log (admitted/unreachable/gone agents, the maintenance schedule), so
// a second master can take over. Here the registry is a JSON file shared by the masters
// of one cluster.
import { readFileSync, writeFileSync, renameSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import type {
  InverseOffer as InverseOfferJson,
  MachineID,
  MaintenanceSchedule,
  Unavailability,
} from "../../../src/mesos/types/index.js";
import { parseMesosJson } from "../../../src/mesos/json.js";
import { methodNotAllowed, readBody, sendJson, sendText } from "../common/http.js";
import type { Agent, Framework } from "./model.js";
import type { Master } from "./master.js";
import { sendToAgent } from "./agent-link.js";
import { refuseSeconds } from "./scheduler-http.js";

type Mode = "UP" | "DRAINING" | "DOWN";

interface Machine {
  id: MachineID;
  mode: Mode;
  unavailability?: Unavailability;
  /** framework id -> ACCEPT/DECLINE/UNKNOWN with time */
  statuses: Map<string, { status: string; timestamp: number }>;
}

const PATHS = new Set([
  "/maintenance/schedule",
  "/maintenance/status",
  "/machine/down",
  "/machine/up",
  "/master/maintenance/schedule",
  "/master/maintenance/status",
  "/master/machine/down",
  "/master/machine/up",
]);

const machineKey = (m: MachineID) => `${(m.hostname ?? "").toLowerCase()}|${m.ip ?? ""}`;

export class Maintenance {
  schedule: MaintenanceSchedule = { windows: [] };
  private machines = new Map<string, Machine>();
  private seq = 0;
  /** The coalesced registry write that is due, if any. */
  private persistTimer: NodeJS.Timeout | undefined;
  /** Inverse offers to send again once a framework's refusal expires. */
  private readonly resendTimers = new Set<NodeJS.Timeout>();

  constructor(private readonly m: Master) {}

  handles(path: string): boolean {
    return PATHS.has(path);
  }

  private machineOf(agent: Agent): Machine | undefined {
    if (this.machines.size === 0) return undefined;
    for (const mc of this.machines.values()) {
      if (matches(mc.id, agent.hostname, agent.ip)) return mc;
    }
    return undefined;
  }

  isDown(agent: Agent): boolean {
    return this.machineOf(agent)?.mode === "DOWN";
  }

  isDownMachine(hostname: string, ip: string): boolean {
    for (const mc of this.machines.values()) {
      if (mc.mode === "DOWN" && matches(mc.id, hostname, ip)) return true;
    }
    return false;
  }

  unavailabilityOf(agent: Agent): Unavailability | undefined {
    const mc = this.machineOf(agent);
    return mc && mc.mode === "DRAINING" ? mc.unavailability : undefined;
  }

  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const p = path.replace(/^\/master/, "");
    if (p === "/maintenance/status") {
      if (req.method !== "GET") return methodNotAllowed(res, req.method ?? "", "GET");
      return sendJson(res, 200, this.status());
    }
    if (p === "/maintenance/schedule" && req.method === "GET") {
      return sendJson(res, 200, this.schedule);
    }
    if (req.method !== "POST") return methodNotAllowed(res, req.method ?? "", "POST");
    let body: unknown;
    try {
      body = parseMesosJson((await readBody(req)).toString("utf8"));
    } catch (err) {
      return sendText(res, 400, `Failed to parse body into JSON: ${(err as Error).message}`);
    }
    const err =
      p === "/maintenance/schedule"
        ? this.updateSchedule(body)
        : this.setMode(body, p === "/machine/down" ? "DOWN" : "UP");
    if (err) return sendText(res, 400, err);
    return sendText(res, 200);
  }

  private updateSchedule(body: unknown): string | undefined {
    const windows = (body as MaintenanceSchedule | null)?.windows;
    if (!Array.isArray(windows))
      return "Failed to convert JSON into Schedule protobuf: 'windows' must be an array";
    const next = new Map<string, Unavailability>();
    for (const w of windows) {
      if (!Array.isArray(w?.machine_ids) || w.machine_ids.length === 0) {
        return "List of machines in the maintenance window is empty";
      }
      if (w.unavailability?.start?.nanoseconds === undefined) {
        return "Maintenance window is missing 'unavailability.start'";
      }
      for (const id of w.machine_ids) {
        if (!id || (!id.hostname && !id.ip)) return "Machine must contain a hostname or an IP";
        const k = machineKey(id);
        if (next.has(k))
          return `Machine '${id.hostname ?? id.ip}' appears more than once in the schedule`;
        next.set(k, w.unavailability);
      }
    }
    for (const [k, mc] of this.machines) {
      if (mc.mode === "DOWN" && !next.has(k)) {
        return `Machine '${mc.id.hostname ?? mc.id.ip}' is deactivated and cannot be removed from the schedule`;
      }
    }
    const changed: Machine[] = [];
    for (const [k, mc] of [...this.machines]) {
      if (!next.has(k)) {
        this.machines.delete(k);
        changed.push({ ...mc, mode: "UP" });
      }
    }
    for (const w of windows) {
      for (const id of w.machine_ids) {
        const k = machineKey(id);
        const old = this.machines.get(k);
        const mc: Machine = old ?? { id, mode: "DRAINING", statuses: new Map() };
        // Only a new machine or a new unavailability is news (Mesos re-asks only for those).
        const news = !old || sameJson(old.unavailability) !== sameJson(w.unavailability);
        mc.unavailability = w.unavailability;
        this.machines.set(k, mc);
        if (news) changed.push(mc);
      }
    }
    this.schedule = { windows };
    this.persist();
    this.afterChange(changed);
    return undefined;
  }

  private setMode(body: unknown, mode: Mode): string | undefined {
    if (!Array.isArray(body))
      return "Failed to convert JSON into MachineIDs protobuf: expected an array";
    const targets: Machine[] = [];
    for (const id of body as MachineID[]) {
      const mc = this.machines.get(machineKey(id ?? {}));
      if (!mc) return `Machine '${id?.hostname ?? id?.ip}' is not part of a maintenance schedule`;
      if (mode === "UP" && mc.mode !== "DOWN") {
        return `Machine '${id.hostname ?? id.ip}' is not in DOWN mode and cannot be brought up`;
      }
      targets.push(mc);
    }
    for (const mc of targets) {
      if (mode === "DOWN") {
        mc.mode = "DOWN";
        for (const a of [...this.m.agents.values()]) {
          if (!matches(mc.id, a.hostname, a.ip)) continue;
          sendToAgent(this.m, a, "shutdown", {});
          this.m.removeAgent(a, "Agent is DOWN for maintenance", "removed");
        }
      } else {
        // UP: the machine leaves the schedule; its agents may register again.
        this.machines.delete(machineKey(mc.id));
        this.schedule.windows = (this.schedule.windows ?? [])
          .map((w) => ({
            ...w,
            machine_ids: w.machine_ids.filter((x) => machineKey(x) !== machineKey(mc.id)),
          }))
          .filter((w) => w.machine_ids.length > 0);
      }
    }
    this.persist();
    return undefined;
  }

  /** Offers from changed machines are rescinded (re-offered with unavailability) and
   *  frameworks with resources there get inverse offers. */
  private afterChange(changed: Machine[]): void {
    for (const a of this.m.agents.values()) {
      if (!changed.some((mc) => matches(mc.id, a.hostname, a.ip))) continue;
      this.m.rescindAgentOffers(a);
      for (const fw of this.m.frameworks.values()) {
        // A new unavailability is a new question: earlier refusals no longer hold (as the
        // Mesos allocator's updateUnavailability clears the agent's inverse-offer filters).
        fw.inverseFilters.delete(a.id);
        this.sendInverseOffer(fw, a);
      }
    }
    this.m.allocateSoon();
  }

  onAgentRegistered(agent: Agent): void {
    for (const fw of this.m.frameworks.values()) this.sendInverseOffer(fw, agent);
  }

  sendInverseOffers(fw: Framework): void {
    for (const a of this.m.agents.values()) this.sendInverseOffer(fw, a);
  }

  /**
   * Each allocation cycle, as the Mesos allocator's deallocate() does: an inverse offer to
   * every framework using a draining agent that has none outstanding and no unexpired filter.
   * (A single resend timer per answer could fire a millisecond before its filter expired, or
   * while the framework was reconnecting, and then no inverse offer ever came again.)
   */
  resendDue(): void {
    if (![...this.machines.values()].some((mc) => mc.mode === "DRAINING")) return;
    for (const fw of this.m.frameworks.values()) {
      if (!fw.connected || fw.removed) continue;
      for (const a of this.m.agents.values()) {
        if (this.unavailabilityOf(a)) this.sendInverseOffer(fw, a);
      }
    }
  }

  private sendInverseOffer(fw: Framework, agent: Agent): void {
    const unavailability = this.unavailabilityOf(agent);
    if (!unavailability || !fw.connected || agent.state !== "active") return;
    const uses =
      [...fw.tasks.values()].some((t) => t.agentId === agent.id && !t.released) ||
      [...agent.executors.values()].some((e) => e.frameworkId === fw.id);
    if (!uses) return;
    if (
      [...this.m.inverseOffers.values()].some(
        (o) => o.frameworkId === fw.id && o.agentId === agent.id,
      )
    ) {
      return;
    }
    const until = fw.inverseFilters.get(agent.id);
    if (until !== undefined && until > Date.now()) return;
    const id = `${this.m.id}-O${"I"}${this.seq++}`;
    this.m.inverseOffers.set(id, { id, frameworkId: fw.id, agentId: agent.id, unavailability });
    const mc = this.machineOf(agent)!;
    if (!mc.statuses.has(fw.id))
      mc.statuses.set(fw.id, { status: "UNKNOWN", timestamp: Date.now() });
    const json: InverseOfferJson = {
      id: { value: id },
      url: {
        scheme: "http",
        address: { hostname: agent.hostname, ip: agent.ip, port: agent.port },
        path: "/slave(1)",
      },
      framework_id: { value: fw.id },
      agent_id: { value: agent.id },
      unavailability,
    };
    fw.stream?.send({ type: "INVERSE_OFFERS", inverse_offers: { inverse_offers: [json] } });
  }

  respond(
    fw: Framework,
    body: { inverse_offer_ids?: { value: string }[]; filters?: { refuse_seconds?: number } },
    status: "ACCEPT" | "DECLINE",
  ): void {
    const secs = refuseSeconds(body.filters?.refuse_seconds);
    for (const { value } of body.inverse_offer_ids ?? []) {
      const io = this.m.inverseOffers.get(value);
      if (!io || io.frameworkId !== fw.id) continue;
      this.m.inverseOffers.delete(value);
      const agent = this.m.agents.get(io.agentId);
      if (!agent) continue;
      const mc = this.machineOf(agent);
      mc?.statuses.set(fw.id, { status, timestamp: Date.now() });
      fw.inverseFilters.set(agent.id, Date.now() + secs * 1000);
      const t = setTimeout(() => {
        this.resendTimers.delete(t);
        this.sendInverseOffer(fw, agent);
      }, secs * 1000);
      t.unref();
      this.resendTimers.add(t);
    }
  }

  private status(): object {
    const draining = [...this.machines.values()].filter((mc) => mc.mode === "DRAINING");
    const down = [...this.machines.values()].filter((mc) => mc.mode === "DOWN");
    return {
      draining_machines: draining.map((mc) => ({
        id: mc.id,
        statuses: [...mc.statuses].map(([fid, s]) => ({
          framework_id: { value: fid },
          status: s.status,
          timestamp: s.timestamp / 1000,
        })),
      })),
      down_machines: down.map((mc) => mc.id),
    };
  }

  // ---- registry ---------------------------------------------------------------------

  /** Writes the registry soon (coalesced: thousands of agents register at once). */
  persist(): void {
    if (!this.m.opts.registryPath || this.persistTimer || !this.m.leading) return;
    this.persistTimer = setTimeout(() => {
      this.persistTimer = undefined;
      this.writeRegistry();
    }, 20);
    this.persistTimer.unref();
  }

  /**
   * The master stops: a registry write still due is made now (what it acknowledged stays
   * acknowledged), and no timer fires afterwards, when the registry's folder may be gone.
   */
  stop(): void {
    for (const t of this.resendTimers) clearTimeout(t);
    this.resendTimers.clear();
    if (!this.persistTimer) return;
    clearTimeout(this.persistTimer);
    this.persistTimer = undefined;
    try {
      this.writeRegistry();
    } catch (err) {
      this.m.log(`registry not written at stop: ${(err as Error).message}`);
    }
  }

  private writeRegistry(): void {
    const path = this.m.opts.registryPath;
    if (!path || !this.m.leading) return;
    const agents = [...this.m.agents.values()].filter((a) => a.state !== "gone").map((a) => a.id);
    const data = {
      agents,
      gone: [...this.m.goneAgents],
      schedule: this.schedule,
      machines: [...this.machines.values()].map((mc) => ({
        id: mc.id,
        mode: mc.mode,
        unavailability: mc.unavailability,
      })),
    };
    writeFileSync(
      `${path}.tmp`,
      JSON.stringify(data, (_k, v) => (typeof v === "bigint" ? Number(v) : v)),
    );
    renameSync(`${path}.tmp`, path);
  }

  /** Agent ids from the registry (on becoming leader); also restores maintenance. */
  registryAgents(): string[] {
    const path = this.m.opts.registryPath;
    if (!path) return [];
    let data: {
      agents?: string[];
      gone?: string[];
      schedule?: MaintenanceSchedule;
      machines?: { id: MachineID; mode: Mode; unavailability?: Unavailability }[];
    };
    try {
      data = parseMesosJson(readFileSync(path, "utf8")) as typeof data;
    } catch {
      return [];
    }
    for (const g of data.gone ?? []) this.m.goneAgents.add(g);
    if (data.schedule) this.schedule = data.schedule;
    for (const mc of data.machines ?? []) {
      this.machines.set(machineKey(mc.id), { ...mc, statuses: new Map() });
    }
    return data.agents ?? [];
  }
}

const sameJson = (v: unknown) =>
  JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x));

/** The agent's machine is its hostname and IP, both (reference 7); hostname case-insensitive. */
function matches(id: MachineID, hostname: string, ip: string): boolean {
  return (id.hostname ?? "").toLowerCase() === hostname.toLowerCase() && (id.ip ?? "") === ip;
}
