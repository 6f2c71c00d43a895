#!/usr/bin/env node
// The ScaleIO emulator's stand-in for `rexray` (0.9+ command line) on a development node:
// `volume ls|create|attach|detach|mount|unmount|rm`, `version`, with `--format json`. It
// drives the emulated gateway through driver.mjs; the service itself is started by the
// node's init system stand-in, so `rexray start` only says so.
import { connect, DriverError, main, nodeRoot, readConfig, volumeTable } from "./driver.mjs";

const VERSION = process.env.REXRAY_SIM_VERSION || "0.11.4";

function parseArgs(argv) {
  const words = [];
  const opts = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith("--")) {
      const [k, v] = a.slice(2).split(/=(.*)/s);
      if (v !== undefined) opts[k] = v;
      else if (["format", "size", "config"].includes(k)) opts[k] = argv[++i];
      else opts[k] = true;
    } else if (a === "-f") opts.format = argv[++i];
    else words.push(a);
  }
  return { words, opts };
}

/** Runs `fn` for each named volume in turn; REX-Ray prints the results as one list. */
async function each(names, fn) {
  if (names.length === 0) throw new DriverError("a volume name is required");
  const out = [];
  for (const n of names) out.push(await fn(n));
  return out;
}

await main("rexray", async () => {
  const { words, opts } = parseArgs(process.argv.slice(2));
  const [cmd, sub, ...rest] = words;
  const print = (v) =>
    process.stdout.write(
      opts.format === "json" ? `${JSON.stringify(v, null, 2)}\n` : volumeTable(v),
    );
  if (cmd === "version" || opts.version) {
    process.stdout.write(
      `REX-Ray\n-------\nBinary: rexray\nSemVer: ${VERSION}\nOsArch: Linux-x86_64\n`,
    );
    return;
  }
  if (cmd === "start" || (cmd === "service" && sub === "start")) {
    throw new DriverError(
      "the emulated REX-Ray service is run by the node's init system (systemctl/service)",
    );
  }
  if (cmd !== "volume" && cmd !== "volumes")
    throw new DriverError(
      `unknown command '${[cmd, sub].filter(Boolean).join(" ")}' (this stand-in knows: volume, version)`,
    );
  const root = nodeRoot();
  const driver = await connect(root, readConfig(root, opts.config));
  switch (sub ?? "ls") {
    case "ls":
    case "list":
    case "get": {
      const all = await driver.volumes();
      print(rest.length ? all.filter((v) => rest.includes(v.name) || rest.includes(v.id)) : all);
      return;
    }
    case "create":
    case "new":
      print(await each(rest, (name) => driver.create(name, Number(opts.size) || undefined)));
      return;
    case "attach":
      print(await each(rest, (name) => driver.attach(name, { force: opts.force === true })));
      return;
    case "detach":
      print(await each(rest, (name) => driver.detach(name)));
      return;
    case "mount":
      for (const name of rest) {
        const m = await driver.mount(name, {
          sizeGb: Number(opts.size) || undefined,
          force: opts.force === true,
        });
        process.stdout.write(`${m.path}\n`);
      }
      return;
    case "unmount":
    case "umount":
      for (const name of rest) await driver.unmount(name);
      return;
    case "rm":
    case "remove":
    case "delete":
      print(await each(rest, (name) => driver.remove(name)));
      return;
    default:
      throw new DriverError(`unknown volume command '${sub}'`);
  }
});
