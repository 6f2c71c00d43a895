// ScaleIO's "KB" is KiB and "GB" is GiB; volumes and free capacity move in 8 GB steps.
export const KB_PER_GB = 1048576;
export const GRANULE_KB = 8 * KB_PER_GB;

export function floorGranule(kb: number): number {
  return kb <= 0 ? 0 : Math.floor(kb / GRANULE_KB) * GRANULE_KB;
}

export function ceilGranule(kb: number): number {
  return Math.ceil(kb / GRANULE_KB) * GRANULE_KB;
}

/** scli's human size form, e.g. `8.0 GB (8192 MB)`. */
export function humanSize(kb: number): string {
  const mb = Math.floor(kb / 1024);
  if (kb >= 1024 * KB_PER_GB) {
    return `${(kb / (1024 * KB_PER_GB)).toFixed(1)} TB (${Math.floor(kb / KB_PER_GB)} GB)`;
  }
  if (kb >= KB_PER_GB) return `${(kb / KB_PER_GB).toFixed(1)} GB (${mb} MB)`;
  return `${(kb / 1024).toFixed(1)} MB (${kb} KB)`;
}
