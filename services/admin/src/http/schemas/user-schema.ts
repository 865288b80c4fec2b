// The tenant's user profile schema, in Okta's shapes (SPEC section 3):
//   GET  /api/v1/meta/schemas/user/default    the schema document: base and custom definitions
//   POST /api/v1/meta/schemas/user/default    {definitions: {custom: {properties, required}}}: a
//        partial update (properties merged, one given as null removed); answers the whole schema.
// What an SDK sends back from a schema it read (base, $schema, _links, ...) is accepted and ignored.
import {
  baseSchemaProperties,
  type CustomSchema,
  decideUserSchema,
  keys,
  orgBaseUrl,
  readCustomSchemaUpdate,
  readStreams,
  streams,
  type TenancyConfig,
  tenantViewOf,
  userSchemaId,
  userSchemaViewOf,
} from '@gatehouse/directory';
import { OktaApiError, readJsonObject } from '@gatehouse/http';
import type { ProjectionStore } from '@gatehouse/projection-store';
import Router from '@koa/router';
import type { Context } from 'koa';
import { changesOf, type DirectoryWriter } from '../../directory-writer.js';

export interface UserSchemaRoutesDeps {
  store: ProjectionStore;
  writer: DirectoryWriter;
  tenancy: TenancyConfig;
}

/** The tenant's custom definition as the read models have it. */
export async function loadCustomSchema(
  store: ProjectionStore,
  tenant: string,
): Promise<CustomSchema> {
  return userSchemaViewOf(await store.hgetall(keys.userSchema(tenant))).custom;
}

export function userSchemaRoutes({ store, writer, tenancy }: UserSchemaRoutesDeps): Router {
  const router = new Router({ prefix: '/api/v1/meta/schemas/user' });
  const tenantOf = (ctx: Context) => ctx.state.tenant as string;
  const mustBeDefault = (ctx: Context) => {
    if (ctx.params.schemaId !== userSchemaId)
      throw OktaApiError.notFound('UserSchema', ctx.params.schemaId!);
  };

  const present = async (tenant: string) => {
    const [schema, tenantView] = await Promise.all([
      store.hgetall(keys.userSchema(tenant)).then(userSchemaViewOf),
      store.hgetall(keys.tenant(tenant)).then(tenantViewOf),
    ]);
    const created = tenantView?.created ?? new Date(0).toISOString();
    const base = baseSchemaProperties();
    const org = orgBaseUrl(tenancy, tenant);
    return {
      id: `${org}/meta/schemas/user/${userSchemaId}`,
      $schema: 'http://json-schema.org/draft-04/schema#',
      name: 'user',
      title: 'User',
      description: 'Okta user profile template',
      lastUpdated: schema.lastUpdated ?? created,
      created,
      definitions: {
        custom: {
          id: '#custom',
          type: 'object',
          properties: schema.custom.properties,
          required: schema.custom.required,
        },
        base: { id: '#base', type: 'object', properties: base.properties, required: base.required },
      },
      type: 'object',
      properties: {
        profile: { allOf: [{ $ref: '#/definitions/custom' }, { $ref: '#/definitions/base' }] },
      },
      _links: {
        self: {
          rel: 'self',
          href: `${org}/api/v1/meta/schemas/user/${userSchemaId}`,
          method: 'GET',
        },
      },
    };
  };

  router.get('/:schemaId', async (ctx) => {
    mustBeDefault(ctx);
    ctx.body = await present(tenantOf(ctx));
  });

  router.post('/:schemaId', async (ctx) => {
    mustBeDefault(ctx);
    const tenant = tenantOf(ctx);
    const body = await readJsonObject(ctx);
    const definitions = body.definitions;
    if (
      definitions !== undefined &&
      (definitions === null || typeof definitions !== 'object' || Array.isArray(definitions))
    )
      throw OktaApiError.validation([{ field: 'definitions', message: 'must be an object' }]);
    const customInput = (definitions as Record<string, unknown> | undefined)?.custom;
    // Decided on the schema as the write model has it now, again on every attempt, so that two
    // concurrent updates of different attributes are both kept.
    await writer.run(tenant, ctx.state.requestId as string, 'user-schema', async (reads) => {
      const [current] = await readStreams(reads, [streams.userSchema()]);
      const { custom, problems } = readCustomSchemaUpdate(customInput, current);
      if (!custom) throw OktaApiError.validation(problems);
      return changesOf(
        userSchemaId,
        decideUserSchema({ kind: 'UpdateUserSchema', custom }, current),
      );
    });
    ctx.body = await present(tenant);
  });

  return router;
}
