/**
 * A plan as a person reads it: one block per node, masters first, `+` for what is added, `~` for what changes,
 * `-` for what goes away, `=` for a node left alone; config changes as directive-level diffs with secrets shown as
 * "(secret)". Machines get the same plan as JSON (`--json`), which is the `Plan` object itself.
 */
import type { Style } from '../ui/style';
import type { DirectiveChange } from './agentConfig';
import type { Action, NodePlan, Plan } from './plan';

function short(sha: string | undefined): string {
  return sha ? sha.slice(0, 12) : 'none';
}

function changeLines(changes: DirectiveChange[], s: Style, indent: string): string[] {
  return changes.map((c) => {
    if (c.from === undefined) return `${indent}${s.green(`+ ${c.name} ${c.to ?? ''}`.trimEnd())}`;
    if (c.to === undefined) return `${indent}${s.red(`- ${c.name} ${c.from}`.trimEnd())}`;
    if (c.secret) return `${indent}${s.yellow(`~ ${c.name} (secret changed)`)}`;
    return `${indent}${s.yellow(`~ ${c.name} ${c.from === '' ? '""' : c.from} -> ${c.to === '' ? '""' : c.to}`)}`;
  });
}

export function describeAction(a: Action): string {
  switch (a.kind) {
    case 'upload-agent':
      return `upload agent ${a.version} to ${a.path} (sha256 ${short(a.fromSha256)} -> ${short(a.toSha256)})`;
    case 'write-config':
      return `${a.created ? 'create' : 'rewrite'} config ${a.path} (mode 0600)`;
    case 'install-service':
      return `install ${a.manager} service ${a.path} (${a.reason}${a.bootEnabled ? ', starts at boot' : ', not started at boot'})`;
    case 'reconfigure':
      return `${a.drift ? 'correct runtime drift' : 'reconfigure at runtime'}: ${a.changes
        .map((c) => (c.runtime === 'replicaof' ? 'REPLICAOF' : `CONFIG SET ${c.name}`))
        .join(', ')}, then CONFIG REWRITE`;
    case 'start':
      return 'start agent';
    case 'restart':
      return `restart agent (${a.reasons.join('; ')})`;
    case 'write-manifest':
      return `record what is installed in ${a.path}`;
  }
}

function nodeHeader(n: NodePlan, s: Style): string {
  const fresh = !n.observed.agentSha256 && !n.observed.running;
  const mark = n.actions.length === 0 ? s.dim('=') : fresh ? s.green('+') : s.yellow('~');
  const role = n.replicaof
    ? `replica of ${n.replicaof.name} (${n.replicaof.address}:${n.replicaof.port})`
    : 'master';
  return `${mark} ${s.bold(n.name)}  ${n.address}:${n.port}  ${role}  ${s.dim(`[${n.manager}]`)}`;
}

function observedLine(n: NodePlan): string {
  const o = n.observed;
  if (!o.running) return 'not running';
  const role =
    o.role === 'slave'
      ? `replica of ${o.masterHost}:${o.masterPort}, link ${o.linkStatus ?? '?'}`
      : (o.role ?? 'role unknown');
  return `running, ${role}, agent ${o.agentVersion ?? '?'}`;
}

export function renderPlan(plan: Plan, s: Style): string {
  const out: string[] = [];
  out.push(
    s.bold(`Plan for ${plan.inventory.file}`) +
      s.dim(`  (agent ${plan.agent.version}, sha256 ${short(plan.agent.sha256)})`),
  );
  out.push('');
  for (const wave of plan.waves) {
    for (const name of wave) {
      const n = plan.nodes.find((x) => x.name === name)!;
      out.push(nodeHeader(n, s));
      if (n.actions.length === 0) {
        out.push(`    ${s.dim(`no changes (${observedLine(n)})`)}`);
        continue;
      }
      out.push(`    ${s.dim(`now: ${observedLine(n)}`)}`);
      for (const a of n.actions) {
        const mark =
          a.kind === 'start' || (a.kind === 'write-config' && a.created) || a.kind === 'upload-agent'
            ? '+'
            : '~';
        out.push(`    ${mark === '+' ? s.green(mark) : s.yellow(mark)} ${describeAction(a)}`);
        if (a.kind === 'write-config' || a.kind === 'reconfigure')
          out.push(...changeLines(a.changes, s, '        '));
      }
    }
  }
  if (plan.warnings.length > 0) {
    out.push('');
    out.push(s.yellow('Warnings:'));
    for (const w of plan.warnings) out.push(`  ! ${w}`);
  }
  if (plan.blockers.length > 0) {
    out.push('');
    out.push(s.red('Cannot apply:'));
    for (const b of plan.blockers) out.push(`  x ${b.node}: ${b.message}`);
  }
  out.push('');
  const unchanged = plan.nodes.length - plan.changedNodes;
  out.push(
    plan.changedNodes === 0
      ? s.green(
          `No changes: ${plan.nodes.length} node${plan.nodes.length === 1 ? '' : 's'} already as the inventory says.`,
        )
      : `${plan.changedNodes} node${plan.changedNodes === 1 ? '' : 's'} to change, ${unchanged} unchanged.`,
  );
  return `${out.join('\n')}\n`;
}
