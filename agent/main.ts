/**
 * orchestrate-agent: a Redis-compatible server, started like redis-server:
 *   orchestrate-agent [config-file] [--directive value ...]
 * Boot order: read the configuration (fatal errors exit 1 with file and line), detach when daemonized,
 * load persisted data, listen, then log "Ready to accept connections". SIGTERM/SIGINT shut down cleanly,
 * saving first when save points are configured.
 */
import { registerCoreCommands } from './commands/index';
import { Config, parseCommandLine } from './config/config';
import { AgentError } from './errors';
import { installReplication } from './replication/index';
import { detach, isDaemonChild, removePidFile, reportToParent, writePidFile } from './server/daemon';
import { AGENT_VERSION, REDIS_COMPAT_VERSION, Server } from './server/server';

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
  const { file, overrides } = parseCommandLine(argv);
  config.load(file, overrides);

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
    file ? `Configuration loaded from ${file}` : 'No config file specified, using the default config.',
  );

  const pidfile = config.get('pidfile') || (daemonize ? '/var/run/redis_6379.pid' : '');
  if (pidfile) writePidFile(pidfile);
  server.log.role = 'M';
  installReplication(server);
  server.log.notice(`Running mode=standalone, port=${config.get('port')}.`);
  server.log.warning('Server initialized');
  await server.listen();
  server.log.notice('Ready to accept connections tcp');
  reportToParent({ ready: true });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.log.warning(`Received ${signal} scheduling shutdown...`);
    server
      .shutdown()
      .then(() => {
        if (pidfile) removePidFile(pidfile);
        server.log.warning('orchestrate-agent is now ready to exit, bye bye...');
        process.exit(0);
      })
      .catch((err: unknown) => {
        server.log.warning(`Error during shutdown: ${(err as Error).message}`);
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const message = err instanceof AgentError ? err.message : `Fatal: ${(err as Error).stack ?? String(err)}`;
  process.stderr.write(`${message}\n`);
  reportToParent({ ready: false, error: message });
  process.exit(1);
});
