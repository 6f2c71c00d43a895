// `systemctl` and `service` on an emulated node: the services ScaleIO's packages register, and
// what stopping, starting or restarting them does to that node's emulated processes (never
// the real machine's). RHEL 7 packages (rpm) register systemd units `mdm`, `sds`, `lia`
// (their install prints systemd's "Created symlink from ..."; puppet modules run
// `systemctl restart mdm.service`); Ubuntu 14.04 packages (deb) register upstart jobs
// ("sds start/running"); the SDC's `scini` and the gateway's `scaleio-gateway` are init
// scripts on both. What is verified and what is not: sim/scaleio/README.md, "Services".
import { existsSync } from "node:fs";
import { join } from "node:path";
import { isDaemon, type ScaleioSystem } from "../model/system.js";
import { emulatedInit } from "./unpacked-units.js";
import type { Component, NodeRecord, PackageFlavor } from "../model/types.js";
import type { ExecResult, NodeContext } from "./scli.js";

export type ServiceKind = "systemd" | "upstart" | "sysv";
export type ServiceState = "active" | "inactive" | "failed";

/** The service name each component's package registers. */
export const SERVICE_NAME: Record<Component, string> = {
  mdm: "mdm",
  sds: "sds",
  sdc: "scini",
  lia: "lia",
  gateway: "scaleio-gateway",
};

const DESCRIPTION: Record<Component, string> = {
  mdm: "ScaleIO MDM",
  sds: "ScaleIO SDS",
  sdc: "ScaleIO SDC driver (scini)",
  lia: "ScaleIO LIA",
  gateway: "ScaleIO Gateway",
};

export interface ServiceDef {
  name: string;
  component: Component;
  kind: ServiceKind;
}

export function serviceKind(c: Component, flavor: PackageFlavor): ServiceKind {
  if (c === "sdc" || c === "gateway") return "sysv";
  return flavor === "rpm" ? "systemd" : "upstart";
}

/**
 * The node's init system: what its emulated OS shows (systemd's /run/systemd/system, upstart's
 * /sbin/initctl), else upstart where its packages are Ubuntu 14.04's, else systemd.
 */
export function initSystemOf(node: NodeRecord | undefined): "systemd" | "upstart" {
  const emulated = emulatedInit(node?.root);
  if (emulated) return emulated;
  return [...(node?.packages.values() ?? [])].some((p) => p.flavor === "deb")
    ? "upstart"
    : "systemd";
}

export function servicesOf(node: NodeRecord | undefined): ServiceDef[] {
  return [...(node?.packages.values() ?? [])].map((p) => ({
    name: SERVICE_NAME[p.component],
    component: p.component,
    kind: serviceKind(p.component, p.flavor),
  }));
}

/** Files a package writes for its service under the node root (path, content, mode). */
export function serviceFiles(
  c: Component,
  flavor: PackageFlavor,
  initScript: (name: string) => string,
): { path: string; content: string; mode?: number }[] {
  const name = SERVICE_NAME[c];
  switch (serviceKind(c, flavor)) {
    case "systemd": {
      const unit = `[Unit]\nDescription=${DESCRIPTION[c]}\nAfter=network.target\n\n[Service]\nType=forking\nExecStart=/opt/emc/scaleio/${c}/bin/${c}.sh start\nExecStop=/opt/emc/scaleio/${c}/bin/${c}.sh stop\n\n[Install]\nWantedBy=multi-user.target\n`;
      return [
        { path: `usr/lib/systemd/system/${name}.service`, content: unit },
        {
          path: `etc/systemd/system/multi-user.target.wants/${name}.service`,
          content: unit,
        },
      ];
    }
    case "upstart":
      return [
        {
          path: `etc/init/${name}.conf`,
          content: `description "${DESCRIPTION[c]}"\nstart on runlevel [2345]\nstop on runlevel [016]\nexec /opt/emc/scaleio/${c}/bin/${c}.sh\n`,
        },
      ];
    case "sysv":
      return [{ path: `etc/init.d/${name}`, content: initScript(name), mode: 0o755 }];
  }
}

