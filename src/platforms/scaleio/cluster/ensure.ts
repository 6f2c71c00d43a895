// The one pattern every create follows so that it can run again after a crash at any point:
// look first, create only what is missing, and when the create is refused (typically "name
// already in use" because an earlier run created it just before dying) look again.
import { asClusterError, isTransient } from "./errors.js";

export interface Ensured {
  id: string;
  created: boolean;
}

export async function ensureObject<T extends { id: string }>(
  what: string,
  find: () => Promise<T | undefined>,
  create: () => Promise<string>,
): Promise<Ensured> {
  let found: T | undefined;
  try {
    found = await find();
  } catch (e) {
    throw asClusterError(e, `looking up ${what}`);
  }
  if (found) return { id: found.id, created: false };
  try {
    return { id: await create(), created: true };
  } catch (e) {
    if (isTransient(e)) throw asClusterError(e, `creating ${what}`);
    let again: T | undefined;
    try {
      again = await find();
    } catch {
      again = undefined;
    }
    if (again) return { id: again.id, created: false };
    throw asClusterError(e, `creating ${what}`);
  }
}
