// Bundles the agent and the CLI into single self-contained files under dist/.
// The agent bundle has no runtime dependencies: the orchestrator uploads exactly that file to bare hosts.
import { build } from 'esbuild';
import { chmodSync, readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const common = {
  bundle: true,
  platform: 'node',
  target: 'node18',
  format: 'cjs',
  sourcemap: false,
  legalComments: 'none',
  banner: { js: '#!/usr/bin/env node' },
  define: { __AGENT_VERSION__: JSON.stringify(version) },
  logLevel: 'warning',
};

// Line 2 of the agent bundle names its version, so that hosts can report it without starting Node
// (the facts script in cli/plan/facts.ts reads it with sed).
await build({
  ...common,
  banner: { js: `#!/usr/bin/env node\n// orchestrate-agent v=${version}` },
  entryPoints: ['agent/main.ts'],
  outfile: 'dist/orchestrate-agent.js',
});
// ssh2 ships optional native addons; keep the CLI's dependencies external (installed by npm).
await build({
  ...common,
  entryPoints: ['cli/main.ts'],
  outfile: 'dist/orchestrate.js',
  packages: 'external',
});
chmodSync('dist/orchestrate-agent.js', 0o755);
chmodSync('dist/orchestrate.js', 0o755);
