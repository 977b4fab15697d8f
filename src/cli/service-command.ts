/** The long-running commands differ only in which roles they start: one factory for all four. */
import type { CliCommand } from './command.js';
import type { RoleName } from '../service/run-service.js';

export function serviceCommand(spec: { name: 'run' | 'listen' | 'work' | 'dashboard'; roles: RoleName[]; summary: string; help: string }): CliCommand {
  return {
    register(program, io) {
      program
        .command(spec.name)
        .description(spec.summary)
        .helpOption('-h, --help', 'show help')
        .addHelpText('after', `\n${spec.help}\nStops gracefully on SIGTERM/SIGINT (running transfers resume later); a second signal exits at once.`)
        .action(async () => {
          // loaded on use: offline commands must not pay for BullMQ, imapflow and express
          const { configFor, startService } = await import('../service/run-service.js');
          const config = await configFor(io, spec.name);
          const service = await startService(config, spec.name, spec.roles, {
            onReady: () => {
              const where = spec.roles.includes('dashboard') ? `; dashboard at http://${config.dashboard.host}:${config.dashboard.port}/` : '';
              io.stderr.write(`faspex-ingest ${spec.name}: running${where} (Ctrl-C to stop)\n`);
            },
          });
          await service.done;
        });
    },
  };
}
