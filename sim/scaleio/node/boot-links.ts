// `chkconfig` (RHEL/CentOS 6) and `update-rc.d` (Debian, Ubuntu) on an emulated node: they
// enable an init script at boot by linking it into the runlevel folders under the node's root
// (RHEL: /etc/rc.d/rc<N>.d, Debian: /etc/rc<N>.d), S links for runlevels 2-5 and K links for
// 0, 1 and 6, as the real tools do for an LSB script with the usual Default-Start/Stop.
// Nothing boots in the emulator: the links are what a test (or an operator) looks at.
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import type { ExecResult, NodeContext } from "./scli.js";

const ok = (stdout = ""): ExecResult => ({ stdout, stderr: "", exitCode: 0 });
const fail = (exitCode: number, stderr: string): ExecResult => ({ stdout: "", stderr, exitCode });
const LEVELS = [0, 1, 2, 3, 4, 5, 6];
const STARTS = new Set([2, 3, 4, 5]);
const NAME = /^[A-Za-z0-9@._-]+$/;

type Style = "rhel" | "debian";
const levelDir = (style: Style, n: number) =>
  style === "rhel" ? `etc/rc.d/rc${n}.d` : `etc/rc${n}.d`;

/** Runlevels whose folder has an S link for `name`. */
function startLevels(root: string, style: Style, name: string): number[] {
  return LEVELS.filter((n) => {
    const dir = join(root, levelDir(style, n));
    return existsSync(dir) && readdirSync(dir).some((f) => /^S\d\d/.test(f) && f.slice(3) === name);
  });
}

function unlinkAll(root: string, style: Style, name: string): void {
  for (const n of LEVELS) {
    const dir = join(root, levelDir(style, n));
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir))
      if (/^[SK]\d\d/.test(f) && f.slice(3) === name) rmSync(join(dir, f), { force: true });
  }
}

function link(root: string, style: Style, name: string, on: (n: number) => boolean): void {
  unlinkAll(root, style, name);
  for (const n of LEVELS) {
    const dir = join(root, levelDir(style, n));
    mkdirSync(dir, { recursive: true });
    const entry = on(n) ? `S95${name}` : `K05${name}`;
    symlinkSync(`../init.d/${name}`, join(dir, entry));
  }
}

function rootOf(ctx: NodeContext): string | undefined {
  return ctx.root;
}

/** `chkconfig --add|--del|--list <name>`, `chkconfig <name> on|off`, `chkconfig <name>`. */
export function chkconfig(ctx: NodeContext, argv: string[]): ExecResult {
  const root = rootOf(ctx);
  if (!root) return fail(1, "chkconfig: this node has no root folder\n");
  const [first, second] = argv;
  const flag = first?.startsWith("--") ? first : undefined;
  const name = flag ? second : first;
  if (!name || !NAME.test(name))
    return fail(1, "usage:   chkconfig [--list] [--type <type>] [name]\n");
  const script = join(root, "etc/init.d", name);
  const missing = () =>
    fail(1, `error reading information on service ${name}: No such file or directory\n`);
  const known = () =>
    LEVELS.some(
      (n) =>
        existsSync(join(root, levelDir("rhel", n))) &&
        readdirSync(join(root, levelDir("rhel", n))).some((f) => f.slice(3) === name),
    );
  switch (flag) {
    case "--add":
      if (!existsSync(script)) return missing();
      link(root, "rhel", name, (n) => STARTS.has(n));
      return ok();
    case "--del":
      if (!existsSync(script)) return missing();
      unlinkAll(root, "rhel", name);
      return ok();
    case "--list": {
      if (!existsSync(script)) return missing();
      if (!known())
        return fail(
          1,
          `service ${name} supports chkconfig, but is not referenced in any runlevel (run 'chkconfig --add ${name}')\n`,
        );
      const on = new Set(startLevels(root, "rhel", name));
      return ok(`${name}\t${LEVELS.map((n) => `${n}:${on.has(n) ? "on" : "off"}`).join("\t")}\n`);
    }
    case undefined:
      break;
    default:
      return fail(1, "usage:   chkconfig [--list] [--type <type>] [name]\n");
  }
  if (!existsSync(script)) return missing();
  if (second === "on" || second === "off") {
    link(root, "rhel", name, (n) => second === "on" && STARTS.has(n));
    return ok();
  }
  if (second !== undefined) return fail(1, "usage:   chkconfig <name> <on|off|reset>\n");
  // `chkconfig <name>`: whether it starts in the current runlevel (3).
  return startLevels(root, "rhel", name).includes(3) ? ok() : fail(1, "");
}

/** `update-rc.d <name> defaults`, `update-rc.d [-f] <name> remove`. */
export function updateRcD(ctx: NodeContext, argv: string[]): ExecResult {
  const root = rootOf(ctx);
  if (!root) return fail(1, "update-rc.d: this node has no root folder\n");
  const force = argv[0] === "-f";
  const [name, action] = force ? argv.slice(1) : argv;
  if (!name || !NAME.test(name) || (action !== "defaults" && action !== "remove"))
    return fail(
      1,
      "usage: update-rc.d [-f] <basename> remove\n       update-rc.d <basename> defaults\n",
    );
  const script = `/etc/init.d/${name}`;
  const exists = existsSync(join(root, script));
  if (action === "defaults") {
    if (!exists) return fail(1, `update-rc.d: error: initscript does not exist: ${script}\n`);
    if (startLevels(root, "debian", name).length > 0)
      return ok(` System start/stop links for ${script} already exist.\n`);
    link(root, "debian", name, (n) => STARTS.has(n));
    return ok(` Adding system startup for ${script} ...\n`);
  }
  if (exists && !force)
    return fail(1, `update-rc.d: ${script} exists during rc.d purge (use -f to force)\n`);
  unlinkAll(root, "debian", name);
  return ok(` Removing any system startup links for ${script} ...\n`);
}
