// Fake `rpm` and `dpkg`: installing a ScaleIO package brings its component up for the node's
// IP (with the install environment variables of reference 2.3) and prints the success marker
// the framework looks for; removing it takes the component away.
import { existsSync } from "node:fs";
import { isAbsolute, join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type { ScaleioSystem } from "../model/system.js";
import type { Component, PackageFlavor } from "../model/types.js";
import { compareVersions } from "../model/versions.js";
import { removeNodePath, writeNodeFile } from "./files.js";
import { initSystemOf, serviceFiles } from "./services.js";
import { emulatedInit, missingSciniDriver } from "./unpacked-units.js";
import { PACKAGED_KERNELS } from "./package-payloads.js";
import type { ExecResult, NodeContext } from "./scli.js";

const COMPONENTS: Component[] = ["mdm", "sds", "sdc", "lia", "gateway"];
const FILE_RE =
  /(?:EMC-ScaleIO|emc-scaleio)-(mdm|sds|sdc|lia|gateway)[-_](\d+\.\d+-\d+(?:\.\d+)?)/i;

export function packageName(c: Component, flavor: PackageFlavor): string {
  return flavor === "rpm" ? `EMC-ScaleIO-${c}` : `emc-scaleio-${c}`;
}

export function packageFileName(c: Component, version: string, flavor: PackageFlavor): string {
  return flavor === "rpm"
    ? `EMC-ScaleIO-${c}-${version}.el7.x86_64.rpm`
    : `emc-scaleio-${c}_${version}_amd64.deb`;
}

/** The folder holding scli, drv_cfg, rpm, dpkg (put first on a node's PATH). */
export function simBinDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json")) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, "sim", "scaleio", "bin");
}

/**
 * The executor environment that makes each Mesos agent one emulated ScaleIO node: its tools
 * first on PATH, the emulator to talk to, its address and its root folder
 * (`<nodesDir>/<agent address>`; the agent expands `${AGENT_IP}`).
 */
export function emulatedNodeEnv(controlUrl: string, nodesDir: string): Record<string, string> {
  return {
    PATH: `${simBinDir()}:\${PATH}`,
    SCALEIO_SIM_CONTROL: controlUrl,
    SCALEIO_SIM_NODE_IP: "${AGENT_IP}",
    SCALEIO_SIM_ROOT: `${nodesDir}/\${AGENT_IP}`,
    SCALEIO_FRAMEWORK_HOST_PROFILE: "dev",
    SCALEIO_FRAMEWORK_PACKAGE_FORMAT: "rpm",
  };
}

function componentOf(name: string): Component | undefined {
  const m = /^(?:EMC-ScaleIO|emc-scaleio)-(mdm|sds|sdc|lia|gateway)$/i.exec(name);
  return m ? (m[1]!.toLowerCase() as Component) : undefined;
}

const ok = (stdout: string): ExecResult => ({ stdout, stderr: "", exitCode: 0 });
const fail = (stderr: string, code = 1): ExecResult => ({ stdout: "", stderr, exitCode: code });

export class PackageTool {
  constructor(
    private readonly sys: ScaleioSystem,
    private readonly controlUrl: () => string,
  ) {}

