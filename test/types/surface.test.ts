/**
 * Type tests of the public surface, through the package's own specifiers: `tsc -p tsconfig.json`
 * checks them against `src`, and `tsc -p tsconfig.types.json` against the built declarations in
 * `dist` (with `skipLibCheck: false`), which is what apps compile against.
 */

import type * as root from 'tsession';
import { PackageData, Session } from 'tsession';
import type * as admin from 'tsession/admin';
import type * as connect from 'tsession/connect';
import type * as http from 'tsession/http';
import type * as store from 'tsession/store';
import type * as telemetry from 'tsession/telemetry';
import type * as transfer from 'tsession/transfer';
import { describe, expectTypeOf, it } from 'vitest';

describe('the public surface', () => {
  it('Session and PackageData cannot be constructed by apps', () => {
    // Never called: the point is that these lines do not compile.
    const make = () => [
      // @ts-expect-error the constructor is private: sessions come from SessionManager.open() or an adapter
      new Session(),
      // @ts-expect-error the constructor is private: package data comes from session.get()
      new PackageData(),
    ];
    expectTypeOf(make).returns.toBeArray();
  });

  it('keeps internals out', () => {
    expectTypeOf<typeof admin>().not.toHaveProperty('escapeHtml');
    expectTypeOf<typeof connect>().not.toHaveProperty('BLOB_FORMAT');
    expectTypeOf<typeof connect>().not.toHaveProperty('NEVER_SECONDS');
    // @ts-expect-error StoreBaseClass is an implementation detail of toExpressSessionStore
    type _Base = connect.StoreBaseClass;
    // @ts-expect-error SessionContext is what SessionManager gives a Session, not for apps
    type _Context = root.SessionContext;
    expectTypeOf<typeof http>().toHaveProperty('fetchListener');
  });

  it('the root is the core: the transfer tools and store helpers live under their own subpaths', () => {
    expectTypeOf<typeof root>().not.toHaveProperty('exportSessions');
    expectTypeOf<typeof root>().not.toHaveProperty('importSessions');
    expectTypeOf<typeof root>().not.toHaveProperty('applyEntryWrites');
    expectTypeOf<typeof transfer>().toHaveProperty('exportSessions');
    expectTypeOf<typeof transfer>().toHaveProperty('importSessions');
    expectTypeOf<typeof transfer>().toHaveProperty('ImportLineError');
  });

  it('a store author finds the interface, the helpers and the contract suite under tsession/store', () => {
    expectTypeOf<typeof store>().toHaveProperty('describeStoreContract');
    expectTypeOf<typeof store>().toHaveProperty('applyEntryWrites');
    expectTypeOf<store.SessionStore>().toHaveProperty('commit');
    expectTypeOf<store.SessionStore>().toEqualTypeOf<root.SessionStore>();
  });

  it('validated packages are in the core, OpenTelemetry under tsession/telemetry only', () => {
    expectTypeOf<typeof root>().toHaveProperty('definePackage');
    expectTypeOf<typeof root>().toHaveProperty('SessionValidationError');
    expectTypeOf<typeof root>().not.toHaveProperty('openTelemetry');
    expectTypeOf<typeof telemetry>().toHaveProperty('openTelemetry');
    expectTypeOf<ReturnType<typeof telemetry.openTelemetry>>().toEqualTypeOf<root.SessionTelemetry>();
  });
});
