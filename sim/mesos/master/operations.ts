// ACCEPT (reference 4.4/4.5): offer validation, then LAUNCH, LAUNCH_GROUP, RESERVE,
// UNRESERVE, CREATE and DESTROY applied in order against the running pool. Operations
// are not atomic: an invalid one is dropped (tasks get TASK_ERROR) and the rest proceed.
import type {
  AcceptBody,
  ExecutorInfo,
  Operation,
  Resource,
  TaskInfo,
} from "../../../src/mesos/types/index.js";
import { isTerminalTaskState } from "../../../src/mesos/types/index.js";
import { Resources, normalize, present, type Res } from "../common/resources.js";
import { validateId } from "../common/validate.js";
import { execKey, type Agent, type Framework } from "./model.js";
import type { Master } from "./master.js";
import { sendToAgent } from "./agent-link.js";
import { refuseSeconds } from "./scheduler-http.js";

class OpError extends Error {}

export function accept(m: Master, fw: Framework, body: AcceptBody): void {
  const ops = body.operations ?? [];
  const ids = (body.offer_ids ?? []).map((o) => o.value);
  const offerError = validateOffers(m, fw, ids);
  if (offerError) {
    for (const id of ids) {
      const o = m.offers.get(id);
      if (o && o.frameworkId === fw.id) m.releaseOffer(o, undefined, undefined);
    }
    const pa = m.partitionAware(fw);
    for (const op of ops) {
      for (const task of launchedTasks(op)) {
        m.sendMasterUpdate(
          fw,
          { taskId: task.task_id.value, agentId: task.agent_id?.value },
          pa ? "TASK_DROPPED" : "TASK_LOST",
          "REASON_INVALID_OFFERS",
          `Task launched with invalid offers: ${offerError}`,
        );
      }
      if (op.id && op.type !== "LAUNCH" && op.type !== "LAUNCH_GROUP") {
        operationError(fw, op, `Invalid offers: ${offerError}`);
      }
    }
    return;
  }
  const offers = ids.map((id) => m.offers.get(id)!);
  const agent = m.agents.get(offers[0]!.agentId)!;
  const role = offers[0]!.role;
  const pool = new Resources();
  for (const o of offers) {
    m.offers.delete(o.id);
    agent.offered.subtractAll(o.resources.list);
    pool.addAll(o.resources.list);
  }
  let checkpoint = false;
  const destroyed: { role: string; id: string }[] = [];
  for (const op of ops) {
    try {
      switch (op.type) {
        case "LAUNCH":
        case "LAUNCH_GROUP":
          launch(m, fw, agent, role, pool, op);
          break;
        case "RESERVE":
        case "UNRESERVE":
        case "CREATE":
        case "DESTROY":
          if (op.id) {
            operationError(
              fw,
              op,
              "Operation feedback is not supported on agent default resources",
            );
            break;
          }
          applyResourceOp(m, fw, agent, role, pool, op, destroyed);
          checkpoint = true;
          break;
        default:
          if (op.id) operationError(fw, op, `Unsupported operation '${String(op.type)}'`);
          m.log(`dropping unsupported operation ${String((op as { type?: string }).type)}`);
      }
    } catch (err) {
      if (!(err instanceof OpError)) throw err;
      m.log(`dropping ${op.type} operation: ${err.message}`);
    }
  }
  if (checkpoint) {
    sendToAgent(m, agent, "checkpoint_resources", {
      resources: agent.total.list.map((r) => present(r, true)),
      destroyed_volumes: destroyed,
    });
    m.maintenance.persist();
  }
  // Unused resources count as declined with the call's filters.
  const leftover = pool;
  const fake = {
    id: "",
    frameworkId: fw.id,
    agentId: agent.id,
    role,
    resources: new Resources(),
  };
  m.releaseOffer(fake, leftover, refuseSeconds(body.filters?.refuse_seconds));
}

