// Takes REX-Ray off a node as far as scaleio.rexray-install put it there: its service stopped,
// disabled and removed, then the rexray and dvdcli programs the install recorded (a program
// whose bytes changed since was replaced by someone else and is kept; one a package brought is
// removed with the host's package tool), then the record. Idempotent.
import type { StepContext } from "../../../framework/node-task/handler.js";
import { stopAndRemoveService } from "./rexray-service.js";
import { readRexrayRecord, REXRAY_RECORD, sha256Of } from "./rexray-record.js";
import { readFile } from "node:fs/promises";

export interface RexrayRemoval {
  removed: string[];
  /** Programs left in place, each with why. */
  kept: string[];
}

export async function uninstallRexray(ctx: StepContext): Promise<RexrayRemoval> {
  const root = ctx.host.root;
  const removed: string[] = [];
  const kept: string[] = [];
  const service = await stopAndRemoveService(ctx, "rexray");
  if (service) removed.push(service);
  let record;
  try {
    record = await readRexrayRecord(root);
  } catch (err) {
    // Without a readable record nothing says which programs are ours: they stay.
    kept.push(`the programs (${(err as Error).message})`);
  }
  for (const p of record?.programs ?? []) {
    if (p.package) {
      if (await ctx.host.packages.remove(p.package, { signal: ctx.signal })) removed.push(p.path);
      continue;
    }
    let bytes: Buffer;
    try {
      bytes = await readFile(root.resolve(p.path));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") continue; // already gone
      throw err;
    }
    if (sha256Of(bytes) !== p.sha256) {
      kept.push(`${p.path} (changed since the framework installed it)`);
      continue;
    }
    if (await root.remove(p.path)) removed.push(p.path);
  }
  if (record) await root.remove(REXRAY_RECORD);
  return { removed, kept };
}
