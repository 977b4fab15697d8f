/**
 * `verify DIR`: re-checks a package folder against its manifest (every file there with its size
 * and SHA-256, nothing missing, nothing extra). Exit 0 when it matches, 1 naming each difference.
 * Offline: no configuration, no Redis, no server.
 */
import { resolve } from 'node:path';
import { EXIT, type CliCommand } from '../command.js';

export const verifyCommand: CliCommand = {
  register(program, io) {
    program
      .command('verify')
      .description('check a package folder against its faspex-package.json')
      .argument('<dir>', 'the package folder (the one holding faspex-package.json)')
      .helpOption('-h, --help', 'show help')
      .addHelpText('after', [
        '',
        'Exit status 0: every file in the manifest is there with its size and SHA-256, and no other',
        'file is. 1: one line per difference on standard output (missing, extra, size differs,',
        'SHA-256 differs), or no manifest in the folder.',
      ].join('\n'))
      .action(async (dir: string) => {
        // loaded on use: --help and the other commands must not pay for them
        const [{ describeDifferences, isClean }, { verifyFolder }] = await Promise.all([import('../../verify/compare-files.js'), import('../../verify/verify-folder.js')]);
        const folder = resolve(io.cwd, dir);
        const check = await verifyFolder(folder);
        if (!check) {
          io.stderr.write(`faspex-ingest: ${folder} holds no readable faspex-package.json (not a finished package folder?)\n`);
          process.exitCode = EXIT.failed;
          return;
        }
        const { manifest, differences, hashed } = check;
        if (isClean(differences)) {
          const sizeOnly = manifest.files.length - hashed;
          io.stdout.write(`ok: ${manifest.files.length} file(s) match ${folder}/faspex-package.json${sizeOnly > 0 ? ` (${sizeOnly} by size only: the manifest has no SHA-256 for them)` : ''}\n`);
          process.exitCode = EXIT.ok;
          return;
        }
        for (const line of describeDifferences(differences)) io.stdout.write(`${line}\n`);
        process.exitCode = EXIT.failed;
      });
  },
};
