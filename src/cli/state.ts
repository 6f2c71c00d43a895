// `scaleio-framework state dump|get|set|delete`: the scheduler's state store (a directory or
// ZooKeeper, from the same --state/--state-dir/--zk-auth-file as the scheduler) read and
// changed by hand. Writes ask first (or take --yes); secrets are never printed; a file store
// locked by a running scheduler is reported at once rather than waited for, and a ZooKeeper
// store with schedulers in its election is not written.
import { Command, Option } from "commander";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline/promises";
import { redactSecrets } from "../common/secret.js";
import { holderRunning, parseHolder } from "../store/lock-holder.js";
import {
  describeLocation,
  openStateStore,
  stateLocation,
  type StateLocation,
} from "../store/open-store.js";
import { checkKey, StoreError, type StateStore } from "../store/store.js";
import { ZkStateStore } from "../store/zk-store.js";
import { electionMembers } from "../ha/election-members.js";
import { VIEWS_PREFIX } from "../ha/views.js";
import type { CandidateInfo } from "../ha/elector.js";
import { ConfigError, loadConfig, type Secrets } from "./config/load.js";
import { usageErrorLine } from "./startup.js";
import { REDACTED, shownValue } from "./state-redact.js";

export const STATE_EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** A failure with its exit code: 2 for usage (bad key or value, no confirmation), 1 otherwise. */
export class StateCommandError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = STATE_EXIT.failed) {
    super(message);
    this.name = "StateCommandError";
    this.exitCode = exitCode;
  }
}

/** What the verbs print to and ask from; the process's streams unless a test gives others. */
export interface StateIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Whether a person can be asked (stdin is a terminal). */
  interactive: boolean;
  /** Asks a yes/no question; true only for an explicit yes. */
  ask: (question: string) => Promise<boolean>;
}

function processIo(): StateIo {
  return {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    interactive: process.stdin.isTTY === true,
    ask: async (question) => {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return /^y(es)?$/i.test((await rl.question(question)).trim());
      } finally {
        rl.close();
      }
    },
  };
}

interface CommonOptions {
  state?: string;
  stateDir?: string;
  zkAuthFile?: string;
  config?: string;
}

/** The options every verb takes: where the state is, as the scheduler is told. */
function addLocationOptions(cmd: Command): Command {
  return cmd
    .option(
      "--state <url>",
      "file:///path or zk://host:port[,host:port...]/path (as the scheduler)",
    )
    .option("--state-dir <dir>", "the embedded store's directory (without --state)")
    .option("--zk-auth-file <file>", "file holding user:password for the zk:// store's digest ACL")
    .option("--config <file>", "the scheduler's YAML configuration file (its state settings)");
}

/** Where the state is and the ZooKeeper credentials, from flags, environment and --config. */
export function resolveStateTarget(opts: CommonOptions): {
  location: StateLocation;
  secrets: Secrets;
  zkSessionTimeoutMs: number;
} {
  const flags: Record<string, string | undefined> = {
    state: opts.state,
    "state-dir": opts.stateDir,
    "zk-auth-file": opts.zkAuthFile,
  };
  try {
    const loaded = loadConfig({ flags, ...(opts.config ? { file: opts.config } : {}) });
    return {
      location: stateLocation(loaded.config.state),
      secrets: loaded.secrets,
      zkSessionTimeoutMs: loaded.config.state.zkSessionTimeoutMs,
    };
  } catch (err) {
    if (err instanceof ConfigError) {
      throw new StateCommandError(err.problems.join("; "), STATE_EXIT.usage);
    }
    if (err instanceof StoreError) throw new StateCommandError(err.message, STATE_EXIT.usage);
    throw err;
  }
}

/** The running scheduler holding a state directory's lock, if one does. */
export function lockingProcess(dir: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, ".lock"), "utf8");
  } catch {
    return undefined; // no lock file: nobody holds it
  }
  const holder = parseHolder(text);
  return holder && holder.pid !== process.pid && holderRunning(holder) ? holder.pid : undefined;
}

function lockedMessage(dir: string, pid: number | undefined): string {
  return `the state directory ${dir} is locked by a running scheduler${pid ? ` (process ${pid})` : ""}: stop it first, or read its state through its API (scaleio-framework status, nodes, plan)`;
}

/**
 * Opens the store for one command; a file store must be free, and exist unless created. A
 * ZooKeeper store is shared, not locked: it is written only while no scheduler runs on it
 * (a running leader would overwrite the change, or act on half of it).
 */
