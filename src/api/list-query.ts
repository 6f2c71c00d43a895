// Query parameters of the node list and of a plan's steps, checked with zod: anything
// unknown or malformed is a 400 that names the parameter and what it takes.
import { z } from "zod";
import { ApiError } from "./errors.js";
import {
  NODE_SORTS,
  NODE_STATUSES,
  type NodeQuery,
  type StepFilter,
} from "../framework/node-index.js";
import { STEP_STATUSES } from "../framework/plan/types.js";

/** One value, or several separated by commas (`status=error,lost`); repeated parameters too. */
const list = <T extends readonly [string, ...string[]]>(values: T, norm: (v: string) => string) =>
  z
    .union([z.string(), z.array(z.string())])
    .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((x) => x.split(",")).map(norm))
    .pipe(z.array(z.enum(values, { error: `takes ${values.join(", ")}` })).min(1));

const one = z.string({ error: "given more than once" });
const text = one.min(1, "must not be empty").max(200, "at most 200 characters");

export const nodeQuery = z
  .object({
    status: list(NODE_STATUSES, (v) => v.trim().toLowerCase().replace(/_/g, "-")).optional(),
    q: text.optional(),
    sort: z.enum(NODE_SORTS, { error: `takes ${NODE_SORTS.join(" or ")}` }).optional(),
    limit: one
      .regex(/^\d+$/, "takes a whole number")
      .transform(Number)
      .pipe(z.number().min(1, "at least 1").max(1000, "at most 1000"))
      .optional(),
    cursor: one.min(1).max(1000).optional(),
  })
  .strict();

export const stepQuery = z
  .object({
    status: list(STEP_STATUSES, (v) => v.trim().toUpperCase().replace(/-/g, "_")).optional(),
    agent: text.optional(),
  })
  .strict();

export function parseQuery<T extends z.ZodType>(schema: T, query: unknown): z.infer<T> {
  const r = schema.safeParse(query ?? {});
  if (r.success) return r.data;
  const what = r.error.issues
    .map((i) =>
      i.code === "unrecognized_keys"
        ? `unknown parameter${i.keys.length > 1 ? "s" : ""} ${i.keys.join(", ")}`
        : `${i.path.length ? String(i.path[0]) : "query"}: ${i.message}`,
    )
    .join("; ");
  throw new ApiError(400, `bad query: ${what}`);
}

export type { NodeQuery, StepFilter };
