#!/usr/bin/env node
// The ScaleIO emulator's stand-in for `dvdcli` (0.2+) on a development node: `mount`,
// `unmount`, `path`, `create`, `remove` with --volumedriver/--volumename/--volumeopts, as the
// Mesos isolators call it (reference 7.2). The real one reaches the driver through
// /run/docker/plugins/<driver>.sock; here the only driver is the emulated REX-Ray, reached
// in-process, which reads /etc/rexray/config.yml under the node's root.
import { connect, DriverError, main, nodeRoot } from "./driver.mjs";

function flags(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) continue;
    const [k, v] = a.slice(2).split(/=(.*)/s);
    out[k] = v ?? argv[++i];
  }
  return out;
}

/** `size=16,newfstype=xfs,overwritefs=false` -> {size: "16", ...}. */
function volumeOpts(s) {
  return Object.fromEntries(
    (s ?? "")
      .split(",")
      .filter(Boolean)
      .map((kv) => kv.split(/=(.*)/s).slice(0, 2)),
  );
}

await main("dvdcli", async () => {
  const [cmd] = process.argv.slice(2);
  const f = flags(process.argv.slice(3));
  if (cmd === "version") {
    process.stdout.write(`Binary: dvdcli\nSemVer: ${process.env.DVDCLI_SIM_VERSION || "0.3.1"}\n`);
    return;
  }
  const name = f.volumename;
  if (!name) throw new DriverError("--volumename is required");
  if ((f.volumedriver ?? "rexray") !== "rexray")
    throw new DriverError(
      `volume driver '${f.volumedriver}' not found (only rexray is on this node)`,
    );
  const driver = await connect(nodeRoot());
  const opts = volumeOpts(f.volumeopts);
  switch (cmd) {
    case "mount": {
      const m = await driver.mount(name, { sizeGb: Number(opts.size) || undefined });
      process.stdout.write(`${m.path}\n`);
      return;
    }
    case "unmount":
      await driver.unmount(name);
      return;
    case "path": {
      const v = await driver.find(name);
      if (!v) throw new DriverError(`volume ${name} not found`);
      process.stdout.write(`/var/lib/rexray/volumes/${v.name}/data\n`);
      return;
    }
    case "create":
      await driver.create(name, Number(opts.size) || undefined);
      return;
    case "remove":
      await driver.remove(name);
      return;
    default:
      throw new DriverError(
        `unknown command '${cmd}' (mount, unmount, path, create, remove, version)`,
      );
  }
});
