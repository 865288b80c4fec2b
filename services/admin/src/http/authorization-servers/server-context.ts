// What the routes of an authorization server and its sub-resources share: the server a path names,
// a command decided on its state, reads of its collections, and a request body read field by field.
import {
  decideServer,
  type FieldProblem,
  keys,
  readStreams,
  type ServerCommand,
  type ServerState,
  type ServerView,
  type StreamReads,
  serverViewOf,
  streams,
  type TenancyConfig,
} from '@gatehouse/directory';
import { OktaApiError } from '@gatehouse/http';
import type { ProjectionStore } from '@gatehouse/projection-store';
import type { Context } from 'koa';
import { changesOf, type DirectoryWriter, type SigningKeysWait } from '../../directory-writer.js';

export interface ServerRoutesDeps {
  store: ProjectionStore;
  writer: DirectoryWriter;
  tenancy: TenancyConfig;
  signingKeys: SigningKeysWait;
}

export interface ServerContext extends ServerRoutesDeps {
  tenantOf(ctx: Context): string;
  /** The server of that id, if there is one and the id is well-formed. */
  load(tenant: string, id: string): Promise<ServerView | undefined>;
  /** The server the path's `asId` names, or 404. */
  mustLoad(ctx: Context): Promise<ServerView>;
  /** Every JSON value of a collection (scopes, claims, policies, rules), in one mget. */
  collection<T>(setKey: string, itemKey: (id: string) => string): Promise<T[]>;
  /**
   * A command on one server, decided on the server's state in the write model (its scopes, claims,
   * policies and rules included); `command` may depend on that state and read other streams.
   */
  run(
    ctx: Context,
    serverId: string,
    command:
      | ServerCommand
      | ((state: ServerState, reads: StreamReads) => ServerCommand | Promise<ServerCommand>),
  ): Promise<void>;
  /** A claim, policy or rule id from the path; a malformed one is a 404 like an unknown one. */
  idParam(ctx: Context, name: 'claimId' | 'policyId' | 'ruleId'): string;
  /** The JSON value at `key`, or a 404 naming `type` and `id`. */
  loadJson<T>(key: string, type: string, id: string): Promise<T>;
}

const serverIdPattern = /^(default|[0-9A-Za-z]{20})$/;

export function serverContext(deps: ServerRoutesDeps): ServerContext {
  const { store, writer } = deps;
  const tenantOf = (ctx: Context) => ctx.state.tenant as string;
  const load = async (tenant: string, id: string) =>
    serverIdPattern.test(id)
      ? serverViewOf(await store.hgetall(keys.authorizationServer(tenant, id)))
      : undefined;
  return {
    ...deps,
    tenantOf,
    load,
    async mustLoad(ctx) {
      const server = await load(tenantOf(ctx), ctx.params.asId!);
      if (!server) throw OktaApiError.notFound('AuthorizationServer', ctx.params.asId!);
      return server;
    },
    async collection<T>(setKey: string, itemKey: (id: string) => string): Promise<T[]> {
      const ids = (await store.smembers(setKey)).sort();
      const values = await store.mget(ids.map(itemKey));
      return values.flatMap((value) => (value ? [JSON.parse(value) as T] : []));
    },
    run: (ctx, serverId, command) =>
      writer.run(
        tenantOf(ctx),
        ctx.state.requestId as string,
        `server/${serverId}`,
        async (reads) => {
          const [state] = await readStreams(reads, [streams.server(serverId)]);
          const decided = typeof command === 'function' ? await command(state, reads) : command;
          return changesOf(serverId, decideServer(decided, state));
        },
      ),
    idParam(ctx, name) {
      const id = ctx.params[name]!;
      if (!/^[0-9A-Za-z]{20}$/.test(id))
        throw OktaApiError.notFound(
          name === 'claimId' ? 'OAuth2Claim' : name === 'policyId' ? 'Policy' : 'PolicyRule',
          id,
        );
      return id;
    },
    async loadJson<T>(key: string, type: string, id: string): Promise<T> {
      const value = await store.get(key);
      if (!value) throw OktaApiError.notFound(type, id);
      return JSON.parse(value) as T;
    },
  };
}

/** A priority the request left out: after the last one, as the state is when admitted. */
export const nextPriority = (items: Iterable<{ priority: number }>) =>
  [...items].reduce((max, item) => Math.max(max, item.priority), 0) + 1;
export const priorityGiven = (body: Record<string, unknown>) => body.priority !== undefined;

/** A request body, read field by field; wrong JSON types are collected as problems. */
export function fieldsOf(body: Record<string, unknown>) {
  const problems: FieldProblem[] = [];
  const at = (path: string): unknown =>
    path
      .split('.')
      .reduce<unknown>(
        (v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined),
        body,
      );
  return {
    problems,
    text(path: string, fallback = ''): string {
      const value = at(path);
      if (value === undefined || value === null) return fallback;
      if (typeof value !== 'string') problems.push({ field: path, message: 'must be a string' });
      return typeof value === 'string' ? value.trim() : fallback;
    },
    flag(path: string, fallback: boolean): boolean {
      const value = at(path);
      if (value === undefined || value === null) return fallback;
      if (typeof value !== 'boolean')
        problems.push({ field: path, message: 'must be true or false' });
      return value === true;
    },
    integer(path: string, fallback: number): number {
      const value = at(path);
      if (value === undefined || value === null) return fallback;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 2 ** 31) {
        problems.push({ field: path, message: 'must be a whole number' });
        return fallback;
      }
      return value;
    },
    list(path: string, fallback: string[] = []): string[] {
      const value = at(path);
      if (value === undefined || value === null) return fallback;
      if (
        !Array.isArray(value) ||
        !value.every((item) => typeof item === 'string') ||
        value.length > 100
      ) {
        problems.push({ field: path, message: 'must be an array of at most 100 strings' });
        return fallback;
      }
      return [...new Set(value as string[])];
    },
    done() {
      if (problems.length > 0) throw OktaApiError.validation(problems);
    },
  };
}
