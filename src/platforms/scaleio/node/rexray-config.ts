// scaleio.rexray-config: writes /etc/rexray/config.yml for the ScaleIO driver with the keys
// of reference 7.1. It holds the admin password, so it is written 0600, atomically, and
// rewritten only when its content changes.
import { stringify } from "yaml";
import { z } from "zod";
import { defineHandler } from "../../../framework/node-task/handler.js";
import { nameSchema } from "./common.js";

export const REXRAY_CONFIG = "/etc/rexray/config.yml";

export const rexrayParams = z
  .object({
    /** Gateway REST base including /api. */
    endpoint: z
      .string()
      .max(500)
      .refine((s) => {
        try {
          const u = new URL(s);
          return (u.protocol === "https:" || u.protocol === "http:") && !/\s/.test(s);
        } catch {
          return false;
        }
      }, "must be an http(s) URL"),
    systemName: nameSchema,
    protectionDomain: nameSchema,
    storagePool: nameSchema,
    thinOrThick: z.enum(["ThinProvisioned", "ThickProvisioned"]).default("ThinProvisioned"),
    insecure: z.boolean().default(false),
    userName: nameSchema.default("admin"),
    logLevel: z.enum(["debug", "info", "warn", "error"]).default("warn"),
  })
  .strict();

export type RexrayParams = z.infer<typeof rexrayParams>;

/** The config.yml document (the password is passed in, never kept). */
export function rexrayDocument(p: RexrayParams, password: string): string {
  const doc = {
    rexray: {
      logLevel: p.logLevel,
      modules: {
        "default-docker": {
          type: "docker",
          host: "unix:///run/docker/plugins/docker.sock",
          libstorage: { service: "scaleio" },
        },
        mesos: {
          type: "docker",
          host: "unix:///run/docker/plugins/mesos.sock",
          libstorage: {
            service: "scaleio",
            integration: { volume: { operations: { unmount: { ignoreUsedCount: true } } } },
          },
        },
      },
    },
    libstorage: {
      service: "scaleio",
      integration: { volume: { operations: { mount: { preempt: true } } } },
    },
    scaleio: {
      endpoint: p.endpoint,
      insecure: p.insecure,
      thinOrThick: p.thinOrThick,
      userName: p.userName,
      password,
      systemName: p.systemName,
      protectionDomainName: p.protectionDomain,
      storagePoolName: p.storagePool,
    },
  };
  return `# Written by scaleio-framework; changes are overwritten.\n${stringify(doc)}`;
}

export const rexrayConfig = defineHandler({
  kind: "scaleio.rexray-config",
  params: rexrayParams,
  async run(p, ctx) {
    const password = (await ctx.secrets()).adminPassword.reveal();
    const changed = await ctx.host.root.writeAtomic(REXRAY_CONFIG, rexrayDocument(p, password), {
      mode: 0o600,
    });
    return { path: REXRAY_CONFIG, changed };
  },
});
