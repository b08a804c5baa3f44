/**
 * Registers every command family with the server's command table. Families that need server-wide state
 * (transactions, pub/sub, persistence, replication) install their hooks in their own `install*` functions,
 * called from agent/main.ts.
 */
import type { Server } from '../server/server';
import { connectionCommands } from './connection';
import { stringCommands } from './strings';

export function registerCoreCommands(server: Server): void {
  server.commands.register([...connectionCommands, ...stringCommands]);
}
