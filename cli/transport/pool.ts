/**
 * One transport per machine for a whole run: nodes that share an SSH endpoint (same user, host, port and jump host)
 * share one connection, so a second node on a machine costs no new handshake. Closing the pool closes them all.
 */
import type { NodeSpec } from '../inventory/model';
import type { NodeSecrets } from '../inventory/secrets';
import { LocalTransport } from './local';
import { SshTransport, endpointLabel, type SshEndpoint } from './ssh';
import type { Transport } from './transport';

export interface PoolOptions {
  /** --accept-new-host-keys: overrides a `strict` policy of the inventory with accept-new. */
  acceptNewHostKeys: boolean;
  env?: NodeJS.ProcessEnv;
}

export class TransportPool {
  private readonly transports = new Map<string, Transport>();

  constructor(private readonly opts: PoolOptions) {}

  static endpointOf(node: NodeSpec, secrets: NodeSecrets | undefined): SshEndpoint {
    const j = node.ssh.jumpHost;
    return {
      host: node.ssh.host,
      port: node.ssh.port,
      user: node.ssh.user,
      identityFile: node.ssh.identityFile,
      passphrase: secrets?.sshPassphrase,
      useAgent: node.ssh.useAgent,
      password: secrets?.sshPassword,
      jump: j
        ? {
            host: j.address,
            port: j.port,
            user: j.user,
            identityFile: j.identityFile,
            useAgent: j.useAgent,
            password: secrets?.jumpPassword,
          }
        : undefined,
    };
  }

  /** Key identifying the machine a node lives on (nodes with the same key share files under paths.install). */
  static machineKey(node: NodeSpec): string {
    if (node.connection === 'local') return 'local';
    return endpointLabel(TransportPool.endpointOf(node, undefined));
  }

  get(node: NodeSpec, secrets: NodeSecrets | undefined): Transport {
    const key = TransportPool.machineKey(node);
    let t = this.transports.get(key);
    if (!t) {
      t =
        node.connection === 'local'
          ? new LocalTransport({ become: node.ssh.become, commandTimeoutMs: node.ssh.commandTimeoutMs })
          : new SshTransport({
              endpoint: TransportPool.endpointOf(node, secrets),
              knownHostsFile: node.ssh.knownHostsFile,
              hostKeyPolicy: this.opts.acceptNewHostKeys ? 'accept-new' : node.ssh.hostKeyPolicy,
              become: node.ssh.become,
              connectTimeoutMs: node.ssh.connectTimeoutMs,
              commandTimeoutMs: node.ssh.commandTimeoutMs,
              env: this.opts.env,
            });
      this.transports.set(key, t);
    }
    return t;
  }

  async closeAll(): Promise<void> {
    const all = [...this.transports.values()];
    this.transports.clear();
    await Promise.all(all.map((t) => t.close().catch(() => undefined)));
  }
}
