// The master's in-memory records of frameworks, agents, tasks and offers.
import type { ServerResponse } from "node:http";
import type {
  Attribute,
  DomainInfo,
  ExecutorInfo,
  FrameworkInfo,
  TaskInfo,
  TaskStatus,
  Unavailability,
} from "../../../src/mesos/types/index.js";
import { encodeRecord } from "../../../src/mesos/recordio.js";
import { stringifyMesosJson } from "../../../src/mesos/json.js";
import { Resources, type Res } from "../common/resources.js";

/** One subscription connection: a chunked RecordIO response. */
export class EventStream {
  closed = false;
  private heartbeat: NodeJS.Timeout | undefined;
  constructor(
    readonly res: ServerResponse,
    readonly streamId: string,
  ) {
    res.on("close", () => {
      this.closed = true;
      this.stopHeartbeat();
    });
  }

  send(event: object): void {
    if (this.closed) return;
    let text: string;
    try {
      // Fast path; only 64-bit values (bigint) need the lossless writer.
      text = JSON.stringify(event);
    } catch {
      text = stringifyMesosJson(event);
    }
    this.res.write(encodeRecord(text));
  }

  startHeartbeat(intervalMs: number): void {
    this.send({ type: "HEARTBEAT" });
    this.heartbeat = setInterval(() => this.send({ type: "HEARTBEAT" }), intervalMs);
    this.heartbeat.unref();
  }

  stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  close(): void {
    this.stopHeartbeat();
    if (!this.closed) {
      this.closed = true;
      this.res.end();
    }
  }
}

export interface Filter {
  resources: Resources;
  expires: number;
  timer: NodeJS.Timeout;
}

export interface Framework {
  id: string;
  info: FrameworkInfo;
  roles: string[];
  suppressed: Set<string>;
  capabilities: Set<string>;
  stream?: EventStream;
  connected: boolean;
  /** True once torn down or its failover timeout expired. */
  removed: boolean;
  failoverTimer?: NodeJS.Timeout;
  /** Key `${agentId} ${role}`. */
  filters: Map<string, Filter>;
  inverseFilters: Map<string, number>;
  tasks: Map<string, Task>;
  completed: Task[];
  registeredTime: number;
}

export interface Task {
  info: TaskInfo;
  frameworkId: string;
  agentId: string;
  executorId?: string;
  role: string;
  resources: Res[];
  state: TaskStatus["state"];
  status?: TaskStatus;
  released: boolean;
  unreachableTime?: bigint;
}

export interface ExecutorRec {
  frameworkId: string;
  info: ExecutorInfo;
  resources: Res[];
  role: string;
}

export type AgentState = "active" | "disconnected" | "unreachable" | "recovering" | "gone";

export interface Agent {
  id: string;
  hostname: string;
  ip: string;
  port: number;
  endpoint: string;
  attributes: Attribute[];
  domain?: DomainInfo;
  total: Resources;
  used: Resources;
  offered: Resources;
  state: AgentState;
  pingMisses: number;
  pingTimer?: NodeJS.Timeout;
  executors: Map<string, ExecutorRec>;
  /** Serialises master->agent messages so they arrive in order. */
  queue: Promise<void>;
  registeredTime: number;
  unreachableTime?: bigint;
  lastSeen: number;
  /** Kills asked for while the agent was away; sent when it re-registers. */
  pendingKills: { frameworkId: string; taskId: string }[];
}

export interface Offer {
  id: string;
  frameworkId: string;
  agentId: string;
  role: string;
  resources: Resources;
}

export interface InverseOffer {
  id: string;
  frameworkId: string;
  agentId: string;
  unavailability: Unavailability;
}

export const execKey = (frameworkId: string, executorId: string) =>
  `${frameworkId}\u0000${executorId}`;
