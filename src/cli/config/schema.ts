// The scheduler's configuration, validated. The same shape is read from YAML (camelCase
// keys), from environment variables and from flags; secrets are never part of it (they are
// loaded separately into Secret objects).
import { z } from "zod";
import { DEFAULT_HTTP_LIMITS as HTTP } from "../../api/http-limits.js";
import { isPackageVersion } from "../../platforms/scaleio/node/package-layout.js";
import { rexraySourceProblem } from "../../platforms/scaleio/node/rexray-source.js";
import { durationMs } from "./duration.js";
import { stateUrlProblem } from "../../store/open-store.js";

const hostOrIp = z
  .string()
  .min(1)
  .regex(/^[A-Za-z0-9.:[\]-]+$/, "must be a host name or IP address");

/** Names ScaleIO objects may have: no spaces or shell metacharacters, at most 31 characters. */
export const scaleioName = z
  .string()
  .min(1)
  .max(31)
  .regex(/^[A-Za-z0-9_.-]+$/, "may contain only letters, digits, '_', '.' and '-'");

const packageUrl = z
  .string()
  .min(1)
  .regex(/^(https?:\/\/|file:\/\/|\/)/, "must be an http(s) or file URL, or an absolute path");

const packages = z
  .object({
    mdm: packageUrl.optional(),
    sds: packageUrl.optional(),
    sdc: packageUrl.optional(),
    lia: packageUrl.optional(),
    gateway: packageUrl.optional(),
  })
  .strict();

const resources = (cpus: number, memMb: number) =>
  z
    .object({
      cpus: z.number().positive().max(64).default(cpus),
      memMb: z.number().int().min(32).max(1_048_576).default(memMb),
    })
    .strict()
    .prefault({});