  rpm(ctx: NodeContext, argv: string[], cwd: string | undefined): ExecResult {
    const op = argv.find((a) => a.startsWith("-")) ?? "";
    const rest = argv.filter((a) => !a.startsWith("-"));
    if (/^-(U|i|F)/.test(op) || op === "--install" || op === "--upgrade") {
      if (rest.length === 0) return fail("rpm: no packages given for install\n");
      const out: string[] = [];
      for (const f of rest) {
        const r = this.install(ctx, f, "rpm", cwd, /^-i/.test(op) || op === "--install");
        if (r.exitCode !== 0) return { ...r, stdout: out.join("") + r.stdout };
        out.push(r.stdout);
      }
      return ok(out.join(""));
    }
    if (op === "-e" || op === "--erase") {
      for (const name of rest) {
        const c = componentOf(name);
        if (!c || !this.sys.nodes.get(ctx.ip)?.packages.has(c))
          return fail(`error: package ${name} is not installed\n`);
        this.remove(ctx, c);
      }
      return ok("");
    }
    if (op.startsWith("-q")) {
      if (op === "-qa") {
        const pk = this.sys.nodes.get(ctx.ip)?.packages;
        return ok(
          [...(pk?.values() ?? [])]
            .map((p) => `${packageName(p.component, "rpm")}-${p.version}.el7.x86_64\n`)
            .join(""),
        );
      }
      // --qf/--queryformat with %{NAME} %{VERSION} %{RELEASE} %{ARCH}, as version checks use.
      let fmt: string | undefined;
      const names: string[] = [];
      for (let i = 1; i < argv.length; i++) {
        const a = argv[i]!;
        if (a === "--qf" || a === "--queryformat") fmt = argv[++i];
        else if (a.startsWith("--qf=") || a.startsWith("--queryformat="))
          fmt = a.slice(a.indexOf("=") + 1);
        else if (!a.startsWith("-")) names.push(a);
      }
      const lines: string[] = [];
      let code = 0;
      for (const name of names) {
        const c = componentOf(name);
        const p = c ? this.sys.nodes.get(ctx.ip)?.packages.get(c) : undefined;
        if (!p) {
          lines.push(`package ${name} is not installed\n`);
          code = 1;
          continue;
        }
        const [version, release] = p.version.split("-") as [string, string];
        const fields: Record<string, string> = {
          NAME: packageName(p.component, "rpm"),
          VERSION: version,
          RELEASE: `${release}.el7`,
          ARCH: "x86_64",
        };
        lines.push(
          fmt
            ? fmt
                .replace(/%\{(\w+)\}/g, (_m, k: string) => fields[k.toUpperCase()] ?? "(none)")
                .replace(/\\n/g, "\n")
                .replace(/\\t/g, "\t")
            : `${fields.NAME}-${p.version}.el7.x86_64\n`,
        );
      }
      return { stdout: lines.join(""), stderr: "", exitCode: code };
    }
    return fail(`rpm: unsupported arguments: ${argv.join(" ")}\n`);
  }

  dpkg(ctx: NodeContext, argv: string[], cwd: string | undefined): ExecResult {
    const op = argv[0] ?? "";
    const rest = argv.slice(1).filter((a) => !a.startsWith("-"));
    if (op === "-i" || op === "--install") {
      if (rest.length === 0) {
        return fail("dpkg: error: --install needs at least one package archive file argument\n", 2);
      }
      const out: string[] = [];
      for (const f of rest) {
        const r = this.install(ctx, f, "deb", cwd, false);
        if (r.exitCode !== 0) return { ...r, stdout: out.join("") + r.stdout };
        out.push(r.stdout);
      }
      return ok(out.join(""));
    }
    if (["-r", "-P", "--remove", "--purge"].includes(op)) {
      const out: string[] = [];
      for (const name of rest) {
        const c = componentOf(name);
        if (!c || !this.sys.nodes.get(ctx.ip)?.packages.has(c)) {
          out.push(`dpkg: warning: ignoring request to remove ${name} which isn't installed\n`);
          continue;
        }
        out.push(`(Reading database ... )\nRemoving ${packageName(c, "deb")} ...\n`);
        this.remove(ctx, c);
      }
      return ok(out.join(""));
    }
    if (op === "-s" || op === "--status" || op === "-l") {
      const name = rest[0] ?? "";
      const c = componentOf(name);
      const p = c ? this.sys.nodes.get(ctx.ip)?.packages.get(c) : undefined;
      if (!p)
        return fail(
          `dpkg-query: package '${name}' is not installed and no information is available\n`,
        );
      return ok(
        `Package: ${packageName(p.component, "deb")}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${p.version}\n`,
      );
    }
    return fail(`dpkg: unsupported arguments: ${argv.join(" ")}\n`);
  }

