// JSON schemas for kubeconform, made from Kubernetes' own OpenAPI v2 document (api/openapi-spec/
// swagger.json of k8s.io/kubernetes) the way yannh/kubernetes-json-schema's "standalone-strict"
// flavour is: one self-contained file per kind (every $ref inlined), `additionalProperties: false`
// on every object that lists its properties (kubectl's own strictness), int-or-string and quantities
// as the union they are on the wire, `apiVersion` and `kind` pinned. Descriptions are left out: they
// validate nothing and would make the vendored files ten times larger.

/** A kind as kubeconform names its schema file: `{kind}-{group}-{version}.json`, lower case. */
export interface KindRef {
  group: string;
  version: string;
  kind: string;
}

type Schema = { [keyword: string]: unknown };
type Definitions = Record<string, Schema>;

/** The file kubeconform looks for (its `{{ .ResourceKind }}{{ .KindSuffix }}.json`). */
export function schemaFileName({ group, version, kind }: KindRef): string {
  const groupPart = group === '' ? '' : `-${group.split('.')[0]}`;
  return `${kind}${groupPart}-${version}.json`.toLowerCase();
}

/** The schema of one kind, from the `definitions` of Kubernetes' swagger.json. */
export function kindSchema(definitions: Definitions, ref: KindRef): Schema {
  const name = Object.keys(definitions).find((key) =>
    ((definitions[key]?.['x-kubernetes-group-version-kind'] as KindRef[] | undefined) ?? []).some(
      (gvk) => gvk.group === ref.group && gvk.version === ref.version && gvk.kind === ref.kind,
    ),
  );
  if (!name) throw new Error(`no definition for ${JSON.stringify(ref)}`);
  const schema = expand(definitions, { $ref: `#/definitions/${name}` }, []);
  const properties = schema.properties as Record<string, Schema> | undefined;
  if (!properties?.apiVersion || !properties.kind)
    throw new Error(`${name} has no apiVersion/kind`);
  properties.apiVersion = {
    ...properties.apiVersion,
    enum: [ref.group === '' ? ref.version : `${ref.group}/${ref.version}`],
  };
  properties.kind = { ...properties.kind, enum: [ref.kind] };
  return schema;
}

const intOrString = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
const quantity = 'io.k8s.apimachinery.pkg.api.resource.Quantity';

/** Keywords whose value is a map from names to schemas (a property may be called `description`). */
const schemaMaps = new Set(['properties', 'patternProperties', 'definitions']);

function expand(definitions: Definitions, schema: Schema, seen: readonly string[]): Schema {
  const ref = schema.$ref;
  if (typeof ref === 'string') {
    const name = ref.replace(/^#\/definitions\//, '');
    if (name === intOrString) return { oneOf: [{ type: 'string' }, { type: 'integer' }] };
    if (name === quantity) return { oneOf: [{ type: 'string' }, { type: 'number' }] };
    if (seen.includes(name))
      throw new Error(`recursive definition: ${[...seen, name].join(' > ')}`);
    const target = definitions[name];
    if (!target) throw new Error(`unknown $ref ${ref}`);
    return expand(definitions, target, [...seen, name]);
  }
  const out: Schema = {};
  for (const [keyword, value] of Object.entries(schema)) {
    if (keyword === 'description' || keyword.startsWith('x-kubernetes-')) continue;
    if (schemaMaps.has(keyword) && isObject(value)) {
      out[keyword] = Object.fromEntries(
        Object.entries(value).map(([key, sub]) => [key, expand(definitions, sub as Schema, seen)]),
      );
    } else if (Array.isArray(value)) {
      out[keyword] = value.map((item) => (isObject(item) ? expand(definitions, item, seen) : item));
    } else if (isObject(value)) {
      out[keyword] = expand(definitions, value, seen);
    } else {
      out[keyword] = value;
    }
  }
  if (out.format === 'int-or-string') return { oneOf: [{ type: 'string' }, { type: 'integer' }] };
  if ('properties' in out && !('additionalProperties' in out)) out.additionalProperties = false;
  return out;
}

function isObject(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
