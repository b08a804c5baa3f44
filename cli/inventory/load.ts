/**
 * Inventory loading pipeline: read -> YAML with positions -> JSON Schema -> merge layers -> semantic rules.
 *
 * Each stage reports every problem it finds (not just the first), each located as file:line:column plus the path
 * inside the document; a later stage runs only when the earlier ones found nothing, because rules on a document that
 * does not match the schema would report nonsense. Loading never touches a host.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { InventoryError, UserError, messageOf, type InventoryProblem } from '../errors';
import type { Inventory, NodeSpec } from './model';
import { buildNodeSpec, mergeLayers, type Layer } from './resolve';
import { applyRules, checkRole } from './rules';
import { checkSchema } from './schemaCheck';
import {
  loadYamlWithPositions,
  YamlSyntaxError,
  type LocatedDocument,
  type PathSegment,
} from './yamlPositions';

type Obj = Record<string, unknown>;

/** Largest inventory file we read; a real one is a few kilobytes. */
export const INVENTORY_MAX_BYTES = 4 * 1024 * 1024;

export function loadInventoryFile(file: string): Inventory {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new UserError('E_INVENTORY_READ', `cannot read inventory ${file}: ${messageOf(e)}`);
  }
  if (bytes.length > INVENTORY_MAX_BYTES) {
    throw new UserError('E_INVENTORY_READ', `inventory ${file} is larger than ${INVENTORY_MAX_BYTES} bytes`);
  }
  return parseInventory(bytes.toString('utf8'), file, {
    dir: path.dirname(path.resolve(file)),
    checksum: createHash('sha256').update(bytes).digest('hex'),
  });
}

/** Parses inventory text. `file` is only used in messages; `dir` anchors relative local paths. */
export function parseInventory(
  text: string,
  file: string,
  opts: { dir: string; checksum?: string },
): Inventory {
  let doc: LocatedDocument;
  try {
    doc = loadYamlWithPositions(text, file);
  } catch (e) {
    if (e instanceof YamlSyntaxError) {
      throw new InventoryError([
        { file, ...e.position, path: '', message: `YAML syntax: ${e.message}`, kind: 'syntax' },
      ]);
    }
    throw e;
  }
  const problem = (
    p: PathSegment[],
    message: string,
    kind: InventoryProblem['kind'],
    atKey = false,
  ): InventoryProblem => ({
    file,
    ...doc.locate(p, { key: atKey }),
    path: formatPath(p),
    message,
    kind,
  });

  if (doc.value === null || doc.value === undefined) {
    throw new InventoryError([
      { file, line: 1, column: 1, path: '', message: 'the inventory is empty', kind: 'schema' },
    ]);
  }
  const schemaProblems = checkSchema(doc.value);
  if (schemaProblems.length > 0) {
    throw new InventoryError(
      sortProblems(
        schemaProblems.map((p) =>
          problem(
            p.path,
            p.message,
            p.message.startsWith('secret written in clear') ? 'secret' : 'schema',
            p.atKey,
          ),
        ),
      ),
    );
  }

  const root = doc.value as Obj;
  const defaults = root.defaults as Obj | undefined;
  const groups = (root.groups ?? {}) as Record<string, Obj>;
  const hosts = root.hosts as Record<string, Obj>;
  const problems: InventoryProblem[] = [];

  const nodes: NodeSpec[] = [];
  for (const [name, raw] of Object.entries(hosts)) {
    const roleProblem = checkRole(name, raw.role, raw.replicaof);
    if (roleProblem) problems.push(problem(roleProblem.path, roleProblem.message, 'semantic'));
    const layers: Layer[] = [{ value: defaults, path: ['defaults'] }];
    for (const g of (raw.groups as string[] | undefined) ?? [])
      layers.push({ value: groups[g], path: ['groups', g] });
    layers.push({ value: raw, path: ['hosts', name] });
    nodes.push(buildNodeSpec({ name, raw, merged: mergeLayers(layers) }, opts.dir));
  }

  const groupNames = Object.keys(groups);
  const rules = applyRules(nodes, groupNames);
  for (const p of rules.problems) {
    problems.push(
      problem(
        p.path,
        p.message,
        p.message.startsWith('secret written in clear') ? 'secret' : 'semantic',
        p.atKey,
      ),
    );
  }
  if (problems.length > 0) throw new InventoryError(sortProblems(problems));

  const members: Record<string, string[]> = Object.fromEntries(groupNames.map((g) => [g, [] as string[]]));
  for (const n of nodes) for (const g of n.groups) members[g].push(n.name);
  nodes.sort((a, b) => a.depth - b.depth || a.name.localeCompare(b.name));

  return {
    file,
    dir: opts.dir,
    checksum: opts.checksum ?? createHash('sha256').update(text).digest('hex'),
    nodes,
    groups: members,
    warnings: rules.warnings,
    locate: (p, o) => doc.locate(p, o),
  };
}

export function formatPath(p: readonly PathSegment[]): string {
  let out = '';
  for (const seg of p) {
    if (typeof seg === 'number' || /^\d+$/.test(String(seg))) out += `[${seg}]`;
    else out += out ? `.${seg}` : String(seg);
  }
  return out;
}

function sortProblems(problems: InventoryProblem[]): InventoryProblem[] {
  return problems.sort((a, b) => a.line - b.line || a.column - b.column);
}