const ok = (stdout = "", stderr = ""): ExecResult => ({ stdout, stderr, exitCode: 0 });
const fail = (exitCode: number, stderr: string, stdout = ""): ExecResult => ({
  stdout,
  stderr,
  exitCode,
});
const unitName = (u: string) => u.replace(/\.service$/, "");

/** Verbs that act on a service; the rest only look. */
type Action = "start" | "stop" | "restart";

export class NodeServices {
  /** LIA and gateway have no process in the model: their stopped services are kept here. */
  private readonly stoppedAux = new Set<string>();
  /** Started services whose units others wrote under the node root (`<ip>/<name>`). */
  private readonly startedLocal = new Set<string>();

  constructor(private readonly sys: ScaleioSystem) {}

  state(node: NodeRecord, c: Component): ServiceState {
    if (isDaemon(c)) {
      const alive = c === "mdm" ? node.mdmAlive : c === "sds" ? node.sdsAlive : node.sdcAlive;
      if (alive) return "active";
      return node.crashed.has(c) ? "failed" : "inactive";
    }
    return this.stoppedAux.has(`${node.ip}/${c}`) ? "inactive" : "active";
  }

  /**
   * Start brings a stopped or dead process back (the MDM then sees it return: an SDS
   * reconnects and resynchronises, an MDM rejoins the cluster); restart of a running one is
   * too brief for the MDM to notice; stop takes it down as a clean stop.
   */
  private act(node: NodeRecord, c: Component, action: Action): void {
    const running = this.state(node, c) === "active";
    const up = action !== "stop";
    if (up && running) return;
    if (isDaemon(c)) this.sys.setComponentAlive(node.ip, c, up, false);
    else if (up) this.stoppedAux.delete(`${node.ip}/${c}`);
    else this.stoppedAux.add(`${node.ip}/${c}`);
  }

  private find(node: NodeRecord | undefined, name: string): ServiceDef | undefined {
    return servicesOf(node).find((s) => s.name === unitName(name));
  }

  systemctl(ctx: NodeContext, argv: string[]): ExecResult {
    const node = this.sys.nodes.get(ctx.ip);
    if (initSystemOf(node) === "upstart")
      return fail(127, "systemctl: command not found (this node runs upstart: use service)\n");
    const words = argv.filter((a) => !a.startsWith("-"));
    const [verb, ...units] = words;
    if (!verb) return fail(1, "systemctl: a command is required\n");
    if (verb === "daemon-reload") return ok();
    const looks = ["status", "is-active", "is-failed", "is-enabled"];
    const acts: Record<string, Action> = {
      start: "start",
      stop: "stop",
      restart: "restart",
      "try-restart": "restart",
      "reload-or-restart": "restart",
      "force-reload": "restart",
    };
    if (!looks.includes(verb) && !acts[verb] && verb !== "enable" && verb !== "disable")
      return fail(1, `Unknown operation '${verb}'.\n`);
    if (units.length === 0) return fail(1, `Too few arguments.\n`);
    this.sys.tick();
    let stdout = "";
    let stderr = "";
    let exitCode = 0;
    for (const u of units) {
      const svc = this.find(node, u);
      const full = `${unitName(u)}.service`;
      if (!svc && this.localUnit(ctx, u)) {
        const r = this.localVerb(ctx, unitName(u), verb);
        stdout += r.stdout;
        stderr += r.stderr;
        exitCode = Math.max(exitCode, r.exitCode);
        continue;
      }
      if (!svc || !node) {
        if (verb === "status") {
          stderr += `Unit ${full} could not be found.\n`;
          exitCode = Math.max(exitCode, 4);
        } else if (verb === "is-active" || verb === "is-failed") {
          stdout += "unknown\n";
          exitCode = Math.max(exitCode, verb === "is-active" ? 3 : 1);
        } else {
          stderr += `Failed to ${verb} ${full}: Unit not found.\n`;
          exitCode = Math.max(exitCode, 5);
        }
        continue;
      }
      const action = acts[verb];
      if (action) {
        // try-restart leaves a stopped service stopped.
        if (verb === "try-restart" && this.state(node, svc.component) !== "active") continue;
        this.act(node, svc.component, action);
        continue;
      }
      const state = this.state(node, svc.component);
      switch (verb) {
        case "status":
          stdout += this.statusText(svc, state);
          if (state !== "active") exitCode = Math.max(exitCode, 3);
          break;
        case "is-active":
          stdout += `${state}\n`;
          if (state !== "active") exitCode = Math.max(exitCode, 3);
          break;
        case "is-failed":
          stdout += `${state}\n`;
          if (state !== "failed") exitCode = Math.max(exitCode, 1);
          break;
        case "is-enabled":
          stdout += "enabled\n";
          break;
        default: // enable, disable: the packages already enabled their services
          break;
      }
    }
    return { stdout, stderr, exitCode };
  }

