/**
 * `orchestrate validate`: the inventory checks alone, touching no host. Prints the topology it understood, so a
 * misplaced `replicaof` shows at a glance.
 */
import { UserError } from '../errors';
import { loadInventoryFile } from '../inventory/load';
import type { Inventory, NodeSpec } from '../inventory/model';
import { defaultSecretReader, resolveSecrets } from '../inventory/secrets';
import type { CommandContext, CommandOutcome } from './context';

export function topologyLines(inv: Inventory): string[] {
  const lines: string[] = [];
  const children = (name: string) => inv.nodes.filter((n) => n.replicaof === name);
  const walk = (n: NodeSpec, prefix: string, last: boolean, root: boolean) => {
    const label = `${n.name} (${n.address}:${n.server.port}${n.connection === 'local' ? ', local' : ''})`;
    lines.push(root ? `  ${label}` : `  ${prefix}${last ? '└─ ' : '├─ '}${label}`);
    const kids = children(n.name);
    kids.forEach((k, i) =>
      walk(k, root ? '' : `${prefix}${last ? '   ' : '│  '}`, i === kids.length - 1, false),
    );
  };
  for (const m of inv.nodes.filter((n) => !n.replicaof)) {
    lines.push(`tree ${m.tree}:`);
    walk(m, '', true, true);
  }
  return lines;
}

export async function runValidate(ctx: CommandContext): Promise<CommandOutcome> {
  const inv = loadInventoryFile(ctx.inventoryPath);
  const warnings = [...inv.warnings];
  try {
    resolveSecrets(inv, defaultSecretReader(ctx.io.env));
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    warnings.push(
      `${e.message} (plan and apply will refuse until they can be read):`,
      ...e.details.map((d) => `  ${d}`),
    );
  }
  const s = ctx.style;
  const masters = inv.nodes.filter((n) => !n.replicaof).length;
  ctx.say(
    `${s.green('valid')}: ${inv.file}: ${inv.nodes.length} node${inv.nodes.length === 1 ? '' : 's'}, ${masters} replication tree${masters === 1 ? '' : 's'}`,
  );
  for (const l of topologyLines(inv)) ctx.say(l);
  if (warnings.length > 0) {
    ctx.say('');
    ctx.say(s.yellow('Warnings:'));
    for (const w of warnings) ctx.say(`  ${w.startsWith('  ') ? w : `! ${w}`}`);
  }
  return {
    exitCode: 0,
    json: {
      ok: true,
      file: inv.file,
      checksum: inv.checksum,
      nodes: inv.nodes.map((n) => ({
        name: n.name,
        address: n.address,
        port: n.server.port,
        role: n.role,
        replicaof: n.replicaof ?? null,
        tree: n.tree,
        depth: n.depth,
        connection: n.connection,
        groups: n.groups,
      })),
      warnings,
    },
  };
}
