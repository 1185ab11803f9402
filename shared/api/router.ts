import type { Logger } from '../log';
import { ApiError } from './errors';
import type { FcHttpResponse, HttpRequest } from './event';

export interface RouteContext {
  request: HttpRequest;
  /** Path parameters, percent-decoded once and free of `/`, `..` and control characters. */
  params: Record<string, string>;
  requestId: string;
  logger: Logger;
}

export interface Route {
  method: string;
  /** Literal segments and `{param}` segments, e.g. `/channels/{name}/vods/{key}/hold`. */
  pattern: string;
  handle(context: RouteContext): Promise<FcHttpResponse>;
}

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

export interface Router {
  /** The matching route, or throws ApiError 404 (no such path), 405 (with `Allow`) or 400 (bad parameter). */
  match(method: string, segments: readonly string[]): RouteMatch;
}

type Segment = { literal: string } | { param: string };

const PARAM = /^\{([A-Za-z][A-Za-z0-9]*)\}$/;
// C0 controls, DEL and C1 controls: never part of a name, and they break logs and XML bodies.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

function compile(pattern: string): Segment[] {
  if (!pattern.startsWith('/')) throw new Error(`route pattern must start with /: ${pattern}`);
  return pattern
    .slice(1)
    .split('/')
    .map((part) => {
      const param = PARAM.exec(part)?.[1];
      return param === undefined ? { literal: part } : { param };
    });
}

/** Path parameters are names, never paths: refuse anything that could address another object. */
function checkParam(name: string, value: string): void {
  if (value.includes('/') || value.includes('\\'))
    throw new ApiError(400, 'invalid_path_param', `${name} must not contain / or \\`, name);
  if (value.includes('..')) throw new ApiError(400, 'invalid_path_param', `${name} must not contain ..`, name);
  if (CONTROL.test(value))
    throw new ApiError(400, 'invalid_path_param', `${name} must not contain control characters`, name);
}

function segmentsMatch(shape: readonly Segment[], segments: readonly string[]): boolean {
  if (shape.length !== segments.length) return false;
  return shape.every((part, i) => {
    const segment = segments[i] ?? '';
    return 'literal' in part ? part.literal === segment : segment.length > 0;
  });
}

/** A table-driven router: routes are tried in order; a path that matches no method answers 405. */
export function createRouter(routes: readonly Route[]): Router {
  const compiled = routes.map((route) => ({ route, shape: compile(route.pattern) }));
  const seen = new Set<string>();
  for (const { route } of compiled) {
    const key = `${route.method} ${route.pattern}`;
    if (seen.has(key)) throw new Error(`duplicate route: ${key}`);
    seen.add(key);
  }

  return {
    match(method, segments) {
      const candidates = compiled.filter(({ shape }) => segmentsMatch(shape, segments));
      if (candidates.length === 0) throw new ApiError(404, 'not_found', 'no such route');
      const hit = candidates.find(({ route }) => route.method === method);
      if (hit === undefined) {
        const allow = [...new Set(candidates.map(({ route }) => route.method))].join(', ');
        throw new ApiError(
          405,
          'method_not_allowed',
          `method ${method} is not allowed here; allowed: ${allow}`,
          undefined,
          { Allow: allow },
        );
      }
      const params: Record<string, string> = {};
      hit.shape.forEach((part, i) => {
        if ('param' in part) {
          const value = segments[i] ?? '';
          checkParam(part.param, value);
          params[part.param] = value;
        }
      });
      return { route: hit.route, params };
    },
  };
}
