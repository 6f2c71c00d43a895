// What scaleio.rexray-install put on a node, so that an uninstall takes away exactly that: the
// programs it wrote (with their bytes' digest: a program replaced since by someone else is
// kept) or the package that brought them. The service is recognised by its own mark
// (SERVICE_MARK), so it needs no record.
import { createHash } from "node:crypto";
import { z } from "zod";
import type { HostRoot } from "../../../host/files.js";

export const REXRAY_RECORD = "/var/lib/scaleio-framework/rexray.json";

const recordedProgram = z.object({
  path: z.string().regex(/^\/[A-Za-z0-9._/+-]+$/),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** The package that installed it (removed with the host's package tool), if any. */
  package: z.string().max(200).optional(),
});

const rexrayRecord = z.object({ programs: z.array(recordedProgram).max(10) });

export type RecordedProgram = z.infer<typeof recordedProgram>;
export type RexrayRecord = z.infer<typeof rexrayRecord>;

export const sha256Of = (bytes: Buffer): string => createHash("sha256").update(bytes).digest("hex");

/** The record, or undefined when there is none; a record that does not parse is an error. */
export async function readRexrayRecord(root: HostRoot): Promise<RexrayRecord | undefined> {
  const text = await root.readText(REXRAY_RECORD);
  if (text === undefined) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`${REXRAY_RECORD} is not JSON: ${(err as Error).message}`);
  }
  const parsed = rexrayRecord.safeParse(doc);
  if (!parsed.success) throw new Error(`${REXRAY_RECORD} is not a REX-Ray install record`);
  return parsed.data;
}

/** Adds (or replaces, by path) programs in the record; true when the file changed. */
export async function recordPrograms(
  root: HostRoot,
  programs: RecordedProgram[],
): Promise<boolean> {
  let old: RecordedProgram[] = [];
  try {
    old = (await readRexrayRecord(root))?.programs ?? [];
  } catch {
    // A damaged record is replaced by what this install wrote (the earlier entries are lost).
  }
  const paths = new Set(programs.map((p) => p.path));
  const next: RexrayRecord = { programs: [...old.filter((p) => !paths.has(p.path)), ...programs] };
  return root.writeAtomic(REXRAY_RECORD, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o644 });
}
