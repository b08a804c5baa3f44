/**
 * Facts gathered on a host (here through the local transport, the same script SSH runs): the installed agent's
 * checksum and version come from the file itself: the version from the bundle's second line, without starting
 * Node, and from `--version` for a bundle without that line; nothing installed reports nothing and no live agent; a
 * running agent and a real redis-server report the directives checked for runtime drift (one CONFIG GET with every
 * name on Redis 7 and the agent).
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseInventory } from '../../cli/inventory/load';
import { nodeLayout } from '../../cli/plan/agentConfig';
import { LIVE_CHECKED_DIRECTIVES, gatherHostFacts, gatherLiveFacts } from '../../cli/plan/facts';
import { LocalTransport } from '../../cli/transport/local';
import { startServer } from '../helpers/servers';

const REPO = path.resolve(__dirname, '../..');
const BUNDLE = path.join(REPO, 'dist/orchestrate-agent.js');
const VERSION = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string })
  .version;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'orchestrate-facts-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function node(port = 7297) {
  const inv = parseInventory(
    `version: 1
defaults: { connection: local, paths: { install: ${dir}/opt, config: ${dir}/etc, data: ${dir}/data, log: ${dir}/log, run: ${dir}/run } }
hosts:
  m: { address: 127.0.0.1, server: { port: ${port} } }
`,
    'inv.yaml',
    { dir },
  );
  return inv.nodes[0];
}

async function factsWith(agentFile: string | null) {
  const n = node();
  const agentPath = nodeLayout(n).agentPath;
  if (agentFile !== null) {
    mkdirSync(path.dirname(agentPath), { recursive: true });
    copyFileSync(agentFile, agentPath);
  }
  const facts = await gatherHostFacts({ transport: new LocalTransport(), node: n, secrets: {} });
  return { facts, agentPath };
}

test('the built bundle reports its version from its second line, with its checksum', async () => {
  expect(readFileSync(BUNDLE, 'utf8').split('\n')[1]).toBe(`// orchestrate-agent v=${VERSION}`);
  const { facts, agentPath } = await factsWith(BUNDLE);
  expect(facts.agent).toEqual({
    version: VERSION,
    sha256: createHash('sha256').update(readFileSync(agentPath)).digest('hex'),
  });
  expect(facts.process.running).toBe(false);
  expect(facts.nodejs.version).toBe(process.version);
});

test('a bundle without the version line is asked with --version', async () => {
  const old = path.join(dir, 'old-agent.js');
  writeFileSync(old, '#!/usr/bin/env node\nconsole.log("orchestrate-agent v=0.0.9 redis-compat=7.0.15");\n');
  const { facts } = await factsWith(old);
  expect(facts.agent.version).toBe('0.0.9');
});

test('nothing installed: no agent checksum or version, no live agent', async () => {
  const { facts } = await factsWith(null);
  expect(facts.agent).toEqual({ sha256: undefined, version: undefined });
  expect(facts.live.reachable).toBe(false);
});

test.each(['agent', 'redis'] as const)(
  'a live %s reports the directives checked for runtime drift',
  async (kind) => {
    const server = await startServer({ kind, args: ['--maxmemory', '3mb', '--appendonly', 'no'] });
    try {
      await server.client.config('SET', 'maxmemory', '5mb');
      const facts = await gatherLiveFacts(new LocalTransport(), node(server.port), {}, undefined);
      expect(facts.reachable).toBe(true);
      expect(facts.runtimeConfig).toMatchObject({
        maxmemory: String(5 * 1024 * 1024),
        appendonly: 'no',
        'protected-mode': expect.any(String),
      });
      expect(Object.keys(facts.runtimeConfig ?? {}).sort()).toEqual([...LIVE_CHECKED_DIRECTIVES].sort());
    } finally {
      await server.stop();
    }
  },
);
