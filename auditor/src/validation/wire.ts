// A minimal protobuf wire-format reader for the messages the replay decodes per transaction (envelope,
// headers, transaction, read-write sets, block signatures): fields are read as views into the message's
// bytes, nothing is copied, and no message objects are built. It is strict where google-protobuf is lax:
// a truncated field, a length past the end, a group, an unknown wire type or a known field with the
// wrong wire type is an error. Unknown fields are skipped, and a singular field given twice keeps the
// last value, as protobuf specifies.

/** Thrown when bytes are not a well-formed protobuf message. */
export class WireFormatError extends Error {}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_BYTES = 2;
const WIRE_FIXED32 = 5;

const textDecoder = new TextDecoder('utf-8');

/** Reads one message's fields in order: `next()` moves to the next field, then read it by its type. */
export class WireReader {
  readonly #bytes: Uint8Array;
  #pos = 0;
  /** The current field's number and wire type (after {@link next}). */
  field = 0;
  wireType = 0;

  public constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  /** Moves to the next field; false at the end of the message. */
  public next(): boolean {
    if (this.#pos >= this.#bytes.length) return false;
    const tag = this.#varint();
    this.field = Math.floor(tag / 8);
    this.wireType = tag % 8;
    if (this.field === 0) throw new WireFormatError('field number 0');
    return true;
  }

  #varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const byte = this.#bytes[this.#pos];
      if (byte === undefined) throw new WireFormatError('a varint runs past the end');
      this.#pos++;
      result += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new WireFormatError('a varint longer than 10 bytes');
  }

  #expect(wireType: number): void {
    if (this.wireType !== wireType)
      throw new WireFormatError(`field ${this.field} has wire type ${this.wireType}, expected ${wireType}`);
  }

  /** The current varint field as an unsigned number (exact up to 2^53). */
  public uint(): number {
    this.#expect(WIRE_VARINT);
    return this.#varint();
  }

  /** The current varint field as a signed 32-bit integer (protobuf int32 / enum). */
  public int32(): number {
    // Low 32 bits, two's complement: what an int32 holds however many bytes its varint took.
    return Number(BigInt.asIntN(32, BigInt(this.uint())));
  }

  /** The current varint field as a bool. */
  public bool(): boolean {
    return this.uint() !== 0;
  }

  /** The current length-delimited field, as a view into the message's bytes. */
  public bytes(): Uint8Array {
    this.#expect(WIRE_BYTES);
    const length = this.#varint();
    const end = this.#pos + length;
    if (end > this.#bytes.length)
      throw new WireFormatError(`a field of ${length} bytes runs past the end of its message`);
    const view = this.#bytes.subarray(this.#pos, end);
    this.#pos = end;
    return view;
  }

  /** The current length-delimited field as UTF-8 text. */
  public string(): string {
    return textDecoder.decode(this.bytes());
  }

  /** Skips the current field. */
  public skip(): void {
    switch (this.wireType) {
      case WIRE_VARINT:
        this.#varint();
        return;
      case WIRE_FIXED64:
        this.#advance(8);
        return;
      case WIRE_BYTES:
        this.bytes();
        return;
      case WIRE_FIXED32:
        this.#advance(4);
        return;
      default:
        throw new WireFormatError(`field ${this.field} has unsupported wire type ${this.wireType}`);
    }
  }

  #advance(n: number): void {
    if (this.#pos + n > this.#bytes.length) throw new WireFormatError('a fixed field runs past the end');
    this.#pos += n;
  }
}
