/**
 * How loadConfig's parts read the environment: each variable parsed once by its declaration
 * (variables.ts), its default applied, a bad value named once in `problems` (a secret's value
 * never echoed), paths taken relative to the working folder.
 */
import { isAbsolute, resolve } from 'node:path';
import { VARIABLES, type VariableName, type VariableValue } from './variables.js';

export interface VariableReader {
  /** the parsed value, or its default; undefined when unset or wrong (then named in `problems`) */
  read<K extends VariableName>(name: K): VariableValue<K> | undefined;
  /** the environment as given (secret files resolved, aliases applied) */
  readonly env: NodeJS.ProcessEnv;
  /** every problem found so far, in words a person acts on */
  readonly problems: string[];
  /** a path from the configuration, absolute (relative ones from the working folder) */
  abs(path: string): string;
  readonly cwd: string;
}

export function variableReader(env: NodeJS.ProcessEnv, cwd: string, problems: string[]): VariableReader {
  // Each variable is parsed once: checks that ask for one twice must not list its problem twice.
  const parsed = new Map<VariableName, unknown>();
  const parseVariable = <K extends VariableName>(name: K): VariableValue<K> | undefined => {
    const spec = VARIABLES[name];
    const rawValue = env[name];
    const raw = rawValue === undefined || rawValue === '' ? ('default' in spec ? spec.default : undefined) : rawValue;
    if (raw === undefined) return undefined;
    try {
      return spec.parse(raw) as VariableValue<K>;
    } catch (e) {
      // Never echo a secret's value back in an error message.
      const reason = 'secret' in spec && spec.secret ? 'is not valid' : (e as Error).message;
      problems.push(`${name}: ${reason}`);
      return undefined;
    }
  };
  return {
    read<K extends VariableName>(name: K): VariableValue<K> | undefined {
      if (!parsed.has(name)) parsed.set(name, parseVariable(name));
      return parsed.get(name) as VariableValue<K> | undefined;
    },
    env,
    problems,
    abs: (p) => (isAbsolute(p) ? p : resolve(cwd, p)),
    cwd,
  };
}

export function mapOptional<T, U>(value: T | undefined, f: (v: T) => U): U | undefined {
  return value === undefined ? undefined : f(value);
}
