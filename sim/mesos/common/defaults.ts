// Mesos writes every unset optional field that has a (non-deprecated) explicit default in
// the .proto (reference 1.2). These fill in the ones a framework or executor can observe in
// what the simulator sends: FrameworkInfo, ExecutorInfo, TaskInfo, CommandInfo, URIs,
// environment variables and health checks.
import type {
  CommandInfo,
  ExecutorInfo,
  FrameworkInfo,
  HealthCheck,
  TaskInfo,
} from "../../../src/mesos/types/index.js";

export function commandDefaults(c: CommandInfo): CommandInfo {
  const out: CommandInfo = { ...c, shell: c.shell ?? true };
  if (c.uris) out.uris = c.uris.map((u) => ({ ...u, extract: u.extract ?? true }));
  if (c.environment?.variables) {
    out.environment = {
      ...c.environment,
      variables: c.environment.variables.map((v) => ({ ...v, type: v.type ?? "VALUE" })),
    };
  }
  return out;
}

function healthDefaults(h: HealthCheck): HealthCheck {
  return {
    ...h,
    delay_seconds: h.delay_seconds ?? 15,
    interval_seconds: h.interval_seconds ?? 10,
    timeout_seconds: h.timeout_seconds ?? 20,
    consecutive_failures: h.consecutive_failures ?? 3,
    grace_period_seconds: h.grace_period_seconds ?? 10,
    ...(h.command ? { command: commandDefaults(h.command) } : {}),
  };
}

export function frameworkDefaults(f: FrameworkInfo): FrameworkInfo {
  return { ...f, failover_timeout: f.failover_timeout ?? 0, checkpoint: f.checkpoint ?? false };
}

export function executorDefaults(e: ExecutorInfo): ExecutorInfo {
  return e.command ? { ...e, command: commandDefaults(e.command) } : e;
}

export function taskDefaults(t: TaskInfo): TaskInfo {
  const out: TaskInfo = { ...t };
  if (t.command) out.command = commandDefaults(t.command);
  if (t.executor) out.executor = executorDefaults(t.executor);
  if (t.health_check) out.health_check = healthDefaults(t.health_check);
  return out;
}
