import { ConfigError } from './config-error';

/**
 * A whole-value rule from an operator's regular expression (SUBSCRIPTION_ID_PATTERN, ACCOUNT_NUMBER_PATTERN),
 * anchored if it is not already; undefined when the variable is unset or blank. An invalid expression is a
 * ConfigError naming the variable.
 */
export function anchoredPattern(pattern: string | undefined, variable: string): RegExp | undefined {
  if (pattern === undefined || pattern.trim() === '') return undefined;
  let source = pattern.trim();
  if (!source.startsWith('^')) source = `^(?:${source})`;
  if (!source.endsWith('$')) source = `${source}$`;
  try {
    return new RegExp(source);
  } catch (error) {
    throw new ConfigError(variable, `is not a valid regular expression: ${(error as Error).message}`);
  }
}