async function openTarget(
  target: ReturnType<typeof resolveStateTarget>,
  io: StateIo,
  mode: "read" | "write" | "create" = "read",
): Promise<StateStore> {
  const create = mode === "create";
  const loc = target.location;
  if (loc.kind === "file") {
    // Looking at a mistyped directory must not create it.
    if (!create && !existsSync(loc.dir)) {
      throw new StateCommandError(`no state at ${loc.dir}: the directory does not exist`);
    }
    const pid = lockingProcess(loc.dir);
    if (pid !== undefined) throw new StateCommandError(lockedMessage(loc.dir, pid));
  }
  let store: StateStore;
  try {
    store = await openStateStore(loc, {
      zkAuth: target.secrets.zkAuth,
      zkSessionTimeoutMs: target.zkSessionTimeoutMs,
      onWarning: (m) => io.err(`scaleio-framework: warning: ${m}\n`),
    });
  } catch (err) {
    if (err instanceof StoreError && err.code === "LOCKED" && loc.kind === "file") {
      throw new StateCommandError(lockedMessage(loc.dir, lockingProcess(loc.dir)));
    }
    throw new StateCommandError(
      `cannot open the state store ${describeLocation(loc)}: ${(err as Error).message}`,
    );
  }
  if (mode !== "read" && store instanceof ZkStateStore) {
    let running: CandidateInfo[];
    try {
      running = await electionMembers(store);
    } catch (err) {
      await store.close();
      throw new StateCommandError(
        `cannot tell whether a scheduler runs on ${describeLocation(loc)}: ${(err as Error).message}`,
      );
    }
    if (running.length > 0) {
      await store.close();
      throw new StateCommandError(runningMessage(describeLocation(loc), running));
    }
  }
  return store;
}

function runningMessage(where: string, running: CandidateInfo[]): string {
  const leader = running[0]!;
  const others = running.length - 1;
  return (
    `${running.length} scheduler(s) run on ${where} (the leader: process ${leader.pid}, ${leader.api}` +
    `${others > 0 ? `; ${others} standing by` : ""}): stop them first (a killed one leaves within its ` +
    `ZooKeeper session timeout), or read the state through the leader's API`
  );
}

function validKey(key: string): string {
  try {
    checkKey(key);
    return key;
  } catch (err) {
    throw new StateCommandError((err as Error).message, STATE_EXIT.usage);
  }
}

/** Parses a value given on the command line: JSON only (a string is quoted: '"text"'). */
export function parseValue(key: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new StateCommandError(
      `the value for ${key} is not JSON (${(err as Error).message}); a string is quoted, e.g. '"text"'`,
      STATE_EXIT.usage,
    );
  }
}

/** Asks before a write: --yes, else a person at a terminal; without either, refuses. */
async function confirmWrite(what: string, yes: boolean | undefined, io: StateIo): Promise<void> {
  if (yes) return;
  if (!io.interactive) {
    throw new StateCommandError(
      `refusing to ${what} without confirmation: no terminal to ask; add --yes`,
      STATE_EXIT.usage,
    );
  }
  if (!(await io.ask(`${what}? [y/N] `))) {
    throw new StateCommandError(`not confirmed: nothing changed`, STATE_EXIT.usage);
  }
}

const show = (value: unknown) => (value === REDACTED ? REDACTED : JSON.stringify(value));

export async function stateDump(
  opts: CommonOptions & { json?: boolean; views?: boolean },
  io: StateIo,
): Promise<void> {
  const target = resolveStateTarget(opts);
  const store = await openTarget(target, io);
  try {
    const all = await store.list("");
    // The leader's copy of its read views for standbys: megabytes at scale, all derived.
    const isView = (k: string) => k === VIEWS_PREFIX || k.startsWith(`${VIEWS_PREFIX}/`);
    const keys = opts.views ? all : all.filter((k) => !isView(k));
    const hiddenViews = all.length - keys.length;
    let redacted = 0;
    const entries: [string, unknown][] = [];
    for (const key of keys) {
      const value = await store.get(key);
      if (value === undefined) continue; // deleted meanwhile
      const shown = shownValue(key, value);
      redacted += shown.redacted;
      entries.push([key, shown.value]);
    }
    if (opts.json) io.out(`${JSON.stringify(Object.fromEntries(entries), null, 2)}\n`);
    else for (const [key, value] of entries) io.out(`${key} ${show(value)}\n`);
    io.err(
      `${entries.length} key(s) in ${describeLocation(target.location)}${redacted > 0 ? `; ${redacted} secret value(s) shown as ${REDACTED}` : ""}` +
        `${hiddenViews > 0 ? `; ${hiddenViews} key(s) of the leader's views for standbys (${VIEWS_PREFIX}/) not shown: --views shows them` : ""}\n`,
    );
  } finally {
    await store.close();
  }
}

export async function stateGet(key: string, opts: CommonOptions, io: StateIo): Promise<void> {
  validKey(key);
  const target = resolveStateTarget(opts);
  const store = await openTarget(target, io);
  try {
    const value = await store.get(key);
    if (value === undefined) {
      throw new StateCommandError(`${key}: no value in ${describeLocation(target.location)}`);
    }
    const shown = shownValue(key, value);
    io.out(`${shown.value === REDACTED ? REDACTED : JSON.stringify(shown.value, null, 2)}\n`);
    if (shown.redacted > 0) io.err(`${shown.redacted} secret value(s) shown as ${REDACTED}\n`);
  } finally {
    await store.close();
  }
}

