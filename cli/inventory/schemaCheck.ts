/**
 * JSON Schema check of an inventory document (schemas/inventory.schema.json, the same file editors use through the
 * `# yaml-language-server: $schema=` line), with ajv reporting all errors at once.
 *
 * ajv's raw errors are written for schema authors; this file turns them into one message per problem for inventory
 * authors: unknown keys with a did-you-mean, `oneOf` alternatives collapsed into one sentence, and a secret written in
 * clear text (a string where `{ env: NAME }` or `{ file: path }` is required) called out as such.
 */
import Ajv, { type ErrorObject } from 'ajv';
import schema from '../../schemas/inventory.schema.json';
import type { PathSegment } from './yamlPositions';

export interface SchemaProblem {
  path: PathSegment[];
  /** True when the position should be that of the key (unknown setting) rather than its value. */
  atKey: boolean;
  message: string;
}

let validator: ReturnType<Ajv['compile']> | undefined;

function compiled(): ReturnType<Ajv['compile']> {
  if (!validator) {
    const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true });
    validator = ajv.compile(schema);
  }
  return validator;
}

/** What a `oneOf` definition expects, in words. Keyed by the definition that holds the `oneOf`. */
const ONE_OF_EXPECTATIONS: Record<string, string> = {
  secretRef: 'must be a secret reference: { env: VARIABLE } or { file: path }',
  memory: 'must be a number of bytes or a size such as 512mb or 2gb',
};

export function checkSchema(doc: unknown): SchemaProblem[] {
  const validate = compiled();
  if (validate(doc)) return [];
  const errors = (validate.errors ?? []).slice();
  const problems: SchemaProblem[] = [];
  const oneOfs = errors.filter((e) => e.keyword === 'oneOf');
  const swallowed = new Set<ErrorObject>();
  for (const o of oneOfs) {
    const branchPrefix = o.schemaPath.replace(/oneOf$/, 'oneOf/');
    for (const e of errors) {
      if (e !== o && e.schemaPath.startsWith(branchPrefix) && e.instancePath.startsWith(o.instancePath)) {
        swallowed.add(e);
      }
    }
  }
  for (const e of errors) {
    if (swallowed.has(e)) continue;
    problems.push(describe(e));
  }
  return dedupe(problems);
}

function dedupe(problems: SchemaProblem[]): SchemaProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.path.join('\u0000')}\u0001${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export function pointerToPath(pointer: string): PathSegment[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Name of the schema definition an error's parent schema is (ajv reports paths relative to a `$ref` target). */
function definitionOf(parentSchema: unknown): string | undefined {
  const defs = (schema as { definitions: Record<string, unknown> }).definitions;
  return Object.keys(defs).find((k) => defs[k] === parentSchema);
}

function describe(e: ErrorObject): SchemaProblem {
  const path = pointerToPath(e.instancePath);
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const allowed = Object.keys((e.parentSchema as { properties?: object })?.properties ?? {});
      const hint = suggest(key, allowed);
      return {
        path: [...path, key],
        atKey: true,
        message: `unknown setting "${key}"${hint ? ` (did you mean "${hint}"?)` : allowed.length ? ` (allowed: ${allowed.filter((a) => a !== '$schema').join(', ')})` : ''}`,
      };
    }
    case 'required':
      return { path, atKey: true, message: `missing required setting "${String(params.missingProperty)}"` };
    case 'type':
      return {
        path,
        atKey: false,
        message: `must be ${article(String(params.type))}, not ${typeName(e.data)}`,
      };
    case 'enum':
      return {
        path,
        atKey: false,
        message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, not ${JSON.stringify(e.data)}`,
      };
    case 'const':
      return { path, atKey: false, message: `must be ${JSON.stringify(params.allowedValue)}` };
    case 'pattern': {
      const desc = (e.parentSchema as { description?: string })?.description;
      const isName = /#\/definitions\/name\//.test(e.schemaPath) || e.propertyName !== undefined;
      return {
        path: e.propertyName !== undefined ? [...path, e.propertyName] : path,
        atKey: e.propertyName !== undefined,
        message: `${JSON.stringify(e.propertyName ?? e.data)} is not valid${desc ? `: ${desc}` : isName ? '' : ` (must match ${String(params.pattern)})`}`,
      };
    }
    case 'propertyNames':
      // The failing name was reported by the nested error (pattern); this one only repeats it.
      return {
        path: [...path, String(params.propertyName)],
        atKey: true,
        message: `invalid name ${JSON.stringify(params.propertyName)}`,
      };
    case 'oneOf': {
      const def = definitionOf(e.parentSchema);
      if (def === 'secretRef' && (typeof e.data === 'string' || typeof e.data === 'number')) {
        return {
          path,
          atKey: false,
          message:
            'secret written in clear text; put it in an environment variable or a file and reference it: { env: NAME } or { file: path }',
        };
      }
      const expectation = (def && ONE_OF_EXPECTATIONS[def]) ?? describeOneOf(e.schema as unknown[]);
      return { path, atKey: false, message: expectation };
    }
    case 'minimum':
    case 'maximum':
    case 'minLength':
    case 'maxLength':
    case 'minItems':
    case 'minProperties':
    case 'uniqueItems':
      return { path, atKey: false, message: e.message ?? e.keyword };
    default:
      return { path, atKey: false, message: e.message ?? e.keyword };
  }
}

function describeOneOf(branches: unknown[]): string {
  const types = new Set<string>();
  for (const b of branches) {
    const t = (b as { type?: string | string[] }).type;
    if (Array.isArray(t)) t.forEach((x) => types.add(x));
    else if (t) types.add(t === 'array' ? 'a list of them' : t);
  }
  return `must be ${[...types].join(', ').replace(/, ([^,]*)$/, ' or $1')}`;
}

function article(type: string): string {
  const t = type.replace(/,/g, ' or ');
  if (t === 'object') return 'a mapping';
  if (t === 'array') return 'a list';
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

function typeName(v: unknown): string {
  if (v === null) return 'empty';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** Closest allowed key within a small edit distance, for typos like `replicaOf` or `adress`. */
export function suggest(key: string, allowed: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const a of allowed) {
    const d = editDistance(key.toLowerCase(), a.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = a;
    }
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(key.length / 3)) ? best : undefined;
}

/** Edit distance counting a swap of neighbours as one edit (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}
