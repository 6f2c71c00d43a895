// ScaleIO's "KB" is KiB and "GB" is GiB; volumes and free capacity move in 8 GB steps.
export const KB_PER_GB = 1048576;
export const GRANULE_KB = 8 * KB_PER_GB;

export function floorGranule(kb: number): number {
  return kb <= 0 ? 0 : Math.floor(kb / GRANULE_KB) * GRANULE_KB;
}

export function ceilGranule(kb: number): number {
  return Math.ceil(kb / GRANULE_KB) * GRANULE_KB;
}

/** scli's human size forms: `0 Bytes`, `390.0 KB (399769 Bytes)`, `8.0 GB (8192 MB)`, `1.4 TB (1494 GB)`. */
export function humanSize(kb: number): string {
  if (kb <= 0) return "0 Bytes";
  if (kb >= 1024 * KB_PER_GB) {
    return `${(kb / (1024 * KB_PER_GB)).toFixed(1)} TB (${Math.floor(kb / KB_PER_GB)} GB)`;
  }
  if (kb >= KB_PER_GB) return `${(kb / KB_PER_GB).toFixed(1)} GB (${Math.floor(kb / 1024)} MB)`;
  if (kb >= 1024) return `${(kb / 1024).toFixed(1)} MB (${Math.floor(kb)} KB)`;
  return `${kb.toFixed(1)} KB (${Math.floor(kb * 1024)} Bytes)`;
}
