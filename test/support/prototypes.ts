// Detects prototype pollution: what a test run added to or changed on the built-in objects a
// lookup like `table[id]` can reach (`__proto__` → Object.prototype, `constructor` → Object),
// and undoes it so one polluting test does not break every test after it.

const WATCHED: [string, object][] = [
  ["Object.prototype", Object.prototype],
  ["Object", Object],
  ["Function.prototype", Function.prototype],
  ["Array.prototype", Array.prototype],
  ["String.prototype", String.prototype],
];

export interface PrototypeWatch {
  /** `Object.prototype.status`, ... for every property added, changed or removed. */
  changes(): string[];
  /** Puts every watched object back as it was. */
  restore(): void;
}

export function watchPrototypes(): PrototypeWatch {
  const before = WATCHED.map(
    ([name, obj]) =>
      [name, obj, new Map(Reflect.ownKeys(obj).map((k) => [k, descriptor(obj, k)]))] as const,
  );
  return {
    changes() {
      const out: string[] = [];
      for (const [name, obj, props] of before) {
        const now = new Set(Reflect.ownKeys(obj));
        for (const k of now) {
          const was = props.get(k);
          if (!was || !sameDescriptor(was, descriptor(obj, k))) out.push(`${name}.${String(k)}`);
        }
        for (const k of props.keys()) if (!now.has(k)) out.push(`${name}.${String(k)} (removed)`);
      }
      return out;
    },
    restore() {
      for (const [, obj, props] of before) {
        for (const k of Reflect.ownKeys(obj))
          if (!props.has(k)) delete (obj as Record<string | symbol, unknown>)[k];
        for (const [k, d] of props) Object.defineProperty(obj, k, d);
      }
    },
  };
}

function descriptor(obj: object, key: string | symbol): PropertyDescriptor {
  return Object.getOwnPropertyDescriptor(obj, key)!;
}

function sameDescriptor(a: PropertyDescriptor, b: PropertyDescriptor): boolean {
  return (
    a.value === b.value &&
    a.get === b.get &&
    a.set === b.set &&
    a.writable === b.writable &&
    a.enumerable === b.enumerable &&
    a.configurable === b.configurable
  );
}
