// Request bodies are checked with zod; anything malformed is a 400 that names the problem.
import { z } from "zod";
import { ApiError } from "./errors.js";

export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  // No body at all reads as {}; a body of `null`, an array or a bare value is refused (a
  // `null` taken as {} once paused a whole plan).
  if (body !== undefined && (body === null || typeof body !== "object" || Array.isArray(body)))
    throw new ApiError(400, "bad request body: must be a JSON object");
  const r = schema.safeParse(body ?? {});
  if (r.success) return r.data;
  const what = r.error.issues
    .map((i) => `${i.path.length ? i.path.join(".") : "body"}: ${i.message}`)
    .join("; ");
  throw new ApiError(400, `bad request body: ${what}`);
}

export const phaseBody = z.object({ phase: z.string().min(1).max(200).optional() }).strict();
export const stepBody = z.object({ step: z.string().min(1).max(400) }).strict();
/** Routes that take no parameters: nothing or `{}`. */
export const emptyBody = z.object({}).strict();