function launchedTasks(op: Operation): TaskInfo[] {
  if (op.type === "LAUNCH") return op.launch?.task_infos ?? [];
  if (op.type === "LAUNCH_GROUP") return op.launch_group?.task_group?.tasks ?? [];
  return [];
}

function operationError(fw: Framework, op: Operation, message: string): void {
  fw.stream?.send({
    type: "UPDATE_OPERATION_STATUS",
    update_operation_status: {
      status: { operation_id: op.id, state: "OPERATION_ERROR", message },
    },
  });
}

function validateOffers(m: Master, fw: Framework, ids: string[]): string | undefined {
  if (ids.length === 0) return "No offers specified";
  if (new Set(ids).size !== ids.length) return "Duplicate offers specified";
  let agentId: string | undefined;
  let role: string | undefined;
  for (const id of ids) {
    const o = m.offers.get(id);
    if (!o) return `Offer ${id} is no longer valid`;
    if (o.frameworkId !== fw.id) return `Offer ${id} has invalid framework`;
    if (agentId !== undefined && o.agentId !== agentId) {
      return "Aggregated offers must belong to one single agent";
    }
    if (role !== undefined && o.role !== role) {
      return "Aggregated offers must be allocated to the same role";
    }
    agentId = o.agentId;
    role = o.role;
    const a = m.agents.get(o.agentId);
    if (!a || a.state !== "active") return `Agent ${o.agentId} is not available`;
  }
  return undefined;
}

/** Converts resources from an operation; allocation_info, when present, must match. */
function convert(list: Resource[] | undefined, role: string, what: string): Res[] {
  const out: Res[] = [];
  for (const r of list ?? []) {
    if (r.allocation_info?.role !== undefined && r.allocation_info.role !== role) {
      throw new OpError(
        `${what}: resource allocated to role '${r.allocation_info.role}' does not match the offer's role '${role}'`,
      );
    }
    if (r.type === "SCALAR" && (!r.scalar || !(r.scalar.value >= 0))) {
      throw new OpError(`${what}: invalid scalar resource '${r.name}'`);
    }
    if (r.type === "RANGES" && !r.ranges) throw new OpError(`${what}: invalid ranges '${r.name}'`);
    if (r.type === "SET" && !r.set) throw new OpError(`${what}: invalid set '${r.name}'`);
    if (r.type === "TEXT") throw new OpError(`${what}: unsupported resource type TEXT`);
    try {
      out.push(normalize(r));
    } catch (err) {
      throw new OpError(`${what}: ${(err as Error).message}`);
    }
  }
  return out;
}

function withAllocation(list: Resource[] | undefined, role: string): Resource[] {
  return (list ?? []).map((r) => ({ ...r, allocation_info: { role } }));
}

/** Canonical JSON (sorted keys) to compare ExecutorInfos. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(typeof v === "bigint" ? Number(v) : v);
}

/** Per ExecutorInfo object: a running executor's info is compared at each launch. */
const executorKeys = new WeakMap<ExecutorInfo, string>();

function executorKey(e: ExecutorInfo): string {
  let key = executorKeys.get(e);
  if (key === undefined) {
    const { framework_id: _f, resources, ...rest } = e;
    key = canonical({ ...rest, resources: (resources ?? []).map((r) => normalize(r)) });
    executorKeys.set(e, key);
  }
  return key;
}

