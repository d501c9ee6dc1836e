/**
 * The `knode` command. Each subcommand lives in its own file and only parses flags and calls into
 * the components.
 */
import { Command } from 'commander';
import { agentCommand } from './agent.js';
import { controllerManagerCommand } from './controller-manager.js';
import { proxyCommand } from './proxy.js';
import { schedulerCommand } from './scheduler.js';
import { labCommand } from './lab.js';
import { serverCommand } from './server.js';
import { tokenCommand } from './token.js';

const program = new Command('knode')
  .description('knode: a small, readable Kubernetes node suite and control plane')
  .version('0.1.0')
  .showHelpAfterError()
  .addCommand(serverCommand())
  .addCommand(tokenCommand())
  .addCommand(labCommand())
  .addCommand(agentCommand())
  .addCommand(proxyCommand())
  .addCommand(controllerManagerCommand())
  .addCommand(schedulerCommand());

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`knode: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
