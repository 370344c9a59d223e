/**
 * Type tests: importing an adapter types the session on its framework's request, and
 * never clashes with the types of the session library users migrate from (both are
 * imported here, type-only, so `tsc` checks them together).
 */
import type {} from '@fastify/session';
import type { Request as ExpressRequest } from 'express';
import type {} from 'express-session';
import type { FastifyRequest } from 'fastify';
import type { Context as HonoContext } from 'hono';
import type { Context as KoaContext } from 'koa';
import type { PackageData, Session } from 'tsession';
import type {} from 'tsession/express';
import type {} from 'tsession/fastify';
import type {} from 'tsession/hono';
import type {} from 'tsession/koa';
import { describe, expectTypeOf, it } from 'vitest';

// Through the package's own specifiers, so that `tsconfig.types.json` checks the same lines
// against the built declarations that apps compile against.
declare module 'tsession' {
  interface SessionPackages {
    'types.cart': { items: string[] };
  }
}

describe('adapter types', () => {
  it('express: req.tsession is a Session, and express-session keeps req.session', () => {
    expectTypeOf<ExpressRequest['tsession']>().toEqualTypeOf<Session>();
    expectTypeOf<ExpressRequest['session']>().not.toEqualTypeOf<Session>();
  });

  it('fastify: request.tsession is a Session, and @fastify/session keeps request.session', () => {
    expectTypeOf<FastifyRequest['tsession']>().toEqualTypeOf<Session>();
    expectTypeOf<FastifyRequest['session']>().not.toEqualTypeOf<Session>();
  });

  it('koa: ctx.tsession is a Session', () => {
    expectTypeOf<KoaContext['tsession']>().toEqualTypeOf<Session>();
  });

  it("hono: c.get('tsession') is a Session", () => {
    const get = (c: HonoContext) => c.get('tsession');
    expectTypeOf(get).returns.toEqualTypeOf<Session>();
    expectTypeOf(get).returns.not.toBeUnknown();
    const variable = (c: HonoContext) => c.var.tsession;
    expectTypeOf(variable).returns.toEqualTypeOf<Session>();
  });

  it('package data is typed through SessionPackages on every adapter', () => {
    const cart = (req: ExpressRequest) => req.tsession.get('types.cart');
    expectTypeOf(cart).returns.resolves.toEqualTypeOf<PackageData<{ items: string[] }>>();
    const fromKoa = (ctx: KoaContext) => ctx.tsession.get('types.cart');
    expectTypeOf(fromKoa).returns.resolves.toEqualTypeOf<PackageData<{ items: string[] }>>();
  });
});
