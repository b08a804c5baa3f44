/**
 * Reading the open-file limit that bounds maxclients (agent/server/fileLimit.ts): the soft limit from Linux's
 * /proc/<pid>/limits table, unknown when the table is unreadable, has no such row, or says unlimited; CONFIG SET's
 * check against it. Startup behaviour under a real limit is tested in lifecycle.test.ts with prlimit.
 */
import { maxClientsApplier, openFilesLimit, RESERVED_FDS } from '../../agent/server/fileLimit';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 4096                 files
Max locked memory         8388608              8388608              bytes
`;

test('the soft limit comes from the "Max open files" row; unknown when unreadable, absent or unlimited', () => {
  expect(openFilesLimit(() => LIMITS)).toBe(1024);
  expect(openFilesLimit(() => LIMITS.replace('1024 ', 'unlimited '))).toBeUndefined();
  expect(openFilesLimit(() => LIMITS.replace(/^Max open files.*\n/m, ''))).toBeUndefined();
  expect(
    openFilesLimit(() => {
      throw new Error('ENOENT');
    }),
  ).toBeUndefined();
  // This process's own table parses (Linux).
  expect(openFilesLimit()).toBeGreaterThan(RESERVED_FDS);
});

test('CONFIG SET maxclients is refused above the limit less the reserved descriptors, accepted at it', () => {
  const apply = maxClientsApplier(1024);
  expect(apply(String(1024 - RESERVED_FDS))).toBeUndefined();
  expect(apply(String(1024 - RESERVED_FDS + 1))).toBe(
    'The operating system is not able to handle the specified number of clients, try with 992',
  );
  expect(maxClientsApplier(undefined)('1000000')).toBeUndefined();
});
