// Fake `apt-get` and `yum` for the prerequisites the framework installs (libaio1, zip,
// numactl, java...): recorded per node, never touching the real machine, with the output
// lines the framework's checks match (`N newly installed`, `Complete!`, `Nothing to do`).
import type { ScaleioSystem } from "../model/system.js";
import type { ExecResult, NodeContext } from "./scli.js";

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9.+_:-]*$/;

function split(argv: string[]): { cmd: string | undefined; pkgs: string[] } {
  const words = argv.filter((a) => !a.startsWith("-"));
  return { cmd: words[0], pkgs: words.slice(1) };
}

export function aptGet(sys: ScaleioSystem, ctx: NodeContext, argv: string[]): ExecResult {
  const { cmd, pkgs } = split(argv);
  const node = sys.node(ctx.ip);
  if (cmd === "update")
    return { stdout: "Reading package lists... Done\n", stderr: "", exitCode: 0 };
  if (cmd !== "install" && cmd !== "remove" && cmd !== "purge") {
    return { stdout: "", stderr: `E: Invalid operation ${cmd ?? ""}\n`, exitCode: 100 };
  }
  const bad = pkgs.find((p) => !NAME_RE.test(p));
  if (bad) return { stdout: "", stderr: `E: Unable to locate package ${bad}\n`, exitCode: 100 };
  const head =
    "Reading package lists... Done\nBuilding dependency tree\nReading state information... Done\n";
  if (cmd === "install") {
    const fresh = pkgs.filter((p) => !node.osPackages.has(p));
    const already = pkgs
      .filter((p) => node.osPackages.has(p))
      .map((p) => `${p} is already the newest version.\n`)
      .join("");
    for (const p of fresh) node.osPackages.add(p);
    return {
      stdout: `${head}${already}0 upgraded, ${fresh.length} newly installed, 0 to remove and 0 not upgraded.\n`,
      stderr: "",
      exitCode: 0,
    };
  }
  const gone = pkgs.filter((p) => node.osPackages.delete(p));
  return {
    stdout: `${head}0 upgraded, 0 newly installed, ${gone.length} to remove and 0 not upgraded.\n`,
    stderr: "",
    exitCode: 0,
  };
}

export function yum(sys: ScaleioSystem, ctx: NodeContext, argv: string[]): ExecResult {
  const { cmd, pkgs } = split(argv);
  const node = sys.node(ctx.ip);
  if (cmd === "install") {
    const bad = pkgs.find((p) => !NAME_RE.test(p));
    if (bad)
      return {
        stdout: `No package ${bad} available.\nError: Nothing to do\n`,
        stderr: "",
        exitCode: 1,
      };
    const fresh = pkgs.filter((p) => !node.osPackages.has(p));
    for (const p of fresh) node.osPackages.add(p);
    if (!fresh.length)
      return {
        stdout: "Package(s) already installed and latest version\nNothing to do\n",
        stderr: "",
        exitCode: 0,
      };
    return {
      stdout: `Resolving Dependencies\nInstalled:\n  ${fresh.join(" ")}\n\nComplete!\n`,
      stderr: "",
      exitCode: 0,
    };
  }
  if (cmd === "remove" || cmd === "erase") {
    for (const p of pkgs) node.osPackages.delete(p);
    return { stdout: "Complete!\n", stderr: "", exitCode: 0 };
  }
  return { stdout: "", stderr: `No such command: ${cmd ?? ""}\n`, exitCode: 1 };
}
