/**
 * A configuration that cannot run, with every problem found (not just the first). Its own module
 * so that the CLI's error handling can tell it apart without loading the configuration reader.
 */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      problems.length === 1
        ? `configuration: ${problems[0]}`
        : `configuration has ${problems.length} problems:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}
