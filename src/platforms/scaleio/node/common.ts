// Shared pieces of the ScaleIO node steps: components and their package names, parameter
// schemas that only accept plain values (no shell metacharacters can get through), and the
// version carried by a package file name.
import { z } from "zod";
import type { PackageFormat } from "../../../host/packages.js";

export const COMPONENTS = ["mdm", "sds", "sdc", "lia", "gateway"] as const;
export type Component = (typeof COMPONENTS)[number];

export function packageName(c: Component, format: PackageFormat): string {
  return format === "rpm" ? `EMC-ScaleIO-${c}` : `emc-scaleio-${c}`;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export const ipSchema = z.string().regex(IPV4, "must be an IPv4 address");

/** ScaleIO object names (MDM, system, PD, pool): letters, digits, `_.-`, at most 31. */
export const nameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,30}$/, "must be 1-31 letters, digits, '_', '.' or '-'");

export const componentSchema = z.enum(COMPONENTS);

const FILE_VERSION =
  /^(?:EMC-ScaleIO|emc-scaleio)-(mdm|sds|sdc|lia|gateway)[-_](\d+\.\d+-\d+(?:\.\d+)?)[._]/i;

/** Component and version from `EMC-ScaleIO-mdm-2.0-6035.0.el7.x86_64.rpm` / `emc-scaleio-mdm_2.0-6035.0_amd64.deb`. */
export function parsePackageFile(
  fileName: string,
): { component: Component; version: string; format: PackageFormat } | undefined {
  const m = FILE_VERSION.exec(fileName);
  if (!m) return undefined;
  const format: PackageFormat | undefined = fileName.endsWith(".rpm")
    ? "rpm"
    : fileName.endsWith(".deb")
      ? "deb"
      : undefined;
  if (!format) return undefined;
  return { component: m[1]!.toLowerCase() as Component, version: m[2]!, format };
}

/** The last lines of a tool's output, for error messages. */
export function tail(text: string, lines = 5): string {
  return text.trim().split("\n").slice(-lines).join(" | ");
}
