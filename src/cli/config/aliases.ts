// The 2017 Go scheduler's flag names (single dash, dotted, Go `flag` syntax) mapped to ours,
// so existing Marathon app definitions keep working. Flags the new design has no use for
// are accepted and ignored with a notice rather than breaking a deployment.
import { extractStoreFlags, legacyStateUrl } from "../state-aliases.js";

/** Predecessor flag → our long option. */
export const FLAG_ALIASES: Record<string, string> = {
  uri: "master",
  "rest.port": "api-port",
  "rest.address": "api-address",
  loglevel: "log-level",
  user: "user",
  hostname: "hostname",
  role: "role",
  "scaleio.clustername": "cluster-name",
  "scaleio.clusterid": "cluster-id",
  "scaleio.protectiondomain": "protection-domain",
  "scaleio.storagepool": "storage-pool",
  "scaleio.password": "admin-password",
  "scaleio.apiversion": "api-version",
  "scaleio.preconfig.primary": "mdm-primary",
  "scaleio.preconfig.secondary": "mdm-secondary",
  "scaleio.preconfig.tiebreaker": "mdm-tiebreaker",
  "scaleio.preconfig.gateway": "gateway",
  "scaleio.lbgateway": "gateway-lb",
  "executor.cpu.mdm": "executor-cpu-mdm",
  "executor.mem.mdm": "executor-mem-mdm",
  "executor.cpu.non": "executor-cpu-non",
  "executor.mem.non": "executor-mem-non",
  "scaleio.ubuntu14.mdm": "package-deb-mdm",
  "scaleio.ubuntu14.sds": "package-deb-sds",
  "scaleio.ubuntu14.sdc": "package-deb-sdc",
  "scaleio.ubuntu14.lia": "package-deb-lia",
  "scaleio.ubuntu14.gw": "package-deb-gateway",
  "scaleio.rhel7.mdm": "package-rpm-mdm",
  "scaleio.rhel7.sds": "package-rpm-sds",
  "scaleio.rhel7.sdc": "package-rpm-sdc",
  "scaleio.rhel7.lia": "package-rpm-lia",
  "scaleio.rhel7.gw": "package-rpm-gateway",
  "scaleio.centos7.mdm": "package-rpm-mdm",
  "scaleio.centos7.sds": "package-rpm-sds",
  "scaleio.centos7.sdc": "package-rpm-sdc",
  "scaleio.centos7.lia": "package-rpm-lia",
  "scaleio.centos7.gw": "package-rpm-gateway",
  "rexray.version": "rexray-version",
  "rexray.branch": "rexray-branch",
  // Their first names, renamed in the predecessor's 0.2.0.
  "executor.memory.mdm": "executor-mem-mdm",
  "executor.memory.non": "executor-mem-non",
  "executor.memory.no": "executor-mem-non",
  // The predecessor attached AWS volumes itself; here the capacity hook's command gets them.
  "aws.accesskey": "aws-access-key-id",
  "aws.secretkey": "aws-secret-access-key",
  "isolator.binary": "isolator-binary",
};

/** Predecessor flags that no longer mean anything here, with the reason shown to the operator. */
export const IGNORED_FLAGS: Record<string, string> = {
  debug: "the framework never reboots a machine unless asked to, so -debug is not needed",
  experimental: "full provisioning is a supported mode; -experimental is not needed",
  "executor.altpath": "the scheduler serves its own executor artifact",
  "executor.cpu.factor": "resource factors are not used",
  "executor.mem.factor": "resource factors are not used",
  "executor.memoryfactor": "resource factors are not used",
  "executor.memfactor": "resource factors are not used",
};

const BOOLEAN_IGNORED = new Set(["debug", "experimental"]);

/**
 * The predecessor grew AWS pools that ran almost full; here that is capacity remediation for
 * any provider (unused devices first, then the operator's hook), so its flags map onto it.
 */