function launch(
  m: Master,
  fw: Framework,
  agent: Agent,
  role: string,
  pool: Resources,
  op: Operation,
): void {
  const group = op.type === "LAUNCH_GROUP";
  const tasks = launchedTasks(op);
  const groupExecutor = group ? op.launch_group.executor : undefined;
  const reasonInvalid = group ? "REASON_TASK_GROUP_INVALID" : "REASON_TASK_INVALID";
  const fail = (list: TaskInfo[], message: string) => {
    for (const t of list) {
      m.sendMasterUpdate(
        fw,
        { taskId: t.task_id.value, agentId: agent.id },
        "TASK_ERROR",
        reasonInvalid,
        message,
      );
    }
  };
  if (op.id) return fail(tasks, "Operation ID cannot be set for LAUNCH or LAUNCH_GROUP operations");
  if (group) {
    const e = groupExecutor!;
    if (e.type !== "DEFAULT" && e.type !== "CUSTOM") {
      return fail(tasks, "'ExecutorInfo.type' must be set");
    }
    if (e.type === "DEFAULT" && e.command) {
      return fail(tasks, "'ExecutorInfo.command' must not be set for 'DEFAULT' executor");
    }
    if (tasks.length === 0) return fail(tasks, "Task group must contain at least one task");
    for (const t of tasks) {
      if (t.executor)
        return fail(tasks, "Task '" + t.task_id.value + "' must not have an executor");
      if (t.container?.network_infos) {
        return fail(tasks, "NetworkInfos must not be set in the task's ContainerInfo");
      }
    }
  }
  // Validate every task first (a group is all or nothing), charging a scratch pool.
  const scratch = pool.copy();
  const accepted: { task: TaskInfo; res: Res[]; exec?: ExecutorInfo; newExec: Res[] }[] = [];
  const seenIds = new Set<string>();
  const newExecutors = new Set<string>();
  for (const task of tasks) {
    try {
      const idErr = validateId(task.task_id.value);
      if (idErr) throw new OpError(`Task ID '${task.task_id.value}' is invalid: ${idErr}`);
      const existing = fw.tasks.get(task.task_id.value);
      if (
        seenIds.has(task.task_id.value) ||
        (existing && (!isTerminalTaskState(existing.state) || existing.state === "TASK_LOST"))
      ) {
        throw new OpError(`Task has duplicate ID: ${task.task_id.value}`);
      }
      seenIds.add(task.task_id.value);
      if (task.agent_id.value !== agent.id) {
        throw new OpError(`Task uses invalid agent: ${task.agent_id.value}`);
      }
      const res = convert(task.resources, role, "Task");
      if (res.length === 0) throw new OpError("Task uses no resources");
      const exec = group ? groupExecutor : task.executor;
      if (!group && !!task.command === !!task.executor) {
        throw new OpError(
          "Task should have at least one (but not both) of CommandInfo or ExecutorInfo present",
        );
      }
      let newExec: Res[] = [];
      if (exec) {
        const eidErr = validateId(exec.executor_id.value);
        if (eidErr)
          throw new OpError(`Executor ID '${exec.executor_id.value}' is invalid: ${eidErr}`);
        if (exec.framework_id && exec.framework_id.value !== fw.id) {
          throw new OpError("ExecutorInfo has an invalid FrameworkID");
        }
        if ((exec.type ?? "CUSTOM") === "CUSTOM" && !exec.command) {
          throw new OpError("Executor must have 'command' set for 'CUSTOM' executor");
        }
        const running = m.executorOf(agent, fw.id, exec.executor_id.value);
        if (running) {
          if (executorKey(running.info) !== executorKey(exec)) {
            throw new OpError(
              `ExecutorInfo is not compatible with existing ExecutorInfo with the same ExecutorID '${exec.executor_id.value}'`,
            );
          }
        } else if (!newExecutors.has(exec.executor_id.value)) {
          newExec = convert(exec.resources, role, "Executor");
          newExecutors.add(exec.executor_id.value);
        }
      }
      const all = [...res, ...newExec];
      if (!scratch.contains(all)) {
        throw new OpError("Task uses more resources than available in the offers");
      }
      scratch.subtractAll(all);
      accepted.push({ task, res, newExec, ...(exec ? { exec } : {}) });
    } catch (err) {
      if (!(err instanceof OpError)) throw err;
      if (group) return fail(tasks, err.message);
      fail([task], err.message);
    }
  }
  for (const a of accepted) {
    pool.subtractAll([...a.res, ...a.newExec]);
    agent.used.addAll([...a.res, ...a.newExec]);
    let executor: ExecutorInfo | undefined;
    if (a.exec) {
      executor = {
        ...a.exec,
        type: a.exec.type ?? "CUSTOM",
        framework_id: { value: fw.id },
        resources: withAllocation(a.exec.resources, role),
      };
      const key = execKey(fw.id, a.exec.executor_id.value);
      if (!agent.executors.has(key)) {
        agent.executors.set(key, {
          frameworkId: fw.id,
          info: executor,
          resources: a.newExec,
          role,
        });
      }
    }
    const info: TaskInfo = { ...a.task, resources: withAllocation(a.task.resources, role) };
    fw.tasks.set(a.task.task_id.value, {
      info,
      frameworkId: fw.id,
      agentId: agent.id,
      ...(a.exec ? { executorId: a.exec.executor_id.value } : {}),
      role,
      resources: a.res,
      state: "TASK_STAGING",
      released: false,
    });
  }
  if (accepted.length === 0) return;
  const frameworkInfo = m.frameworkInfoFor(fw);
  if (group) {
    const executor = agent.executors.get(execKey(fw.id, groupExecutor!.executor_id.value))!.info;
    sendToAgent(m, agent, "run_task", {
      framework_info: frameworkInfo,
      executor,
      task_group: { tasks: accepted.map((a) => fw.tasks.get(a.task.task_id.value)!.info) },
    });
    return;
  }
  for (const a of accepted) {
    const executor = a.exec
      ? agent.executors.get(execKey(fw.id, a.exec.executor_id.value))?.info
      : undefined;
    sendToAgent(m, agent, "run_task", {
      framework_info: frameworkInfo,
      task: fw.tasks.get(a.task.task_id.value)!.info,
      ...(executor ? { executor } : {}),
    });
  }
}

