// Typed reads of environment variables. Each service's config.ts lists its settings with their
// defaults; a bad or missing value stops the service at start with a message naming the variable.

export type Environment = Readonly<Record<string, string | undefined>>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
  }
}

function raw(env: Environment, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === '' ? undefined : value;
}

export const setting = {
  string(
    env: Environment,
    name: string,
    options: { default?: string; pattern?: RegExp; hint?: string } = {},
  ): string {
    const value = raw(env, name) ?? options.default;
    if (value === undefined)
      throw new ConfigError(name, `is required${options.hint ? ` (${options.hint})` : ''}`);
    if (options.pattern && !options.pattern.test(value)) {
      throw new ConfigError(
        name,
        `${JSON.stringify(value)} is not valid${options.hint ? ` (${options.hint})` : ''}`,
      );
    }
    return value;
  },

  optionalString(env: Environment, name: string): string | undefined {
    return raw(env, name);
  },

  url(
    env: Environment,
    name: string,
    options: { default?: string; protocols?: readonly string[] } = {},
  ): URL {
    const value = setting.string(env, name, { default: options.default });
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new ConfigError(name, `${JSON.stringify(value)} is not a URL`);
    }
    const protocols = options.protocols ?? ['http:', 'https:'];
    if (!protocols.includes(url.protocol)) {
      throw new ConfigError(name, `must use ${protocols.join(' or ')}, not ${url.protocol}`);
    }
    return url;
  },

  integer(
    env: Environment,
    name: string,
    options: { default: number; min: number; max: number },
  ): number {
    const value = raw(env, name);
    if (value === undefined) return options.default;
    const number = Number(value);
    if (!Number.isInteger(number) || number < options.min || number > options.max) {
      throw new ConfigError(
        name,
        `must be a whole number from ${options.min} to ${options.max}, not ${JSON.stringify(value)}`,
      );
    }
    return number;
  },

  oneOf<const T extends string>(
    env: Environment,
    name: string,
    values: readonly T[],
    fallback: T,
  ): T {
    const value = raw(env, name) ?? fallback;
    if (!values.includes(value as T))
      throw new ConfigError(
        name,
        `must be one of ${values.join(', ')}, not ${JSON.stringify(value)}`,
      );
    return value as T;
  },

  list(env: Environment, name: string, options: { default?: readonly string[] } = {}): string[] {
    const value = raw(env, name);
    if (value === undefined) {
      if (options.default) return [...options.default];
      throw new ConfigError(name, 'is required');
    }
    const items = value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
    if (items.length === 0) throw new ConfigError(name, 'must list at least one value');
    return items;
  },
};