export const configSchema = z
  .object({
    logLevel: z.enum(["trace", "debug", "info", "warn", "error", "fatal"]).default("info"),
    mesos: z
      .object({
        /** `http://host:5050`, a comma list of masters, or `zk://host:2181/mesos`. */
        master: z.string().min(1).default("http://127.0.0.1:5050"),
        frameworkName: z.string().min(1).default("scaleio"),
        role: z
          .string()
          .min(1)
          .refine(
            (r) =>
              /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(r) &&
              !r.split("/").some((c) => c === "." || c === ".." || c.startsWith("-")),
            "is not a valid Mesos role",
          )
          .default("scaleio"),
        user: z.string().min(1).default("root"),
        principal: z.string().min(1).optional(),
        hostname: z.string().min(1).optional(),
        failoverTimeoutSeconds: z.number().positive().max(31_536_000).default(604_800),
        caFile: z.string().min(1).optional(),
      })
      .strict()
      .prefault({}),
    api: z
      .object({
        address: z.string().min(1).default("0.0.0.0"),
        port: z.number().int().min(0).max(65535).default(35000),
        /** When true, reads need the token too (mutations always do). */
        protectReads: z.boolean().default(false),
        /** The HTTP server's timeouts and connection cap (src/api/http-limits.ts). */
        limits: z
          .object({
            maxConnections: z.number().int().min(0).max(1_000_000).default(HTTP.maxConnections),
            headersTimeoutMs: z.number().int().min(100).max(600_000).default(HTTP.headersTimeoutMs),
            requestTimeoutMs: z.number().int().min(0).max(3_600_000).default(HTTP.requestTimeoutMs),
            idleTimeoutMs: z
              .number()
              .int()
              .min(0)
              .max(3_600_000)
              .refine(
                (v) => v === 0 || v >= 20_000,
                "must be 0 (never) or at least 20000: an idle event stream has traffic every 15 s",
              )
              .default(HTTP.idleTimeoutMs),
            keepAliveTimeoutMs: z
              .number()
              .int()
              .min(100)
              .max(600_000)
              .default(HTTP.keepAliveTimeoutMs),
            maxRequestsPerSocket: z
              .number()
              .int()
              .min(0)
              .max(1_000_000)
              .default(HTTP.maxRequestsPerSocket),
          })
          .strict()
          .prefault({}),
        /** TLS for the API and the executor endpoints: PEM certificate and key files. */
        tlsCertFile: z.string().min(1).optional(),
        tlsKeyFile: z.string().min(1).optional(),
        /** The CA executors trust for the API's certificate (default: the certificate). */
        tlsCaFile: z.string().min(1).optional(),
      })
      .strict()
      .prefault({}),
    state: z
      .object({
        dir: z.string().min(1).default("./scaleio-framework-state"),
        /** Where the state lives: file:///path or zk://host:port[,host:port]/path (wins over dir). */
        url: z
          .string()
          .superRefine((v, ctx) => {
            const problem = stateUrlProblem(v);
            if (problem) ctx.addIssue({ code: "custom", message: problem });
          })
          .optional(),
        /** ZooKeeper session timeout of the state store. */
        zkSessionTimeoutMs: z.number().int().min(1000).max(600_000).default(10_000),
      })
      .strict()
      .prefault({}),
    /** Retry pauses of failed plan steps: initialMs doubling up to maxMs. */
    steps: z
      .object({
        retryInitialMs: z.number().int().min(10).max(600_000).default(1000),
        retryMaxMs: z.number().int().min(10).max(3_600_000).default(60_000),
      })
      .strict()
      .prefault({}),
    scaleio: z
      .object({
        clusterName: scaleioName.default("scaleio"),
        clusterId: z
          .string()
          .regex(/^[0-9a-f]{16}$/, "must be 16 lowercase hex digits")
          .optional(),
        protectionDomain: scaleioName.default("default"),
        storagePool: scaleioName.default("default"),
        apiVersion: z
          .string()
          .regex(/^\d+\.\d+$/, "must look like 2.0")
          .default("2.0"),
        /** 3 (two managers and a tie-breaker) or 5 (three and two). */
        mdmCount: z.union([z.literal(3), z.literal(5)]).default(3),
        /** Attach agents to an existing cluster instead of provisioning one. */
        existing: z
          .object({
            primary: hostOrIp,
            secondary: hostOrIp,
            tiebreaker: hostOrIp,
            gateway: hostOrIp.optional(),
          })
          .strict()
          .optional(),
        gateway: z
          .object({
            /** Full gateway URL (https://host:port); default: the existing gateway or the primary MDM. */
            url: z
              .string()
              .regex(/^https?:\/\/[^\s/]+\/?$/, "must be http(s)://host[:port]")
              .optional(),
            /** Load-balanced gateway address, if any. */
            lb: hostOrIp.optional(),
            port: z.number().int().min(1).max(65535).default(443),
            caFile: z.string().min(1).optional(),
            /** Skip certificate verification: explicit and off by default. */
            insecure: z.boolean().default(false),
          })
          .strict()
          .prefault({}),
        strategy: z.enum(["single-pool", "imperative", "declarative"]).default("single-pool"),
        /** The declarative topology (YAML file path); required with strategy declarative. */
        topologyFile: z.string().min(1).optional(),
        packages: z
          .object({
            /** A folder of package files named as delivered: `<repo>/<file name of version>`. */
            repo: packageUrl.optional(),
            version: z
              .string()
              .refine(isPackageVersion, "must be a package version like 2.0-6035.0")
              .optional(),
            deb: packages.prefault({}),
            rpm: packages.prefault({}),
            /** SDC drivers for kernels the SDC package lacks: `<repo>/<kernel>/scini.tar`. */
            sdcDriverRepo: z
              .string()
              .regex(/^(https?|file):\/\/\S+$/, "must be an http(s) or file URL")
              .optional(),
          })
          .strict()
          .prefault({}),
        /** REX-Ray's download (a .tar.gz holding `rexray`, a .rpm/.deb, or the program). */
        rexrayUrl: packageUrl.optional(),
        /** A folder laid out as REX-Ray's old download site: `<repo>/<branch>/<version>/<file>`. */
        rexrayRepo: packageUrl.optional(),
        /** With rexrayRepo: the release (default 0.11.4) and branch (default stable). */
        rexrayVersion: z
          .string()
          .regex(/^\d+\.\d+\.\d+(?:[-+][A-Za-z0-9.]+)?$/, "must be a REX-Ray version like 0.11.4")
          .optional(),
        rexrayBranch: z
          .string()
          .regex(/^[a-z][a-z0-9_-]{0,31}$/, "must be a branch name like stable, unstable or staged")
          .optional(),
        /** dvdcli's download (installed with REX-Ray). */
        dvdcliUrl: packageUrl.optional(),
        /** How REX-Ray provisions the volumes it creates. */
        thinOrThick: z.enum(["ThinProvisioned", "ThickProvisioned"]).default("ThinProvisioned"),
        isolatorBinary: packageUrl.optional(),
        /** Configure Mesos' built-in docker/volume isolator (dvdcli) instead of the DVDI module. */
        isolatorMode: z.enum(["module", "docker-volume"]).optional(),
        /** Restart (after draining) an agent whose isolator configuration changed. Off by default. */
        isolatorRestartAgent: z.boolean().default(false),
        /** Replace an MDM member whose agent has been lost this long (ms; none: never on its own). */
        mdmReplaceAfter: durationMs(1_000, 7 * 86_400_000).optional(),
        /** A configured (newer) package version's upgrade pauses after this many SDSs. */
        upgradeCanary: z.number().int().min(0).max(10_000).default(0),
      })
      .strict()
      .prefault({}),
    /** Watching the cluster: observation, health thresholds, repairs, capacity remediation. */
    health: z
      .object({
        observeIntervalSeconds: z.number().min(1).max(3600).default(10),
        /** A look asked for after a change waits this long, so a burst of asks costs one. */
        observeSettleMs: z.number().int().min(0).max(60_000).default(1000),
        /** owned: repair what the framework provisioned; existing: an existing cluster too;
         *  off: report only. */
        repair: z.enum(["owned", "existing", "off"]).default("owned"),
        repairParallel: z.number().int().min(1).max(64).default(2),
        /** The first wait before repairing an object that broke again (doubles per repair). */
        repairBackoffInitialMs: z.number().int().min(100).max(3_600_000).default(30_000),
        capacityWarningPercent: z.number().min(1).max(100).default(80),
        capacityCriticalPercent: z.number().min(1).max(100).default(90),
        latencyThresholdMs: z.number().positive().max(600_000).default(50),
        maxIops: z.number().positive().optional(),
        /** Observations in a row a slowness must last. */
        performanceWindow: z.number().int().min(1).max(1000).default(3),
        rebuildStuckMinutes: z.number().positive().max(10_080).default(5),
        /** devices: add unused raw devices to an almost-full pool before calling the hook. */
        autoGrow: z.enum(["devices", "off"]).default("off"),
        /** A command (absolute path) or an http(s) URL called when a pool is almost full. */
        capacityHook: z
          .string()
          .regex(/^(\/|https?:\/\/)/, "must be an absolute path or an http(s) URL")
          .optional(),
        /** A fixed growth (GiB) to ask the capacity hook for, instead of the computed one. */
        growthGb: z.number().int().min(1).max(1_048_576).optional(),
        /** Condition changes posted as Alertmanager-compatible JSON. */
        alertWebhook: z
          .string()
          .regex(/^https?:\/\/\S+$/, "must be an http(s) URL")
          .optional(),
      })
      .strict()
      .prefault({}),
    executor: z
      .object({
        mdm: resources(1.5, 3072),
        other: resources(0.5, 512),
        /**
         * How agents start the executor: `node` runs this installation's CLI with the agent's
         * Node.js (development cluster, shared filesystem); `artifact` fetches the
         * self-contained executor the scheduler serves (agents without Node.js).
         */
        launch: z.enum(["node", "artifact"]).default("node"),
        /** Seconds between the executors' own device rescans (0: only on demand). */
        deviceScanSeconds: z.number().int().min(0).max(86_400).default(300),
        /** Extra (non-secret) environment for executors, e.g. the development cluster's. */
        env: z
          .record(
            z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "must be an environment variable name"),
            z.string(),
          )
          .default({}),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    if (cfg.scaleio.strategy === "declarative" && !cfg.scaleio.topologyFile) {
      ctx.addIssue({
        code: "custom",
        path: ["scaleio", "topologyFile"],
        message: "is required when scaleio.strategy is declarative",
      });
    }
    if (!cfg.api.tlsCertFile !== !cfg.api.tlsKeyFile) {
      ctx.addIssue({
        code: "custom",
        path: ["api", cfg.api.tlsCertFile ? "tlsKeyFile" : "tlsCertFile"],
        message: "TLS needs both a certificate and its key (--api-tls-cert and --api-tls-key)",
      });
    }
    if (cfg.api.tlsCaFile && !cfg.api.tlsCertFile) {
      ctx.addIssue({
        code: "custom",
        path: ["api", "tlsCaFile"],
        message: "is only used with --api-tls-cert and --api-tls-key",
      });
    }
    const l = cfg.api.limits;
    if (l.requestTimeoutMs > 0 && l.headersTimeoutMs > l.requestTimeoutMs) {
      ctx.addIssue({
        code: "custom",
        path: ["api", "limits", "headersTimeoutMs"],
        message: `must not exceed api.limits.requestTimeoutMs (${l.requestTimeoutMs})`,
      });
    }
    if (cfg.health.capacityWarningPercent >= cfg.health.capacityCriticalPercent) {
      ctx.addIssue({
        code: "custom",
        path: ["health", "capacityWarningPercent"],
        message: `must be below health.capacityCriticalPercent (${cfg.health.capacityCriticalPercent})`,
      });
    }
    const rexray = rexraySourceProblem(cfg.scaleio);
    if (rexray) {
      ctx.addIssue({ code: "custom", path: ["scaleio", rexray.field], message: rexray.message });
    }
    const pk = cfg.scaleio.packages;
    if (!pk.repo !== !pk.version) {
      ctx.addIssue({
        code: "custom",
        path: ["scaleio", "packages", pk.repo ? "version" : "repo"],
        message: pk.repo
          ? "is required with a package repository: the version in its file names (--package-version or SCALEIO_FRAMEWORK_PACKAGE_VERSION)"
          : "is required with a package version: the folder holding the package files (--package-repo or SCALEIO_FRAMEWORK_PACKAGE_REPO)",
      });
    }
    const e = cfg.scaleio.existing;
    if (e && new Set([e.primary, e.secondary, e.tiebreaker]).size !== 3) {
      ctx.addIssue({
        code: "custom",
        path: ["scaleio", "existing"],
        message: "primary, secondary and tiebreaker must be three different addresses",
      });
    }
  });

export type SchedulerConfig = z.infer<typeof configSchema>;
