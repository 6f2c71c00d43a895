// Where REX-Ray and dvdcli are downloaded from, from the configuration: an explicit URL wins;
// else a repository laid out as REX-Ray's old download site (bintray's
// `<repo>/<branch>/<version>/rexray-Linux-x86_64-<version>.tar.gz`), which is what the
// predecessor's -rexray.branch and -rexray.version chose from; else nothing is installed.
import { pathToFileURL } from "node:url";

export const DEFAULT_REXRAY_VERSION = "0.11.4";
export const DEFAULT_REXRAY_BRANCH = "stable";

export interface RexraySource {
  rexrayUrl?: string;
  rexrayRepo?: string;
  rexrayVersion?: string;
  rexrayBranch?: string;
  dvdcliUrl?: string;
}

/** An absolute path becomes a file URL; URLs are kept. */
function asUrl(s: string): string {
  return s.startsWith("/") ? pathToFileURL(s).href : s;
}

/** The downloads to install, or undefined when no REX-Ray source is configured. */
export function rexrayDownloads(
  s: RexraySource,
): { rexrayUrl: string; dvdcliUrl?: string } | undefined {
  let rexrayUrl: string | undefined;
  if (s.rexrayUrl) rexrayUrl = asUrl(s.rexrayUrl);
  else if (s.rexrayRepo) {
    const version = s.rexrayVersion ?? DEFAULT_REXRAY_VERSION;
    const branch = s.rexrayBranch ?? DEFAULT_REXRAY_BRANCH;
    rexrayUrl = `${asUrl(s.rexrayRepo).replace(/\/+$/, "")}/${branch}/${version}/rexray-Linux-x86_64-${version}.tar.gz`;
  }
  if (!rexrayUrl) return undefined;
  return { rexrayUrl, ...(s.dvdcliUrl ? { dvdcliUrl: asUrl(s.dvdcliUrl) } : {}) };
}

/** Why the settings cannot be honoured (a field and its message), or undefined. */
export function rexraySourceProblem(
  s: RexraySource,
): { field: keyof RexraySource; message: string } | undefined {
  if (s.rexrayUrl || s.rexrayRepo) return undefined;
  if (s.rexrayVersion || s.rexrayBranch)
    return {
      field: s.rexrayVersion ? "rexrayVersion" : "rexrayBranch",
      message:
        "chooses REX-Ray's download from a repository: set --rexray-repo (a folder laid out as <repo>/<branch>/<version>/<file>) or give --rexray-url",
    };
  if (s.dvdcliUrl)
    return {
      field: "dvdcliUrl",
      message: "is installed with REX-Ray: set --rexray-url or --rexray-repo too",
    };
  return undefined;
}
