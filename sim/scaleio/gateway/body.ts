// Request-body helpers: clients send numbers and booleans as strings ("16777216", "TRUE"),
// so every reader accepts both forms and names the field it rejects.
import { badRequest, ErrorCode } from "../model/errors.js";

export type Body = Record<string, unknown>;

export function asBody(b: unknown): Body {
  if (b === undefined || b === null || b === "") return {};
  if (typeof b !== "object" || Array.isArray(b))
    throw badRequest("The request body must be a JSON object", ErrorCode.ILLEGAL_SYNTAX);
  return b as Body;
}

export function str(b: Body, key: string): string {
  const v = b[key];
  if (typeof v !== "string" || v.length === 0)
    throw badRequest(`Missing or invalid ${key}`, ErrorCode.ILLEGAL_SYNTAX);
  return v;
}

export function optStr(b: Body, key: string): string | undefined {
  const v = b[key];
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v !== "string") throw badRequest(`Invalid ${key}`, ErrorCode.ILLEGAL_SYNTAX);
  return v;
}

export function int(b: Body, key: string): number {
  const v = optInt(b, key);
  if (v === undefined) throw badRequest(`Missing ${key}`, ErrorCode.ILLEGAL_SYNTAX);
  return v;
}

export function optInt(b: Body, key: string): number | undefined {
  const v = b[key];
  if (v === undefined || v === null || v === "") return undefined;
  const n =
    typeof v === "number" ? v : typeof v === "string" && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) throw badRequest(`Invalid ${key}: ${JSON.stringify(v)}`);
  return n;
}

export function optBool(b: Body, key: string): boolean | undefined {
  const v = b[key];
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v === "boolean") return v;
  if (typeof v === "string" && /^(true|false)$/i.test(v)) return v.toLowerCase() === "true";
  throw badRequest(`Invalid ${key}: expected TRUE or FALSE`);
}
