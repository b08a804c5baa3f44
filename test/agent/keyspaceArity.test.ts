/**
 * Every keyspace command, called with one argument too few, answers Redis's exact arity error; generated from
 * the command table so that a new command cannot be forgotten. Compared with real Redis 7.0.
 */
import { hashCommands } from '../../agent/commands/hashes';
import { keyCommands } from '../../agent/commands/keys';
import { listCommands } from '../../agent/commands/lists';
import { scanCommands } from '../../agent/commands/scan';
import { setCommands } from '../../agent/commands/sets';
import { sortCommands } from '../../agent/commands/sort';
import { stringCommands } from '../../agent/commands/strings';
import { zsetCommands } from '../../agent/commands/zsets';
import { sideBySideSuite } from './support/sideBySide';

const t = sideBySideSuite({ flushEachTest: false });

const families = {
  strings: stringCommands,
  keys: keyCommands,
  lists: listCommands,
  hashes: hashCommands,
  sets: setCommands,
  zsets: zsetCommands,
  sort: sortCommands,
  scan: scanCommands,
};

describe('arity errors match Redis', () => {
  for (const [family, specs] of Object.entries(families)) {
    it(`for the ${family} commands`, async () => {
      for (const spec of specs) {
        const minArgs = Math.abs(spec.arity);
        if (spec.subcommands) {
          for (const sub of spec.subcommands) {
            const n = Math.abs(sub.arity);
            const argv = [spec.name, sub.name, ...Array.from({ length: Math.max(0, n - 3) }, () => 'x')];
            if (argv.length < n) await t.same(argv);
          }
          continue;
        }
        if (minArgs <= 1) continue;
        const argv = [spec.name, ...Array.from({ length: minArgs - 2 }, () => 'x')];
        await t.same(argv);
        if (spec.arity > 0) await t.same([spec.name, ...Array.from({ length: minArgs }, () => 'x')]);
      }
    });
  }
});