export async function stateSet(
  key: string,
  text: string,
  opts: CommonOptions & { yes?: boolean },
  io: StateIo,
): Promise<void> {
  validKey(key);
  const value = parseValue(key, text);
  const target = resolveStateTarget(opts);
  const where = describeLocation(target.location);
  await confirmWrite(`set ${key} in ${where}`, opts.yes, io);
  const store = await openTarget(target, io, "create");
  try {
    await store.set(key, value);
    io.err(`set ${key} in ${where}\n`);
  } finally {
    await store.close();
  }
}

export async function stateDelete(
  key: string | undefined,
  opts: CommonOptions & { yes?: boolean; all?: boolean },
  io: StateIo,
): Promise<void> {
  if ((key === undefined) === !opts.all) {
    throw new StateCommandError("give a KEY, or --all to delete every key", STATE_EXIT.usage);
  }
  if (key !== undefined) validKey(key);
  const target = resolveStateTarget(opts);
  const where = describeLocation(target.location);
  if (key !== undefined) {
    await confirmWrite(`delete ${key} from ${where}`, opts.yes, io);
    const store = await openTarget(target, io, "write");
    try {
      const had = (await store.get(key)) !== undefined;
      await store.delete(key);
      io.err(had ? `deleted ${key} from ${where}\n` : `${key} had no value in ${where}\n`);
    } finally {
      await store.close();
    }
    return;
  }
  await confirmWrite(`delete every key of ${where}`, opts.yes, io);
  const store = await openTarget(target, io, "write");
  try {
    const keys = await store.list("");
    for (const k of keys) await store.delete(k);
    io.err(`deleted ${keys.length} key(s) from ${where}\n`);
  } finally {
    await store.close();
  }
}

/** Runs a verb: one line on stderr and its exit code when it fails. */
async function run(body: () => Promise<void>, io: StateIo, secrets: () => Secrets): Promise<void> {
  try {
    await body();
  } catch (err) {
    const e =
      err instanceof StateCommandError
        ? err
        : new StateCommandError(err instanceof Error ? err.message : String(err));
    io.err(redactSecrets(usageErrorLine(e.message), Object.values(secrets())));
    process.exitCode = e.exitCode;
  }
}

export function registerStateCommands(program: Command, io: StateIo = processIo()): void {
  const state = program
    .command("state")
    .description(
      "read or change the scheduler's state store (a directory or ZooKeeper): dump, get, set, delete",
    )
    .addHelpText(
      "after",
      `\nValues are JSON. set and delete ask first; without a terminal they need --yes.
Secret values (keys under secrets/ or vault/, fields named like passwords or tokens) are
shown as ${REDACTED}. A file store used by a running scheduler is locked, and a ZooKeeper
store is not written while a scheduler runs on it: stop it first.

Exit codes: 0 ok, 1 the store failed, is locked or has no such key, 2 usage (bad key or
value, no confirmation).`,
    );
  const secretsOf = (opts: CommonOptions) => () => {
    try {
      return resolveStateTarget(opts).secrets;
    } catch {
      return {};
    }
  };
  const oneLine = (cmd: Command) =>
    cmd.configureOutput({ outputError: (str, write) => write(usageErrorLine(str)) });

  oneLine(addLocationOptions(state.command("dump").description("print every key and its value")))
    .option("--json", "one JSON object of every key instead of lines of `key value`")
    .option("--views", `also the leader's copy of its views for standbys (${VIEWS_PREFIX}/...)`)
    .action(async (opts: CommonOptions & { json?: boolean; views?: boolean }) =>
      run(() => stateDump(opts, io), io, secretsOf(opts)),
    );
  oneLine(addLocationOptions(state.command("get").description("print one key's value")))
    .argument("<key>")
    .action(async (key: string, opts: CommonOptions) =>
      run(() => stateGet(key, opts, io), io, secretsOf(opts)),
    );
  oneLine(
    addLocationOptions(
      state.command("set").description("store a JSON value under a key (asks first)"),
    ),
  )
    .argument("<key>")
    .argument("<value>", "JSON, e.g. 42, true, '\"text\"' or '{\"a\":1}'")
    .addOption(new Option("-y, --yes", "do not ask"))
    .action(async (key: string, value: string, opts: CommonOptions & { yes?: boolean }) =>
      run(() => stateSet(key, value, opts, io), io, secretsOf(opts)),
    );
  oneLine(addLocationOptions(state.command("delete").description("remove a key (asks first)")))
    .argument("[key]")
    .option("--all", "remove every key")
    .addOption(new Option("-y, --yes", "do not ask"))
    .action(
      async (key: string | undefined, opts: CommonOptions & { yes?: boolean; all?: boolean }) =>
        run(() => stateDelete(key, opts, io), io, secretsOf(opts)),
    );
}