function applyResourceOp(
  m: Master,
  fw: Framework,
  agent: Agent,
  role: string,
  pool: Resources,
  op: Operation,
  destroyed: { role: string; id: string }[],
): void {
  const principal = fw.info.principal;
  const refinement = fw.capabilities.has("RESERVATION_REFINEMENT");
  const replace = (from: Res[], to: Res[]) => {
    if (!pool.contains(from)) {
      throw new OpError(`${op.type}: the offered resources do not contain what the operation uses`);
    }
    pool.subtractAll(from).addAll(to);
    agent.total.subtractAll(from).addAll(to);
  };
  if (op.type === "RESERVE") {
    const res = convert(op.reserve.resources, role, "RESERVE");
    if (res.length === 0) throw new OpError("RESERVE: no resources");
    const sources: Res[] = [];
    for (const r of res) {
      const stack = r.reservations;
      const last = stack[stack.length - 1];
      if (!last) throw new OpError("Invalid RESERVE Operation: resources are not reserved");
      if (last.type !== "DYNAMIC") {
        throw new OpError("Invalid RESERVE Operation: reservation is not DYNAMIC");
      }
      if (last.role !== role) {
        throw new OpError(
          `Invalid RESERVE Operation: the reservation role '${String(last.role)}' does not match the allocation role '${role}'`,
        );
      }
      if (!refinement && stack.length > 1) {
        throw new OpError(
          "Invalid RESERVE Operation: refined reservations need RESERVATION_REFINEMENT",
        );
      }
      for (let i = 1; i < stack.length; i++) {
        if (!stack[i]!.role?.startsWith(`${stack[i - 1]!.role}/`)) {
          throw new OpError("Invalid RESERVE Operation: refined role is not a descendant");
        }
      }
      if (principal !== undefined && last.principal !== principal) {
        throw new OpError(
          `Invalid RESERVE Operation: reservation principal '${last.principal ?? ""}' does not match the framework principal '${principal}'`,
        );
      }
      if (r.disk?.persistence) {
        throw new OpError("Invalid RESERVE Operation: cannot reserve a persistent volume");
      }
      sources.push({ ...structuredClone(r), reservations: stack.slice(0, -1) });
    }
    return replace(sources, res);
  }
  if (op.type === "UNRESERVE") {
    const res = convert(op.unreserve.resources, role, "UNRESERVE");
    if (res.length === 0) throw new OpError("UNRESERVE: no resources");
    const targets: Res[] = [];
    for (const r of res) {
      const last = r.reservations[r.reservations.length - 1];
      if (!last || last.type !== "DYNAMIC") {
        throw new OpError("Invalid UNRESERVE Operation: resources are not dynamically reserved");
      }
      if (r.disk?.persistence) {
        throw new OpError("Invalid UNRESERVE Operation: a persistent volume cannot be unreserved");
      }
      targets.push({ ...structuredClone(r), reservations: r.reservations.slice(0, -1) });
    }
    return replace(res, targets);
  }
  if (op.type === "CREATE") {
    const vols = convert(op.create.volumes, role, "CREATE");
    if (vols.length === 0) throw new OpError("CREATE: no volumes");
    const sources: Res[] = [];
    const ids = new Set<string>();
    for (const v of vols) {
      const p = v.disk?.persistence;
      const vol = v.disk?.volume;
      if (v.name !== "disk" || !p || !vol) {
        throw new OpError(
          "Invalid CREATE Operation: resources must be disks with persistence and volume",
        );
      }
      if (v.reservations.length === 0) {
        throw new OpError(
          "Invalid CREATE Operation: persistent volumes cannot be created from unreserved resources",
        );
      }
      if (vol.mode !== "RW") throw new OpError("Invalid CREATE Operation: volume mode must be RW");
      if (vol.host_path)
        throw new OpError("Invalid CREATE Operation: volume must not set host_path");
      if (vol.container_path.startsWith("/") || vol.container_path.split("/").includes("..")) {
        throw new OpError("Invalid CREATE Operation: container_path must be a relative path");
      }
      const idErr = validateId(p.id);
      if (idErr) throw new OpError(`Invalid CREATE Operation: persistence ID: ${idErr}`);
      if (principal !== undefined && p.principal !== principal) {
        throw new OpError(
          `Invalid CREATE Operation: persistence principal '${p.principal ?? ""}' does not match the framework principal '${principal}'`,
        );
      }
      if (v.shared && !fw.capabilities.has("SHARED_RESOURCES")) {
        throw new OpError("Invalid CREATE Operation: shared volumes need SHARED_RESOURCES");
      }
      const vRole = v.reservations[v.reservations.length - 1]!.role;
      const dup = agent.total.list.some(
        (r) =>
          r.disk?.persistence?.id === p.id &&
          r.reservations[r.reservations.length - 1]?.role === vRole,
      );
      if (dup || ids.has(p.id)) {
        throw new OpError(`Invalid CREATE Operation: persistence ID '${p.id}' is already in use`);
      }
      ids.add(p.id);
      const src = structuredClone(v);
      const { persistence: _p, volume: _v, ...restDisk } = src.disk!;
      if (Object.keys(restDisk).length) src.disk = restDisk;
      else delete src.disk;
      delete src.shared;
      sources.push(src);
    }
    return replace(sources, vols);
  }
  if (op.type === "DESTROY") {
    const vols = convert(op.destroy.volumes, role, "DESTROY");
    if (vols.length === 0) throw new OpError("DESTROY: no volumes");
    const targets: Res[] = [];
    for (const v of vols) {
      if (!v.disk?.persistence) {
        throw new OpError("Invalid DESTROY Operation: resource is not a persistent volume");
      }
      const running = [...fw.tasks.values()].some(
        (t) =>
          !t.released &&
          t.resources.some((r) => r.disk?.persistence?.id === v.disk!.persistence!.id),
      );
      if (running) throw new OpError("Invalid DESTROY Operation: volume is in use");
      const src = structuredClone(v);
      const { persistence: _p, volume: _v, ...restDisk } = src.disk!;
      if (Object.keys(restDisk).length) src.disk = restDisk;
      else delete src.disk;
      targets.push(src);
      destroyed.push({
        role: v.reservations[v.reservations.length - 1]?.role ?? "*",
        id: v.disk.persistence.id,
      });
    }
    return replace(vols, targets);
  }
}
