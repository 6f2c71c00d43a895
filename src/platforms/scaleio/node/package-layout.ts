// The default layout of a package repository: one folder holding each component's package
// file under the name ScaleIO delivers it with (reference sheet 2.1), so that a repository
// URL and a version are enough to name every package. The names round-trip through
// parsePackageFile, the parser install and upgrade steps read versions with.
import type { PackageFormat } from "../../../host/packages.js";
import { parsePackageFile, type Component } from "./common.js";

/** `EMC-ScaleIO-mdm-2.0-6035.0.el7.x86_64.rpm` / `emc-scaleio-mdm_2.0-6035.0_amd64.deb`. */
export function packageFileName(
  component: Component,
  version: string,
  format: PackageFormat,
): string {
  return format === "rpm"
    ? `EMC-ScaleIO-${component}-${version}.el7.x86_64.rpm`
    : `emc-scaleio-${component}_${version}_amd64.deb`;
}

/** A version the package file names can carry and give back unchanged (`2.0-6035.0`). */
export function isPackageVersion(version: string): boolean {
  return (["rpm", "deb"] as const).every(
    (format) => parsePackageFile(packageFileName("mdm", version, format))?.version === version,
  );
}

/** `<repo>/<file name>`: the URL of a component's package in a repository of that layout. */
export function packageUrlInRepo(
  repo: string,
  version: string,
  format: PackageFormat,
  component: Component,
): string {
  if (!isPackageVersion(version)) {
    throw new Error(`'${version}' is not a package version like 2.0-6035.0`);
  }
  return `${repo.replace(/\/+$/, "")}/${packageFileName(component, version, format)}`;
}
