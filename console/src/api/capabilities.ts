/**
 * What this server's API offers, read from its OpenAPI document (GET /v1.0/openapi.json). Pages
 * and fields of later API versions (provider test calls, call records, agents, access keys,
 * credential fields on providers) are shown only when the document declares them, so the console
 * never offers what the API lacks.
 */

export interface Capabilities {
  /** the API has this operation (`path` as in the document: `/v1.0/providers/{id}`) */
  has(method: string, path: string): boolean;
  /** the JSON body properties of an operation; undefined when the operation has no object body */
  bodyFields(method: string, path: string): ReadonlySet<string> | undefined;
  /** the properties of an operation's 200 JSON answer; undefined when not an object */
  responseFields(method: string, path: string): ReadonlySet<string> | undefined;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function at(value: unknown, ...keys: string[]): unknown {
  let current = value;
  for (const key of keys) {
    if (!isObject(current)) return undefined;
    current = current[key];
  }
  return current;
}

export function capabilitiesOf(doc: unknown): Capabilities {
  const resolve = (schema: unknown, depth = 0): unknown => {
    const ref = at(schema, '$ref');
    if (typeof ref !== 'string' || depth > 8) return schema;
    const match = /^#\/components\/schemas\/(.+)$/.exec(ref);
    return match ? resolve(at(doc, 'components', 'schemas', decodeURIComponent(match[1]!)), depth + 1) : undefined;
  };
  const operation = (method: string, path: string) => at(doc, 'paths', path, method.toLowerCase());
  const propertiesOf = (schema: unknown): ReadonlySet<string> | undefined => {
    const properties = at(resolve(schema), 'properties');
    return isObject(properties) ? new Set(Object.keys(properties)) : undefined;
  };
  return {
    has: (method, path) => isObject(operation(method, path)),
    bodyFields: (method, path) => propertiesOf(at(operation(method, path), 'requestBody', 'content', 'application/json', 'schema')),
    responseFields: (method, path) => propertiesOf(at(operation(method, path), 'responses', '200', 'content', 'application/json', 'schema')),
  };
}

/** When the document cannot be read: today's endpoints and fields only (the console still works). */
export const NO_CAPABILITIES: Capabilities = {
  has: () => false,
  bodyFields: () => undefined,
  responseFields: () => undefined,
};