  private statusText(svc: ServiceDef, state: ServiceState): string {
    const loaded =
      svc.kind === "sysv"
        ? `/etc/rc.d/init.d/${svc.name}; bad; vendor preset: disabled`
        : `/usr/lib/systemd/system/${svc.name}.service; enabled; vendor preset: disabled`;
    const active =
      state === "active"
        ? "active (running)"
        : state === "failed"
          ? "failed (Result: signal)"
          : "inactive (dead)";
    return `● ${svc.name}.service - ${DESCRIPTION[svc.component]}\n   Loaded: loaded (${loaded})\n   Active: ${active}\n`;
  }

  /** `service <name> <verb>` (also what an `/etc/init.d/<name>` script runs). */
  service(ctx: NodeContext, argv: string[]): ExecResult {
    const node = this.sys.nodes.get(ctx.ip);
    const init = initSystemOf(node);
    const [name, verb] = argv;
    if (!name || !verb || name.startsWith("-"))
      return fail(
        1,
        "Usage: service < option > | --status-all | [ service_name [ command | --full-restart ] ]\n",
      );
    const svc = this.find(node, name);
    const local = svc ? undefined : this.localUnit(ctx, name);
    if (local) {
      if (local === "systemd") {
        const r = this.systemctl(ctx, [verb, name]);
        return {
          ...r,
          stderr: `Redirecting to /bin/systemctl ${verb}  ${name}.service\n${r.stderr}`,
        };
      }
      this.sys.tick();
      return this.localService(ctx, name, verb, local);
    }
    if (!svc || !node) {
      if (init === "systemd")
        return fail(
          5,
          `Redirecting to /bin/systemctl ${verb}  ${name}.service\nFailed to ${verb} ${name}.service: Unit not found.\n`,
        );
      return fail(1, `${name}: unrecognized service\n`);
    }
    if (svc.kind === "systemd") {
      const r = this.systemctl(ctx, [verb, svc.name]);
      return {
        ...r,
        stderr: `Redirecting to /bin/systemctl ${verb}  ${svc.name}.service\n${r.stderr}`,
      };
    }
    this.sys.tick();
    return svc.kind === "upstart"
      ? this.upstart(node, svc, verb)
      : this.initScript(node, svc, verb, init);
  }

  /**
   * A unit or job written under the node root by someone other than ScaleIO's packages (the
   * framework's REX-Ray service): its kind, from where its file is, or undefined.
   */
  private localUnit(ctx: NodeContext, name: string): ServiceKind | undefined {
    const n = unitName(name);
    const root = ctx.root ?? this.sys.nodes.get(ctx.ip)?.root;
    if (!root || !/^[A-Za-z0-9@._-]+$/.test(n)) return undefined;
    if (existsSync(join(root, "etc/systemd/system", `${n}.service`))) return "systemd";
    if (existsSync(join(root, "etc/init", `${n}.conf`))) return "upstart";
    if (existsSync(join(root, "etc/init.d", n))) return "sysv";
    return undefined;
  }

