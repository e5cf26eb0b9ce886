/**
 * Experiment configs are plain data. Command-line overrides (`--epochs 3 --optimizer.lr 0.01 --Ms 2,3`)
 * are applied onto the defaults with the type of each default value; unknown keys are an error that lists
 * the valid ones.
 */
export type Config = Record<string, unknown>;

function flatKeys(obj: Config, prefix = ''): string[] {
  return Object.entries(obj).flatMap(([k, v]) =>
    v && typeof v === 'object' && !Array.isArray(v) ? flatKeys(v as Config, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}

function coerce(key: string, raw: string, like: unknown): unknown {
  if (typeof like === 'number') {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw new Error(`--${key} expects a number, got '${raw}'`);
    return n;
  }
  if (typeof like === 'boolean') {
    if (['true', '1', 'yes', ''].includes(raw)) return true;
    if (['false', '0', 'no'].includes(raw)) return false;
    throw new Error(`--${key} expects true or false, got '${raw}'`);
  }
  if (Array.isArray(like)) {
    const parts = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
    // An empty default says nothing about its element type: numbers when every part is one, else strings.
    const elem = like.length > 0 ? like[0] : parts.every((p) => Number.isFinite(Number(p))) ? 0 : '';
    return parts.map((p) => coerce(key, p, elem));
  }
  return raw;
}

/** Returns a deep copy of `defaults` with the overrides applied. */
export function applyOverrides<C extends Config>(defaults: C, overrides: Record<string, string>): C {
  const out = JSON.parse(JSON.stringify(defaults)) as C;
  const valid = flatKeys(defaults);
  for (const [key, raw] of Object.entries(overrides)) {
    if (!valid.includes(key)) {
      throw new Error(`Unknown option --${key}. Valid options for this experiment: ${valid.map((k) => '--' + k).join(', ')}`);
    }
    const path = key.split('.');
    let node = out as Config;
    for (const p of path.slice(0, -1)) node = node[p] as Config;
    const last = path[path.length - 1];
    node[last] = coerce(key, raw, node[last]);
  }
  return out;
}

/** Parse `--key value`, `--key=value` and bare `--flag` tokens. */
export function parseOverrideTokens(tokens: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (!t.startsWith('--')) throw new Error(`Unexpected argument '${t}': options look like --key value`);
    const eq = t.indexOf('=');
    if (eq > 0) {
      out[t.slice(2, eq)] = t.slice(eq + 1);
    } else if (i + 1 < tokens.length && !tokens[i + 1].startsWith('--')) {
      out[t.slice(2)] = tokens[++i];
    } else {
      out[t.slice(2)] = 'true';
    }
  }
  return out;
}

export function deepMerge<C extends Config>(base: C, patch: Partial<C>): C {
  const out = JSON.parse(JSON.stringify(base)) as Config;
  for (const [k, v] of Object.entries(patch)) {
    const cur = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object' && !Array.isArray(cur)
      ? deepMerge(cur as Config, v as Config)
      : JSON.parse(JSON.stringify(v));
  }
  return out as C;
}
