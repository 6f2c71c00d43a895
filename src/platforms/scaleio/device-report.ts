// The device report an executor sends to the scheduler on its own (Mesos MESSAGE): the raw
// devices of its host, nothing else. The scheduler turns it into observed state; a report
// is validated like any other input from the outside world.
import { z } from "zod";
import type { DeviceFact } from "./topology/facts.js";

export const DEVICE_REPORT_TYPE = "scaleio.devices";

const deviceFact = z
  .object({
    path: z.string().min(1).max(300),
    sizeBytes: z.number().nonnegative(),
    usable: z.boolean(),
    reason: z.string().max(300).optional(),
  })
  .strict();

const deviceReport = z
  .object({ type: z.literal(DEVICE_REPORT_TYPE), devices: z.array(deviceFact).max(1000) })
  .strict();

export interface DeviceReport {
  type: typeof DEVICE_REPORT_TYPE;
  devices: DeviceFact[];
}

export function encodeDeviceReport(devices: DeviceFact[]): string {
  return JSON.stringify({ type: DEVICE_REPORT_TYPE, devices });
}

/** The report, or undefined for a message of another kind; throws on a malformed report. */
export function decodeDeviceReport(data: Buffer): DeviceReport | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(data.toString("utf8"));
  } catch {
    return undefined;
  }
  if ((doc as { type?: unknown } | null)?.type !== DEVICE_REPORT_TYPE) return undefined;
  const r = deviceReport.safeParse(doc);
  if (!r.success) throw new Error(`malformed device report: ${r.error.issues[0]?.message}`);
  return r.data as DeviceReport;
}

/** Same usable devices (path and size), whatever the order. */
export function sameUsableDevices(a: DeviceFact[] = [], b: DeviceFact[] = []): boolean {
  const key = (l: DeviceFact[]) =>
    l
      .filter((d) => d.usable)
      .map((d) => `${d.path}:${d.sizeBytes}`)
      .sort()
      .join(",");
  return key(a) === key(b);
}
