// Where each component's package comes from: its own URL when one is configured (the
// predecessor's way), else the repository layout (a folder URL and a version). Without
// either, the error says both ways to set it.
import type { PackageFormat } from "../../host/packages.js";
import type { Component } from "../../platforms/scaleio/node/common.js";
import { packageUrlInRepo } from "../../platforms/scaleio/node/package-layout.js";
import { envName } from "./load.js";
import type { SchedulerConfig } from "./schema.js";

export type PackageSource = SchedulerConfig["scaleio"]["packages"];

export function packageUrlOf(
  packages: PackageSource,
  format: PackageFormat,
  component: Component,
): string {
  const explicit = packages[format][component];
  if (explicit) return explicit;
  if (packages.repo && packages.version) {
    return packageUrlInRepo(packages.repo, packages.version, format, component);
  }
  const own = `package-${format}-${component}`;
  throw new Error(
    `no ${component} package configured for ${format}: set a repository and a version ` +
      `(--package-repo and --package-version, ${envName("package-repo")} and ` +
      `${envName("package-version")}, or scaleio.packages.repo and scaleio.packages.version) ` +
      `or this package's URL (--${own}, ${envName(own)} or scaleio.packages.${format}.${component})`,
  );
}