  /** systemctl on such a unit: nothing runs; its state is what was last asked. */
  private localVerb(ctx: NodeContext, name: string, verb: string): ExecResult {
    const key = `${ctx.ip}/${name}`;
    const active = () => this.startedLocal.has(key);
    switch (verb) {
      case "start":
      case "restart":
      case "reload-or-restart":
      case "force-reload":
        this.startedLocal.add(key);
        return ok();
      case "try-restart":
        return ok();
      case "stop":
        this.startedLocal.delete(key);
        return ok();
      case "is-active":
        return active() ? ok("active\n") : fail(3, "", "inactive\n");
      case "is-failed":
        return fail(1, "", `${active() ? "active" : "inactive"}\n`);
      case "status":
        return active()
          ? ok(`● ${name}.service\n   Active: active (running)\n`)
          : fail(3, "", `● ${name}.service\n   Active: inactive (dead)\n`);
      default: // enable, disable, is-enabled
        return verb === "is-enabled" ? ok("enabled\n") : ok();
    }
  }

  /** `service <name> <verb>` on such an upstart job or init script. */
  private localService(
    ctx: NodeContext,
    name: string,
    verb: string,
    kind: ServiceKind,
  ): ExecResult {
    const key = `${ctx.ip}/${name}`;
    const running = this.startedLocal.has(key);
    if (verb === "status") {
      if (kind === "upstart")
        return ok(running ? `${name} start/running, process 4242\n` : `${name} stop/waiting\n`);
      return running ? ok(`${name} is running\n`) : fail(3, "", `${name} is stopped\n`);
    }
    if (!["start", "stop", "restart", "force-reload"].includes(verb))
      return fail(1, `${verb}: unknown command\n`);
    if (kind === "upstart" && verb === "start" && running)
      return fail(1, `start: Job is already running: ${name}\n`);
    this.localVerb(ctx, name, verb);
    if (kind === "upstart")
      return ok(
        verb === "stop" ? `${name} stop/waiting\n` : `${name} start/running, process 4242\n`,
      );
    const what = verb === "stop" ? "Stopping" : verb === "start" ? "Starting" : "Restarting";
    return ok(`${what} ${name}:  [  OK  ]\n`);
  }

  /** Ubuntu 14.04's `service` on an upstart job (restart = stop, ignoring failure, then start). */
  private upstart(node: NodeRecord, svc: ServiceDef, verb: string): ExecResult {
    const running = () => this.state(node, svc.component) === "active";
    const started = () => `${svc.name} start/running, process ${4200 + svc.name.length}\n`;
    const stopped = `${svc.name} stop/waiting\n`;
    switch (verb) {
      case "status":
        return ok(running() ? started() : stopped);
      case "start":
        if (running()) return fail(1, `start: Job is already running: ${svc.name}\n`);
        this.act(node, svc.component, "start");
        return ok(started());
      case "stop":
        if (!running()) return fail(1, "stop: Unknown instance: \n");
        this.act(node, svc.component, "stop");
        return ok(stopped);
      case "restart":
      case "force-reload": {
        // A running job's stop and start are too close together for the MDM to notice.
        const wasRunning = running();
        this.act(node, svc.component, "restart");
        return ok(
          (wasRunning ? stopped : "") + started(),
          wasRunning ? "" : "stop: Unknown instance: \n",
        );
      }
      default:
        return fail(1, `${verb}: unknown job command\n`);
    }
  }

  /** An init script (scini, scaleio-gateway): LSB verbs and exit codes. */
  private initScript(
    node: NodeRecord,
    svc: ServiceDef,
    verb: string,
    init: "systemd" | "upstart",
  ): ExecResult {
    const via = init === "systemd" ? " (via systemctl)" : "";
    const line = (what: string) => `${what} ${svc.name}${via}:  [  OK  ]\n`;
    switch (verb) {
      case "status": {
        const state = this.state(node, svc.component);
        return state === "active"
          ? ok(`${svc.name} is running\n`)
          : fail(3, "", `${svc.name} is stopped\n`);
      }
      case "start":
        this.act(node, svc.component, "start");
        return ok(line("Starting"));
      case "stop":
        this.act(node, svc.component, "stop");
        return ok(line("Stopping"));
      case "restart":
      case "force-reload":
      case "condrestart":
      case "try-restart":
        if (
          verb !== "restart" &&
          verb !== "force-reload" &&
          this.state(node, svc.component) !== "active"
        )
          return ok();
        this.act(node, svc.component, "restart");
        return ok(line("Restarting"));
      default:
        return fail(2, `Usage: /etc/init.d/${svc.name} {start|stop|restart|status}\n`);
    }
  }
}