function translateCapacityFlag(
  name: string,
  value: string | undefined,
  rest: string[],
): { argv: string[]; notice: string } | undefined {
  if (name === "aws.checkfull") {
    // The predecessor's `-aws.checkfull=N`: minutes between its fullness checks.
    return {
      argv: [],
      notice:
        "-aws.checkfull (minutes between fullness checks) needs no setting here: every observation (--observe-interval, 10 s) checks the pools; an almost-full pool gets its agents' unused devices with --auto-grow devices, and new storage from --capacity-hook",
    };
  }
  if (name === "aws.growthsize") {
    return {
      argv: [value !== undefined ? `--capacity-growth-gb=${value}` : "--capacity-growth-gb"],
      notice:
        "-aws.growthsize is --capacity-growth-gb here: the growth (GiB) asked of the capacity hook (--capacity-hook) for an almost-full pool",
    };
  }
  if (name === "aws.threshold") {
    const argv = [
      value !== undefined ? `--capacity-warning-percent=${value}` : "--capacity-warning-percent",
    ];
    let notice =
      "-aws.threshold is --capacity-warning-percent here: a pool used at or above it is almost full (and it is the MDM's high capacity alert too); it counts use over the non-spare capacity, as the MDM does, where the predecessor counted the spare in";
    const t = Number(value ?? rest[0]);
    const critical = (t + 100) / 2;
    // The predecessor's default (90) is our critical threshold's: critical must stay above it.
    if (t >= 90 && t < 100 && !rest.some((a) => /^--?capacity-critical-percent(=|$)/.test(a))) {
      argv.push(`--capacity-critical-percent=${critical}`);
      notice += `; --capacity-critical-percent set to ${critical} to stay above it`;
    }
    return { argv, notice };
  }
  return undefined;
}

export interface TranslatedArgs {
  argv: string[];
  notices: string[];
}

/**
 * Rewrites predecessor-style arguments (`-scaleio.password=x`, `-uri host:5050`) into our
 * `--long-option` form. Arguments that are already ours pass through unchanged.
 */
export function translateLegacyArgs(allArgs: string[]): TranslatedArgs {
  const out: string[] = [];
  const notices: string[] = [];
  // -store.type/-store.uri name the state store: --state here (see ../state-aliases.ts).
  const { rest: args, values: storeFlags } = extractStoreFlags(allArgs);
  const state = legacyStateUrl(storeFlags);
  if (state.url) out.push(`--state=${state.url}`);
  if (state.notice) notices.push(state.notice);
  if (state.problem) notices.push(`ignoring ${state.problem}`);
  for (const name of storeFlags.keys()) {
    if (name !== "store.type" && name !== "store.uri") {
      notices.push(`ignoring -${name}: store operations are \`scaleio-framework state ...\` verbs`);
    }
  }
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const m = /^--?([a-z][a-z0-9]*(?:\.[a-z0-9]+)+|[a-z]{3,})(?:=(.*))?$/i.exec(arg);
    const name = m?.[1];
    if (!m || !name || (arg.startsWith("--") && !name.includes("."))) {
      out.push(arg);
      continue;
    }
    const capacity = translateCapacityFlag(name, m[2], args.slice(i + 1));
    if (capacity) {
      // A value given as the next argument follows the translated flag (it comes first).
      if (capacity.argv.length > 1 && m[2] === undefined && i + 1 < args.length) {
        out.push(capacity.argv[0]!, args[++i]!, ...capacity.argv.slice(1));
      } else if (capacity.argv.length === 0) {
        // Nothing to set: its value, given as the next argument, goes with it.
        if (m[2] === undefined && /^\d+$/.test(args[i + 1] ?? "")) i++;
      } else out.push(...capacity.argv);
      notices.push(capacity.notice);
      continue;
    }
    if (Object.hasOwn(FLAG_ALIASES, name)) {
      const ours = FLAG_ALIASES[name]!;
      out.push(m[2] !== undefined ? `--${ours}=${m[2]}` : `--${ours}`);
      if (name === "scaleio.password") {
        notices.push(
          "-scaleio.password puts the admin password on the command line, where process listings show it; use SCALEIO_ADMIN_PASSWORD or --admin-password-file",
        );
      }
      if (name === "aws.accesskey" || name === "aws.secretkey") {
        notices.push(
          `-${name} goes to the --capacity-hook command's environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY): the hook attaches new storage when a pool runs almost full, as the predecessor attached AWS volumes itself`,
        );
      }
      continue;
    }
    if (Object.hasOwn(IGNORED_FLAGS, name)) {
      notices.push(`ignoring -${name}: ${IGNORED_FLAGS[name]}`);
      // A value given as the next argument belongs to the ignored flag.
      if (
        m[2] === undefined &&
        !BOOLEAN_IGNORED.has(name) &&
        i + 1 < args.length &&
        !args[i + 1]!.startsWith("-")
      ) {
        i++;
      }
      continue;
    }
    out.push(arg);
  }
  return { argv: out, notices };
}
