import type { VerifiedId } from '../client-id/signing.js';
import type { ClientIdManager, ClientIdReading, HeaderEntry, SessionRequest } from '../client-id/types.js';

/** Why a request ended its own id. */
export type EndReason = 'invalidated' | 'regenerated';

/** The request's own id, ended by invalidate or regenerate in this request. */
export interface EndedId {
  readonly key: string;
  readonly reason: EndReason;
  /** Its data moves to the new id (regenerate keeping data). */
  readonly moveData: boolean;
}

const NOT_READ = Symbol('not read');
const NO_HEADERS: readonly HeaderEntry[] = Object.freeze([]);

/**
 * One request's client id through its life: the id the request carried (read on first
 * use), the one issued in the request and whether it must reach the client even if
 * nothing is stored, and the request's own id once invalidate or regenerate ended it.
 * It answers the two questions a commit asks: which key to commit under
 * ({@link keyFor}), and which headers go out ({@link headers}).
 */
export class ClientIdState {
  readonly #ids: ClientIdManager;
  readonly #request: SessionRequest;
  #reading: ClientIdReading | undefined | typeof NOT_READ = NOT_READ;
  #issued: VerifiedId | undefined;
  /** The id was asked for explicitly, so it is sent even if nothing is stored. */
  #mustDeliver = false;
  #ended: EndedId | undefined;
  /** A commit found the request's id in the store without loading it (a blind update). */
  #known = false;

  constructor(ids: ClientIdManager, request: SessionRequest) {
    this.#ids = ids;
    this.#request = request;
  }

  /** The request's own id when it verified and was not ended in this request. */
  get reading(): ClientIdReading | undefined {
    if (this.#reading === NOT_READ) this.#reading = this.#ids.read(this.#request);
    return this.#ended ? undefined : this.#reading;
  }

  /** The id issued in this request, if any. */
  get issued(): VerifiedId | undefined {
    return this.#issued;
  }

  /** The request's own id, if this request ended it. */
  get ended(): EndedId | undefined {
    return this.#ended;
  }

  /** The id the client has after this request: the issued one, else its own; issues one (and sends it) when it has none. */
  current(): VerifiedId {
    const current = this.#issued ?? this.reading;
    if (current) return current;
    return this.issueForDelivery();
  }

  /** Issues a fresh id that goes out with the response even if nothing is stored (regenerate, `clientId`). */
  issueForDelivery(): VerifiedId {
    this.#issued = this.#ids.issue(this.#request);
    this.#mustDeliver = true;
    return this.#issued;
  }

  /** Ends the request's own id (and drops any id issued before); the data moves along when `moveData` and nothing dropped it already. */
  end(reason: EndReason, moveData: boolean): boolean {
    const previous = this.#ended;
    const key = previous?.key ?? this.reading?.key;
    // Data dropped by an earlier invalidate in this request cannot be moved any more.
    const move = moveData && (previous === undefined || previous.moveData);
    this.#issued = undefined;
    this.#mustDeliver = false;
    if (key !== undefined) {
      this.#ended = { key, reason: previous?.reason === 'invalidated' ? previous.reason : reason, moveData: move };
    }
    return move;
  }

  /** Notes that the store holds the request's own id (found by a commit rather than a load). */
  markKnown(): void {
    this.#known = true;
  }

  /**
   * The key to commit under. The request's own id only if the store knows it
   * (`isKnown`, asked only then); otherwise a fresh id, so an unknown id is never
   * adopted (SPEC 21), unless the id manager says its ids are made elsewhere
   * (`adoptsUnknownIds`), where a fresh one could not be issued.
   */
  async keyFor(isKnown: () => boolean | Promise<boolean>): Promise<string> {
    if (this.#issued) return this.#issued.key;
    const reading = this.reading;
    if (reading && (this.#ids.adoptsUnknownIds || (await isKnown()))) return reading.key;
    return this.freshKey();
  }

  /** The key of a new record: the issued id's, issuing one now if needed; the request's own when ids are made elsewhere. */
  freshKey(): string {
    const reading = this.reading;
    if (!this.#issued && reading && this.#ids.adoptsUnknownIds) return reading.key;
    this.#issued ??= this.#ids.issue(this.#request);
    return this.#issued.key;
  }

  /**
   * The headers the response carries after a commit: the issued id when a record was
   * created under it (or it was asked for), the revocation when the request ended its
   * id, and the request's own id again when it is stale (an older secret signed it) or
   * the id manager re-sends it on every touch of a known record.
   */
  headers(commit: {
    readonly created: boolean;
    readonly known: boolean;
    readonly touched: boolean;
  }): readonly HeaderEntry[] {
    if (this.#issued && (this.#mustDeliver || commit.created)) return this.#ids.deliver(this.#request, this.#issued.id);
    if (this.#ended) return this.#ids.revoke(this.#request);
    const reading = this.reading;
    const known = this.#known || commit.known;
    if (reading && known && (reading.stale || (this.#ids.refreshOnTouch && commit.touched))) {
      return this.#ids.deliver(this.#request, reading.id);
    }
    return NO_HEADERS;
  }
}
