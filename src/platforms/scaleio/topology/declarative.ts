// The declarative topology (the strategy the predecessor announced and never shipped): a
// YAML description of protection domains, fault sets, pools and which agents' devices fill
// them, matched by host name globs and agent attributes.
import { parseDocument } from "yaml";
import { z } from "zod";
import { TopologyError } from "./facts.js";

const name = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,31}$/, "must be 1-31 letters, digits, '_', '.' or '-'");

const selector = z
  .object({
    hostname: z
      .string()
      .min(1)
      .regex(/^[A-Za-z0-9.*?_-]+$/, "must be a host name glob")
      .optional(),
    attributes: z.record(z.string(), z.string()).optional(),
  })
  .strict();

const devicePath = z
  .string()
  .regex(/^\/dev\/[A-Za-z0-9._:+@-]+(\/[A-Za-z0-9._:+@-]+)*$/, "must be a plain /dev path")
  .refine((p) => !p.split("/").includes(".."), "must not contain '..'");

export const declarativeSchema = z
  .object({
    protectionDomains: z
      .array(
        z
          .object({
            name,
            /** Each SDS joins the fault set named by this agent attribute (e.g. rack). */
            faultSetAttribute: z.string().min(1).optional(),
            pools: z
              .array(
                z
                  .object({
                    name,
                    sparePercentage: z.number().int().min(0).max(99).optional(),
                    devices: z
                      .array(
                        z
                          .object({
                            agents: selector.optional(),
                            /** Explicit devices; omitted: every usable raw device of the agent. */
                            paths: z.array(devicePath).min(1).optional(),
                          })
                          .strict(),
                      )
                      .default([]),
                  })
                  .strict(),
              )
              .min(1, "needs at least one pool"),
          })
          .strict(),
      )
      .min(1, "needs at least one protection domain"),
    consumers: z
      .array(z.object({ agents: selector.optional(), protectionDomain: name, pool: name }).strict())
      .default([]),
  })
  .strict()
  .superRefine((t, ctx) => {
    const pds = new Set<string>();
    t.protectionDomains.forEach((pd, i) => {
      if (pds.has(pd.name))
        ctx.addIssue({
          code: "custom",
          path: ["protectionDomains", i, "name"],
          message: `duplicate protection domain '${pd.name}'`,
        });
      pds.add(pd.name);
      const pools = new Set<string>();
      pd.pools.forEach((p, j) => {
        if (pools.has(p.name))
          ctx.addIssue({
            code: "custom",
            path: ["protectionDomains", i, "pools", j, "name"],
            message: `duplicate pool '${p.name}' in ${pd.name}`,
          });
        pools.add(p.name);
      });
    });
    t.consumers.forEach((c, i) => {
      const pd = t.protectionDomains.find((p) => p.name === c.protectionDomain);
      if (!pd)
        ctx.addIssue({
          code: "custom",
          path: ["consumers", i, "protectionDomain"],
          message: `unknown protection domain '${c.protectionDomain}'`,
        });
      else if (!pd.pools.some((p) => p.name === c.pool)) {
        ctx.addIssue({
          code: "custom",
          path: ["consumers", i, "pool"],
          message: `unknown pool '${c.pool}' in ${c.protectionDomain}`,
        });
      }
    });
  });

export type DeclarativeTopology = z.infer<typeof declarativeSchema>;
export type AgentSelector = z.infer<typeof selector>;

/** Parses and validates a declarative topology; errors name the file, path and problem. */
export function parseDeclarativeTopology(text: string, source = "topology"): DeclarativeTopology {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new TopologyError(`${source}: ${doc.errors[0]!.message.split("\n")[0]}`);
  }
  const parsed = declarativeSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    throw new TopologyError(
      `${source}: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(top level)"}: ${i.message}`).join("; ")}`,
    );
  }
  return parsed.data;
}
