/**
 * The contract recorder: every api response and every webhook body the test suite produces
 * in-process is checked against openapi.json. An undocumented status code, response field or
 * event type (or a body of the wrong shape) is a violation; test/contract/setup.ts fails the test
 * file that produced it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';

type Json = Record<string, any>;

const violations: string[] = [];
let compiled: { doc: Json; ajv: Ajv2020; cache: Map<string, ValidateFunction> } | undefined;

function contract() {
  if (!compiled) {
    const doc = JSON.parse(readFileSync(join(__dirname, '..', '..', 'openapi.json'), 'utf8')) as Json;
    // Formats are not checked (no ajv-formats); everything else is, strictly.
    const ajv = new Ajv2020({ allErrors: false, strict: false, validateFormats: false });
    ajv.addSchema({ $id: 'openapi', components: doc.components }, 'openapi');
    compiled = { doc, ajv, cache: new Map() };
  }
  return compiled;
}

function validatorFor(key: string, schema: Json): ValidateFunction {
  const c = contract();
  let validate = c.cache.get(key);
  if (!validate) {
    // Local refs (#/components/…) resolve inside the registered document.
    const rebased = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi#/components/')) as Json;
    validate = c.ajv.compile(rebased);
    c.cache.set(key, validate);
  }
  return validate;
}

function resolve(node: Json): Json {
  if (typeof node.$ref === 'string')
    return resolve(
      node.$ref
        .slice(2)
        .split('/')
        .reduce((o: Json, k: string) => o[k], contract().doc),
    );
  return node;
}

/** The path template (e.g. `/channels/{name}`) a concrete path falls under, if any. */
function template(path: string): string | undefined {
  const segments = path.split('/');
  return Object.keys(contract().doc.paths).find((t) => {
    const parts = t.split('/');
    return (
      parts.length === segments.length &&
      parts.every((p, i) => (p.startsWith('{') ? segments[i] !== '' : p === segments[i]))
    );
  });
}

/**
 * Records one api exchange: the FC HTTP event the handler got and the response it gave. A harness
 * whose operations are stand-ins (routing and validation tests) passes `fakeOperations`: its
 * statuses and error bodies are checked, its success bodies (the stand-ins' echoes) are not.
 */
export function recordApiResponse(
  event: Buffer | string,
  response: { statusCode: number; body: string },
  { fakeOperations = false } = {},
): void {
  let method: string;
  let path: string;
  try {
    const e = JSON.parse(event.toString()) as Json;
    method = String(e.requestContext?.http?.method ?? '').toLowerCase();
    path = String(e.rawPath ?? e.requestContext?.http?.path ?? '').split('?', 1)[0]!;
  } catch {
    return; // not an HTTP event: answered 400 bad_event before any route
  }
  const t = template(path);
  const operation = t ? (contract().doc.paths[t] as Json)[method] : undefined;
  if (!operation) return; // no such operation: the router's 404/405, which belong to no path
  const where = `${method.toUpperCase()} ${t} → ${response.statusCode}`;
  const documented = operation.responses[String(response.statusCode)] ?? operation.responses.default;
  if (!documented) {
    violations.push(`${where}: status not documented`);
    return;
  }
  if (fakeOperations && response.statusCode < 300) return;
  const schema = resolve(documented).content?.['application/json']?.schema;
  if (!schema) return;
  let body: unknown;
  try {
    body = JSON.parse(response.body);
  } catch {
    violations.push(`${where}: body is not JSON`);
    return;
  }
  const validate = validatorFor(`${t} ${method} ${response.statusCode}`, schema as Json);
  if (!validate(body))
    violations.push(`${where}: ${contract().ajv.errorsText(validate.errors)} in ${response.body.slice(0, 200)}`);
}

/** Records one webhook body as a receiver got it. */
export function recordWebhookBody(body: string): void {
  let payload: Json;
  try {
    payload = JSON.parse(body) as Json;
  } catch {
    violations.push(`webhook: body is not JSON: ${body.slice(0, 100)}`);
    return;
  }
  const type = String(payload.type);
  const hook = contract().doc.webhooks[type] as Json | undefined;
  if (!hook) {
    violations.push(`webhook: event type ${JSON.stringify(type)} not documented`);
    return;
  }
  const validate = validatorFor(`webhook ${type}`, hook.post.requestBody.content['application/json'].schema as Json);
  if (!validate(payload)) violations.push(`webhook ${type}: ${contract().ajv.errorsText(validate.errors)}`);
}

/** The violations recorded since the last call. */
export function takeViolations(): string[] {
  return violations.splice(0);
}
