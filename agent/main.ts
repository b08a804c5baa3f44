/**
 * orchestrate-agent: a Redis-compatible server, started like redis-server:
 *   orchestrate-agent [config-file] [--directive value ...]
 * Boot order: read the configuration (fatal errors exit 1 with file, line and directive), detach when
 * daemonized, write the pidfile, install the subsystems, listen, then log "Ready to accept connections".
 * SIGTERM/SIGINT shut down cleanly through the same path as SHUTDOWN (shutdown-on-sigterm/-sigint choose
 * save/nosave/now/force); a failed final save keeps the server running, as in Redis, unless forced.
 */
import { registerCoreCommands } from './commands/index';
import { Config, parseCommandLine } from './config/config';
import { AgentError } from './errors';
import { installPersistence } from './persistence/install';
import { installReplication } from './replication/index';
import { fitMaxClients, maxClientsApplier, openFilesLimit } from './server/fileLimit';
import { detach, isDaemonChild, removePidFile, reportToParent, writePidFile } from './server/daemon';
import { AGENT_VERSION, REDIS_COMPAT_VERSION, Server, type ShutdownOptions } from './server/server';

/** The pidfile a daemon writes when none is configured (redis-server's default). */
const DEFAULT_DAEMON_PIDFILE = '/var/run/redis_6379.pid';

async function main(argv: string[]): Promise<void> {
  if (argv[0] === '-v' || argv[0] === '--version') {
    process.stdout.write(`orchestrate-agent v=${AGENT_VERSION} redis-compat=${REDIS_COMPAT_VERSION}\n`);
    return;
  }
  if (argv[0] === '-h' || argv[0] === '--help') {
    process.stdout.write(
      'Usage: orchestrate-agent [/path/to/agent.conf] [--directive value ...]\n' +
        '       orchestrate-agent -v or --version\n\n' +
        'Examples:\n  orchestrate-agent /etc/orchestrate/agent.conf\n  orchestrate-agent --port 7777 --replicaof 127.0.0.1 8888\n',
    );
    return;
  }
  const config = new Config();
  config.setApplier('dir', changeDirectory);
  const { file, overrides } = parseCommandLine(argv);
  config.load(file, overrides);
  // `dir` defaults to "."; make it absolute like Redis's getcwd() once the file had its say.
  if (!config.wasLoaded('dir')) config.set('dir', ['.']);

  const daemonize = config.getBool('daemonize');
  if (daemonize && !isDaemonChild()) await detach();

  const server = new Server(config);
  const logfile = config.get('logfile');
  if (logfile !== '') server.log.setFile(logfile);
  else if (daemonize) server.log.silence();
  registerCoreCommands(server);

  server.log.warning('oO0OoO0OoO0Oo orchestrate-agent is starting oO0OoO0OoO0Oo');
  server.log.warning(
    `orchestrate-agent version=${AGENT_VERSION} (Redis ${REDIS_COMPAT_VERSION} compatible), bits=64, ` +
      `port=${config.get('port')}, PID: ${process.pid}, just started`,
  );
  server.log.warning(
    file
      ? `Configuration loaded from ${config.configFile}`
      : 'No config file specified, using the default config.',
  );

  const filesLimit = openFilesLimit();
  fitMaxClients(config, server.log, filesLimit);
  config.setApplier('maxclients', maxClientsApplier(filesLimit));

  const pidfile = config.get('pidfile') || (daemonize ? DEFAULT_DAEMON_PIDFILE : '');
  if (pidfile) {
    try {
      writePidFile(pidfile);
    } catch (err) {
      server.log.warning(`Failed to write PID file: ${(err as Error).message}`);
    }
  }
  server.exitProcess = (code) => {
    if (pidfile) {
      server.log.notice('Removing the pid file.');
      removePidFile(pidfile);
    }
    process.exit(code);
  };
  server.log.role = 'M';
  installReplication(server);
  server.log.notice(`Running mode=standalone, port=${config.get('port')}.`);
  server.log.warning('Server initialized');
  try {
    await server.listen();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new AgentError(
      'LISTEN',
      `Could not create server TCP listening socket *:${config.get('port')}: ${e.message}`,
    );
  }
  await installPersistence(server);
  server.log.notice('Ready to accept connections tcp');
  reportToParent({ ready: true });
  installSignalHandlers(server);
}

/** The `dir` applier: chdir, so every relative file name (dump, AOF) lands there, as in Redis. */
function changeDirectory(dir: string): string | undefined {
  try {
    process.chdir(dir);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'No such file or directory' : (err as Error).message;
  }
}

/** SIGTERM/SIGINT: shut down like SHUTDOWN with the flags of shutdown-on-sigterm/-sigint; twice: exit now. */
function installSignalHandlers(server: Server): void {
  const onSignal = (signal: 'SIGTERM' | 'SIGINT') => {
    if (server.isShuttingDown) {
      if (signal === 'SIGINT') {
        server.log.warning('You insist... exiting now.');
        server.exitProcess(1);
      }
      return;
    }
    server.log.warning(`Received ${signal} scheduling shutdown...`);
    const flags = server.config
      .get(signal === 'SIGTERM' ? 'shutdown-on-sigterm' : 'shutdown-on-sigint')
      .split(' ');
    const opts: ShutdownOptions = {
      save: flags.includes('nosave') ? 'nosave' : flags.includes('save') ? 'save' : 'default',
      now: flags.includes('now'),
      force: flags.includes('force'),
      reason: signal,
    };
    server.shutdownAndExit(opts).catch(() => {
      server.log.warning(
        `${signal} received but errors trying to shut down the server, check the logs for more information`,
      );
    });
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const message = err instanceof AgentError ? err.message : `Fatal: ${(err as Error).stack ?? String(err)}`;
  process.stderr.write(`${message}\n`);
  reportToParent({ ready: false, error: message });
  process.exit(1);
});
