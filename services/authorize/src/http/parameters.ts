// The parameters of a request to the browser-facing endpoints, from a query string or a form body.
export interface RawParameters {
  values: Map<string, string>;
  /** Parameters given more than once. */
  repeated: Set<string>;
}

/** Reads a query string or form body; empty values count as absent (RFC 6749 section 3.1). */
export function readParameters(encoded: string): RawParameters {
  const values = new Map<string, string>();
  const repeated = new Set<string>();
  for (const [name, value] of new URLSearchParams(encoded)) {
    if (values.has(name) || repeated.has(name)) repeated.add(name);
    if (value !== '') values.set(name, value);
  }
  return { values, repeated };
}
