/**
 * Exact structural equality of session values as the codec promises to keep them: own
 * keys (an own `__proto__` or `constructor` is data like any other), `undefined` apart
 * from a missing key, -0, NaN, Map and Set order, Dates to the millisecond (Invalid Date
 * included), BigInt. A null-prototype object equals the plain object it decodes to.
 * `toStrictEqual` cannot judge this: it reads `constructor` to compare types, so an own
 * `constructor` key fails it.
 */
export function sameData(a: unknown, b: unknown, path = '$'): string | undefined {
  if (typeof a !== typeof b) return `${path}: ${typeof a} vs ${typeof b}`;
  if (typeof a !== 'object' || a === null || b === null) {
    return Object.is(a, b) ? undefined : `${path}: ${String(a)} vs ${String(b)}`;
  }
  const x = a as object;
  const y = b as object;
  if (Array.isArray(x) !== Array.isArray(y)) return `${path}: array vs not`;
  if (Array.isArray(x)) return sameList(x, y as unknown[], path);
  if (x instanceof Date || y instanceof Date) {
    if (!(x instanceof Date && y instanceof Date)) return `${path}: Date vs not`;
    return Object.is(x.getTime(), y.getTime()) ? undefined : `${path}: ${x.getTime()} vs ${y.getTime()}`;
  }
  if (x instanceof Map || y instanceof Map) {
    if (!(x instanceof Map && y instanceof Map)) return `${path}: Map vs not`;
    return sameList([...x].flat(), [...y].flat(), `${path}<map>`);
  }
  if (x instanceof Set || y instanceof Set) {
    if (!(x instanceof Set && y instanceof Set)) return `${path}: Set vs not`;
    return sameList([...x], [...y], `${path}<set>`);
  }
  const protoY = Object.getPrototypeOf(y);
  if (protoY !== Object.prototype) return `${path}: decoded object has a foreign prototype`;
  const keysX = Object.keys(x);
  const keysY = Object.keys(y);
  if (keysX.join('\0') !== keysY.join('\0'))
    return `${path}: keys ${JSON.stringify(keysX)} vs ${JSON.stringify(keysY)}`;
  for (const key of keysX) {
    const dx = Object.getOwnPropertyDescriptor(x, key);
    const dy = Object.getOwnPropertyDescriptor(y, key);
    if (!dy || !('value' in dy)) return `${path}.${key}: not a data property`;
    const diff = sameData(dx?.value, dy.value, `${path}.${key}`);
    if (diff) return diff;
  }
  return undefined;
}

function sameList(x: readonly unknown[], y: readonly unknown[], path: string): string | undefined {
  if (x.length !== y.length) return `${path}: length ${x.length} vs ${y.length}`;
  for (let i = 0; i < x.length; i++) {
    const diff = sameData(x[i], y[i], `${path}[${i}]`);
    if (diff) return diff;
  }
  return undefined;
}
