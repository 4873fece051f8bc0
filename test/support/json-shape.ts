/**
 * JSON shapes: keys and value types, recursively, for holding what our simulators and adapters send
 * against a provider's published sample. Only shapes are compared, never values: a sample's numbers
 * and names are its own. A key whose value is `undefined` counts as absent, as JSON.stringify has it.
 */

/** The shape of a JSON value: its type name, the shape of a list's first item, or an object's keys (sorted) with their shapes. */
export type Shape = string | Shape[] | { [key: string]: Shape };

/** Keys and value types, recursively; a list by its first item (`[]` when empty). */
export function shapeOf(value: unknown): Shape {
  if (Array.isArray(value)) return value.length === 0 ? [] : [shapeOf(value[0])];
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      entries(value)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, inner]) => [key, shapeOf(inner)]),
    );
  }
  return kind(value);
}

export interface ShapeOptions {
  /**
   * Paths left out of the comparison, with everything under them: fields the provider documents
   * although the sample lacks them or types them otherwise. `a.b` names key `b` of object `a`,
   * `a[]` the items of list `a`.
   */
  readonly exempt?: readonly string[];
  /**
   * Whether ours may lack keys the sample has, at any depth (ours a subset of the sample). Off by
   * default: both have the same keys.
   */
  readonly allowMissing?: boolean;
}

/**
 * Where `ours` differs in shape from `published`, one line per path: a key only one of them has, a
 * value of another JSON type, a list empty on one side only; `[]` when the shapes agree. Every item of
 * our lists is held against the sample list's first item.
 */
export function shapeProblems(ours: unknown, published: unknown, options: ShapeOptions = {}): string[] {
  return [...new Set(problems(ours, published, options, ""))];
}

function problems(ours: unknown, published: unknown, options: ShapeOptions, path: string): string[] {
  if (options.exempt?.includes(path)) return [];
  const at = path || "(root)";
  if (kind(ours) !== kind(published)) return [`${at}: ${kind(ours)} where the sample has ${kind(published)}`];
  if (Array.isArray(ours) && Array.isArray(published)) {
    const [first] = published;
    if (ours.length === 0)
      return first === undefined || options.allowMissing ? [] : [`${at}: empty where the sample's list has items`];
    if (first === undefined) return [`${at}: items where the sample's list is empty`];
    return ours.flatMap((item) => problems(item, first, options, `${path}[]`));
  }
  if (kind(ours) !== "object") return [];
  const mine = new Map(entries(ours as object));
  const theirs = new Map(entries(published as object));
  const key = (name: string) => (path === "" ? name : `${path}.${name}`);
  const extra = [...mine.keys()]
    .filter((name) => !theirs.has(name) && !options.exempt?.includes(key(name)))
    .map((name) => `${key(name)}: not in the sample`);
  const missing = options.allowMissing
    ? []
    : [...theirs]
        .filter(([name]) => !mine.has(name) && !options.exempt?.includes(key(name)))
        .map(([name, value]) => `${key(name)}: missing (the sample has ${JSON.stringify(shapeOf(value))})`);
  const shared = [...mine].flatMap(([name, value]) =>
    theirs.has(name) ? problems(value, theirs.get(name), options, key(name)) : [],
  );
  return [...extra, ...missing, ...shared];
}

/** The JSON type of a value, telling lists and null from objects. */
function kind(value: unknown): string {
  return Array.isArray(value) ? "array" : value === null ? "null" : typeof value;
}

const entries = (value: object) => Object.entries(value).filter(([, inner]) => inner !== undefined);