  /**
   * `dpkg-query -W [-f=<format>] <name>...`: a line per installed package (`${Package}`,
   * `${Version}`, `${Status}`, `${db:Status-Abbrev}` in the format), an error line per
   * unknown one, exit 1 when any was unknown.
   */
  dpkgQuery(ctx: NodeContext, argv: string[]): ExecResult {
    let fmt: string | undefined;
    const names: string[] = [];
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!;
      if (a === "-f" || a === "--showformat") fmt = argv[++i];
      else if (a.startsWith("-f=") || a.startsWith("--showformat="))
        fmt = a.slice(a.indexOf("=") + 1);
      else if (a.startsWith("-f") && a.length > 2) fmt = a.slice(2);
      else if (!a.startsWith("-")) names.push(a);
    }
    let stdout = "";
    let stderr = "";
    for (const name of names) {
      const c = componentOf(name);
      const p = c ? this.sys.nodes.get(ctx.ip)?.packages.get(c) : undefined;
      if (!p) {
        stderr += `dpkg-query: no packages found matching ${name}\n`;
        continue;
      }
      const fields: Record<string, string> = {
        Package: packageName(p.component, "deb"),
        Version: p.version,
        Status: "install ok installed",
        "db:Status-Abbrev": "ii ",
      };
      stdout +=
        fmt === undefined
          ? `${fields.Package}\t${p.version}\n`
          : fmt
              .replace(/\$\{([\w:-]+)\}/g, (_m, k: string) => fields[k] ?? "")
              .replace(/\\n/g, "\n")
              .replace(/\\t/g, "\t");
    }
    return { stdout, stderr, exitCode: stderr ? 1 : 0 };
  }

  private install(
    ctx: NodeContext,
    file: string,
    flavor: PackageFlavor,
    cwd: string | undefined,
    noUpgrade: boolean,
  ): ExecResult {
    const path = isAbsolute(file) ? file : resolve(cwd ?? "/", file);
    if (!existsSync(path)) {
      return fail(
        flavor === "rpm"
          ? `error: open of ${file} failed: No such file or directory\n`
          : `dpkg: error processing archive ${file} (--install):\n cannot access archive: No such file or directory\n`,
      );
    }
    const m = FILE_RE.exec(file);
    if (!m) return fail(`error: ${file}: not a ScaleIO package known to the emulator\n`);
    const c = m[1]!.toLowerCase() as Component;
    const version = m[2]!;
    const node = this.sys.node(ctx.ip);
    if (ctx.root) node.root = ctx.root;
    const cur = node.packages.get(c);
    if (flavor === "rpm" && cur) {
      const cmp = compareVersions(version, cur.version);
      if (cmp === 0 || noUpgrade)
        return fail(
          `\tpackage ${packageName(c, "rpm")}-${cur.version}.el7.x86_64 is already installed\n`,
        );
      if (cmp < 0)
        return fail(
          `\tpackage ${packageName(c, "rpm")}-${cur.version}.el7.x86_64 (which is newer) is already installed\n`,
        );
    }
    if (
      c === "mdm" &&
      ctx.env.MDM_ROLE_IS_MANAGER !== undefined &&
      !["0", "1"].includes(ctx.env.MDM_ROLE_IS_MANAGER)
    ) {
      return fail("MDM_ROLE_IS_MANAGER must be 0 or 1\n");
    }
    if (c === "sdc") {
      // scini loads only with a driver for the running kernel (a node with an emulated OS).
      const missing = missingSciniDriver(
        ctx.root ?? node.root,
        "package-tool",
        PACKAGED_KERNELS[flavor],
      );
      if (missing) return fail(`Failed to load module scini: ${missing}\n`);
    }
    this.sys.installPackage(ctx.ip, c, version, flavor, ctx.env);
    this.writeFiles(ctx, c);
    this.writeServiceFiles(ctx, c, flavor);
    const init = emulatedInit(node.root) ?? initSystemOf(node);
    return ok(this.marker(c, flavor, version, !!cur, init));
  }

  private remove(ctx: NodeContext, c: Component): void {
    const flavor = this.sys.nodes.get(ctx.ip)?.packages.get(c)?.flavor ?? "rpm";
    this.sys.removePackage(ctx.ip, c);
    const root = this.sys.nodes.get(ctx.ip)?.root ?? ctx.root;
    removeNodePath(root, `opt/emc/scaleio/${c}`);
    for (const f of serviceFiles(c, flavor, () => "")) removeNodePath(root, f.path);
    if (c === "sdc") {
      removeNodePath(root, "bin/emc/scaleio");
      removeNodePath(root, "dev/scini");
    }
  }

  /**
   * The package's service: a systemd unit (rpm) or upstart job (deb), or an init script that
   * forwards to the emulator's `service` for this node (so `/etc/init.d/scini restart` under
   * the node root works as on the real machine).
   */
  private writeServiceFiles(ctx: NodeContext, c: Component, flavor: PackageFlavor): void {
    const root = this.sys.node(ctx.ip).root;
    const env = `SCALEIO_SIM_CONTROL='${this.controlUrl()}' SCALEIO_SIM_NODE_IP='${ctx.ip}' SCALEIO_SIM_ROOT='${root ?? ""}'`;
    const script = (name: string) =>
      `#!/bin/sh
# ${name}: init script of the ScaleIO emulator's node ${ctx.ip}
${env} exec '${join(simBinDir(), "service")}' ${name} "$@"
`;
    for (const f of serviceFiles(c, flavor, script)) writeNodeFile(root, f.path, f.content, f.mode);
  }

  private writeFiles(ctx: NodeContext, c: Component): void {
    const node = this.sys.node(ctx.ip);
    const root = node.root;
    switch (c) {
      case "mdm":
        writeNodeFile(
          root,
          "opt/emc/scaleio/mdm/cfg/conf.txt",
          `actor_role_is_manager=${node.mdmIsManager ? 1 : 0}\n`,
        );
        break;
      case "sdc": {
        // Clients (goscaleio) test for the scini device node to decide whether an SDC is installed.
        writeNodeFile(root, "dev/scini", "");
        writeNodeFile(
          root,
          "bin/emc/scaleio/drv_cfg.txt",
          `# scini configuration\nmdm ${node.sdcMdmIps.join(",")}\n`,
        );
        // The documented tool path; it forwards to the emulator like the PATH folder does.
        const env = `SCALEIO_SIM_CONTROL='${this.controlUrl()}' SCALEIO_SIM_NODE_IP='${ctx.ip}' SCALEIO_SIM_ROOT='${root ?? ""}'`;
        writeNodeFile(
          root,
          "opt/emc/scaleio/sdc/bin/drv_cfg",
          `#!/bin/sh\n${env} exec '${join(simBinDir(), "drv_cfg")}' "$@"\n`,
          0o755,
        );
        break;
      }
      case "lia":
        writeNodeFile(root, "opt/emc/scaleio/lia/cfg/conf.txt", "lia_token_set=1\n");
        break;
      case "gateway":
        // The admin password is a secret: it is never written out in clear.
        writeNodeFile(
          root,
          "opt/emc/scaleio/gateway/webapps/ROOT/WEB-INF/classes/gatewayUser.properties",
          `mdm.ip.addresses=${this.sys.cluster.managerIps().join(",")}\nsecurity.bypass_certificate_check=false\ngateway-security.allow_non_secure_communication=false\n`,
        );
        writeNodeFile(
          root,
          "opt/emc/scaleio/gateway/conf/catalina.properties",
          "ssl.port=443\nhttp.port=80\n",
        );
        break;
      case "sds":
        writeNodeFile(root, "opt/emc/scaleio/sds/cfg/conf.txt", "sds_port=7072\n");
        break;
    }
  }

  /**
   * The installer's output: rpm's or dpkg's lines, then the service's own (reference 2.3):
   * systemd's "Created symlink" or upstart's "start/running", as the node's init system is.
   */
  private marker(
    c: Component,
    flavor: PackageFlavor,
    version: string,
    upgrade: boolean,
    init: "systemd" | "upstart",
  ): string {
    const name = packageName(c, flavor);
    const byInit = flavor === "rpm" ? "systemd" : "upstart";
    if (init !== byInit && c !== "sdc" && c !== "gateway") {
      const svc = c;
      const line =
        init === "systemd"
          ? `Created symlink from /etc/systemd/system/multi-user.target.wants/${svc}.service to /lib/systemd/system/${svc}.service.\n`
          : `${svc} start/running, process 4242\n`;
      return `${this.marker(c, flavor, version, upgrade, byInit).split("\n").slice(0, -2).join("\n")}\n${line}`;
    }
    if (flavor === "rpm") {
      const head = `Preparing...                          ################################# [100%]\nUpdating / installing...\n   1:${name}-${version}.el7  ################################# [100%]\n`;
      const svc = c === "sdc" ? "scini" : c === "gateway" ? "scaleio-gateway" : c;
      switch (c) {
        case "sdc":
          return `${head}Starting scini (via systemctl):  [  OK  ]\n`;
        case "gateway":
          return `${head}The EMC ScaleIO Gateway is running. PID=4242.\n`;
        default:
          return `${head}${upgrade ? "Upgrading...\n" : ""}Created symlink from /etc/systemd/system/multi-user.target.wants/${svc}.service to /usr/lib/systemd/system/${svc}.service.\n`;
      }
    }
    const head = `Selecting previously unselected package ${name}.\n(Reading database ... )\nPreparing to unpack ... ${name}_${version}_amd64.deb ...\nUnpacking ${name} (${version}) ...\nSetting up ${name} (${version}) ...\n`;
    switch (c) {
      case "sdc":
        return `${head}Success configuring module\n`;
      case "gateway":
        return `${head}The EMC ScaleIO Gateway is running. PID=4242.\n`;
      default:
        return `${head}${c} start/running, process 4242\n`;
    }
  }
}

export { COMPONENTS };
