/**
 * `orchestrate plan`: facts from every host in scope, then the plan, printed as a diff (or JSON). Changes nothing.
 * Exit 1 when a host cannot be reached or the plan is blocked (it could not be applied).
 */
import { locateAgentBundle, type AgentBundle, type Session } from '../deploy/session';
import type { NodeFacts } from '../plan/facts';
import type { PlanResult } from '../plan/plan';
import { renderPlan } from '../plan/render';
import {
  gatherAllFacts,
  loadInventory,
  openSession,
  planFor,
  type CommandContext,
  type CommandOutcome,
  type Loaded,
} from './context';

export interface Planned {
  loaded: Loaded;
  agent: AgentBundle;
  session: Session;
  facts: Map<string, NodeFacts>;
  result: PlanResult;
}

/** Loads, connects and plans. The caller owns (and must close) the returned session. */
export async function preparePlan(ctx: CommandContext): Promise<Planned> {
  const loaded = loadInventory(ctx);
  const agent = locateAgentBundle(ctx.options.agent, ctx.io.cwd);
  const session = openSession(ctx, loaded);
  try {
    const facts = await gatherAllFacts(ctx, session, loaded.scope);
    const result = planFor(loaded, facts, agent);
    return { loaded, agent, session, facts, result };
  } catch (e) {
    await session.close();
    throw e;
  }
}

export async function runPlan(ctx: CommandContext): Promise<CommandOutcome> {
  const planned = await preparePlan(ctx);
  try {
    const { plan } = planned.result;
    ctx.say(renderPlan(plan, ctx.style).trimEnd());
    return { exitCode: plan.blockers.length > 0 ? 1 : 0, json: { ok: plan.blockers.length === 0, plan } };
  } finally {
    await planned.session.close();
  }
}
