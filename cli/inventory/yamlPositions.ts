/**
 * YAML loading that remembers where every value came from.
 *
 * js-yaml builds plain JS values and forgets positions; its `listener` option reports the opening and closing of
 * every node it composes. We record those events as a tree of nodes (start offset, end offset, resulting value,
 * children) and then answer "where is `hosts.replica.replicaof`?" by walking that tree along the path:
 * a mapping's children come in key/value pairs, a sequence's children are its items.
 * js-yaml wraps some nodes (a block mapping first composes its first key, which may turn out to be the whole node),
 * so a node whose only child produced the same value is collapsed into that child.
 * Positions are best effort for exotic YAML (merge keys, flow keys without values): a lookup that cannot follow the
 * path returns the position of the deepest node it reached, never throws.
 */
import yaml from 'js-yaml';

export type PathSegment = string | number;

export interface Position {
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
}

interface RawNode {
  start: number;
  end: number;
  value: unknown;
  children: RawNode[];
}

export interface LocatedDocument {
  value: unknown;
  /** Position of the value at `path` (or of its key with `key: true`), or of the deepest ancestor found. */
  locate(path: readonly PathSegment[], opts?: { key?: boolean }): Position;
}

export class YamlSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: Position,
  ) {
    super(message);
  }
}

/** Parse one YAML document. Throws `YamlSyntaxError` with the position js-yaml reports. */
export function loadYamlWithPositions(text: string, fileName: string): LocatedDocument {
  const stack: RawNode[] = [{ start: 0, end: text.length, value: undefined, children: [] }];
  let value: unknown;
  try {
    value = yaml.load(text, {
      filename: fileName,
      schema: yaml.CORE_SCHEMA,
      listener(event, state) {
        if (event === 'open') {
          stack.push({ start: state.position, end: state.position, value: undefined, children: [] });
        } else {
          const node = stack.pop()!;
          node.end = state.position;
          node.value = state.result;
          stack[stack.length - 1].children.push(collapse(node));
        }
      },
    });
  } catch (e) {
    if (e instanceof yaml.YAMLException) {
      const mark = e.mark as { line?: number; column?: number } | undefined;
      throw new YamlSyntaxError(e.reason || e.message, {
        line: (mark?.line ?? 0) + 1,
        column: (mark?.column ?? 0) + 1,
      });
    }
    throw e;
  }
  const root = stack[0].children.length > 0 ? stack[0].children[0] : undefined;
  const lineStarts = computeLineStarts(text);
  const toPosition = (offset: number): Position => offsetToPosition(text, lineStarts, offset);

  return {
    value,
    locate(path, opts = {}) {
      if (!root) return { line: 1, column: 1 };
      let node = root;
      let keyNode: RawNode | undefined;
      for (const seg of path) {
        const next = child(node, seg);
        if (!next) return toPosition(node.start);
        keyNode = next.key;
        node = next.value ?? next.key!;
      }
      // An empty value has no text of its own: point at its key.
      const target = keyNode && (opts.key || node.value === null) ? keyNode : node;
      return toPosition(target.start);
    },
  };
}

function collapse(node: RawNode): RawNode {
  while (node.children.length === 1 && sameValue(node.children[0].value, node.value)) {
    node = node.children[0];
  }
  return node;
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

function child(node: RawNode, seg: PathSegment): { key?: RawNode; value?: RawNode } | undefined {
  if (Array.isArray(node.value)) {
    const index = typeof seg === 'number' ? seg : Number(seg);
    const item = node.children[index];
    return item ? { value: item } : undefined;
  }
  if (node.value !== null && typeof node.value === 'object') {
    // Children of a mapping alternate key, value. A key whose value is empty still has a (null) value node.
    for (let i = 0; i < node.children.length; i += 2) {
      const k = node.children[i];
      if (String(k.value) === String(seg)) return { key: k, value: node.children[i + 1] };
    }
  }
  return undefined;
}

function computeLineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

/** The listener reports where a node's parsing began, which may be before separating blanks and comments. */
function offsetToPosition(text: string, lineStarts: number[], offset: number): Position {
  let i = offset;
  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') i++;
    else if (c === '#') while (i < text.length && text[i] !== '\n') i++;
    else break;
  }
  if (i >= text.length) i = Math.min(offset, Math.max(0, text.length - 1));
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lineStarts[mid] <= i) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: i - lineStarts[lo] + 1 };
}
