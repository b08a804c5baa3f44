/**
 * What every command gets, and the steps several commands share: loading the inventory with its secrets,
 * narrowing to --limit, and gathering facts from every host in scope (read-only, in parallel, all-or-nothing:
 * a host that cannot be reached stops the command before anything changes anywhere).
 */
import { OperationFailure, UserError, messageOf } from '../errors';
import { loadInventoryFile } from '../inventory/load';
import type { Inventory, NodeSpec } from '../inventory/model';
import { defaultSecretReader, resolveSecrets, type NodeSecrets } from '../inventory/secrets';
import { suggest } from '../inventory/schemaCheck';
import { Session } from '../deploy/session';
import { gatherHostFacts, type NodeFacts } from '../plan/facts';
import { computePlan, type PlanResult } from '../plan/plan';
import type { AgentBundle } from '../deploy/session';
import type { CliIO } from '../ui/io';
import type { Progress } from '../ui/progress';
import type { Style } from '../ui/style';
import type { Options } from './options';

export interface CommandContext {
  io: CliIO;
  options: Options;
  inventoryPath: string;
  /** True when INVENTORY was not given and the embedded local inventory is used. */
  embeddedInventory: boolean;
  style: Style;
  progress: Progress;
  /** Human output (stdout). Suppressed with --json, whose single document the command returns instead. */
  say(line?: string): void;
  /** Notes for people (stderr), also in --json mode. */
  note(line: string): void;
  interactive: boolean;
  /** The command's positional argument after INVENTORY (promote's HOST). */
  argument?: string;
}

export interface CommandOutcome {
  /** 0 ok, 1 failure; status also uses 2 (a node or link down). */
  exitCode: 0 | 1 | 2;
  /** The --json document. */
  json: unknown;
}

export interface Loaded {
  inventory: Inventory;
  secrets: Map<string, NodeSecrets>;
  scope: NodeSpec[];
}

export function loadInventory(ctx: CommandContext): Loaded {
  const inventory = loadInventoryFile(ctx.inventoryPath);
  const secrets = resolveSecrets(inventory, defaultSecretReader(ctx.io.env));
  const scope = resolveLimit(inventory, ctx.options.limit);
  return { inventory, secrets, scope };
}

/** Nodes named by --limit (host names or group names), in inventory order; all nodes without --limit. */
export function resolveLimit(inv: Inventory, limit: string[]): NodeSpec[] {
  if (limit.length === 0) return inv.nodes;
  const names = new Set<string>();
  for (const l of limit) {
    if (inv.nodes.some((n) => n.name === l)) names.add(l);
    else if (inv.groups[l]) inv.groups[l].forEach((n) => names.add(n));
    else {
      const hint = suggest(l, [...inv.nodes.map((n) => n.name), ...Object.keys(inv.groups)]);
      throw new UserError(
        'E_LIMIT_UNKNOWN',
        `--limit ${l}: no such host or group${hint ? ` (did you mean "${hint}"?)` : ''}`,
      );
    }
  }
  return inv.nodes.filter((n) => names.has(n.name));
}

export function openSession(ctx: CommandContext, loaded: Loaded): Session {
  return new Session(loaded.inventory, loaded.secrets, {
    acceptNewHostKeys: ctx.options.acceptNewHostKeys,
    env: ctx.io.env,
  });
}

export async function gatherAllFacts(
  ctx: CommandContext,
  session: Session,
  scope: NodeSpec[],
): Promise<Map<string, NodeFacts>> {
  const facts = new Map<string, NodeFacts>();
  const results = await ctx.progress.runStage({
    title: `gather facts (${scope.length} node${scope.length === 1 ? '' : 's'})`,
    concurrency: ctx.options.parallel,
    jobs: scope.map((node) => ({
      host: node.name,
      steps: [
        {
          title: 'facts',
          run: async () => {
            const f = await gatherHostFacts({
              transport: session.transport(node),
              node,
              secrets: session.secretsOf(node.name),
            });
            facts.set(node.name, f);
            return f.live.reachable
              ? `agent up (${f.live.info?.role ?? '?'})`
              : f.process.running
                ? 'agent running'
                : 'agent not running';
          },
        },
      ],
    })),
  });
  const failed = results.filter((r) => !r.ok);
  if (failed.length > 0) {
    throw new OperationFailure(
      'E_FACTS',
      `cannot gather facts from ${failed.length} of ${scope.length} node(s); nothing was changed`,
      failed.flatMap((r) => [
        `${r.host}: ${messageOf(r.error)}`,
        ...(r.error instanceof OperationFailure ? r.error.details.map((d) => `  ${d}`) : []),
      ]),
    );
  }
  return facts;
}

/** The plan for a loaded inventory given the facts gathered from its hosts; inventory warnings come first. */
export function planFor(loaded: Loaded, facts: Map<string, NodeFacts>, agent: AgentBundle): PlanResult {
  const result = computePlan({
    inventory: loaded.inventory,
    scope: loaded.scope,
    secrets: loaded.secrets,
    facts,
    agent: { version: agent.version, sha256: agent.sha256 },
  });
  result.plan.warnings.unshift(...loaded.inventory.warnings);
  return result;
}
