/**
 * Registers every command family with the server's command table. Families that need server-wide state
 * (transactions, pub/sub, persistence, replication) install their hooks in their own `install*` functions,
 * called from agent/main.ts.
 */
import type { Server } from '../server/server';
import { installKeyspace } from '../keyspace/install';
import { clientCommands } from './client';
import { configCommands } from './config';
import { connectionCommands } from './connection';
import { debugCommands } from './debug';
import { infoCommands, installInfoSections } from './info';
import { introspectionCommands } from './introspection';
import { memoryCommands } from './memory';
import { observabilityCommands } from './observability';
import { pubsubCommands } from './pubsub';
import { scriptingCommands } from './scripting';
import { serverCommands } from './server';
import { installTransactions, transactionCommands } from './transactions';
import { hashCommands } from './hashes';
import { keyCommands } from './keys';
import { listCommands } from './lists';
import { scanCommands } from './scan';
import { setCommands } from './sets';
import { sortCommands } from './sort';
import { stringCommands } from './strings';
import { zsetCommands } from './zsets';

export function registerCoreCommands(server: Server): void {
  server.commands.register([...connectionCommands, ...stringCommands]);
  server.commands.register([
    ...keyCommands,
    ...listCommands,
    ...hashCommands,
    ...setCommands,
    ...zsetCommands,
    ...sortCommands,
    ...scanCommands,
  ]);
  installKeyspace(server);
  server.commands.register([
    ...clientCommands,
    ...configCommands,
    ...debugCommands,
    ...infoCommands,
    ...introspectionCommands,
    ...memoryCommands,
    ...observabilityCommands,
    ...pubsubCommands,
    ...scriptingCommands,
    ...serverCommands,
    ...transactionCommands,
  ]);
  installTransactions(server);
  installInfoSections(server);
}
