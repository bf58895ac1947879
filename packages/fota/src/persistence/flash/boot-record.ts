import { crc32 } from './crc32.js'
import { bootRecordSectors, type SlotName } from './layout.js'
import type { NorFlash } from './nor-flash.js'

/** Which slot boots: the confirmed `active` one, or a `pending` one on trial until confirmed. */
export interface BootRecord {
  /** Grows with every update; of two valid copies the higher one is current. */
  readonly seq: number
  /** The confirmed slot, the one to roll back to. */
  readonly active: SlotName
  /** A slot activated for a trial boot, or undefined. */
  readonly pending: SlotName | undefined
  /** The pending slot already booted; booting again without confirm() spends `extraBoots` or rolls back. */
  readonly trial: boolean
  /** Trial boots left after the first one (`confirmWithinBoots - 1`); 0 in records of format 1. */
  readonly extraBoots: number
  /** The security counter: the lowest security version an offer may carry (0 in format 1). */
  readonly securityVersion: number
  /** A slot the bootloader rolled back from, until the device reported it; undefined when none. */
  readonly rolledBack: SlotName | undefined
  /** The pending image's deadline in ms from its first boot (`confirmWithinMs`); 0 = none. */
  readonly confirmWithinMs: number
  /** When the pending image first booted (ms since the epoch), stamped with a deadline only; 0 = not yet. */
  readonly trialStartedAt: number
}

export type BootChoice = Omit<BootRecord, 'seq'>

/** Format 1 (16 bytes) is still read; every write is format 2 (32 bytes). */
const magicV1 = 'LKBR'
const magic = 'LKB2'
const recordBytesV1 = 16
const recordBytes = 32
const slotCodes = { A: 0, B: 1 } as const
const noSlot = 0xff
const MAX_U48 = 2 ** 48 - 1

/** The state of a flash that never had a boot record written: slot A, nothing pending. */
const factory: BootRecord = {
  seq: 0,
  active: 'A',
  pending: undefined,
  trial: false,
  extraBoots: 0,
  securityVersion: 0,
  rolledBack: undefined,
  confirmWithinMs: 0,
  trialStartedAt: 0,
}

const slotCode = (slot: SlotName | undefined) => (slot === undefined ? noSlot : slotCodes[slot])
const slotOf = (code: number): SlotName | undefined => (code === 0 ? 'A' : code === 1 ? 'B' : undefined)

/**
 * `LKB2 | seq u32 | active u8 | pending u8 | trial u8 | extraBoots u8 | securityVersion u32 |
 * rolledBack u8 | confirmWithinMs u32 | trialStartedAt u48 | 1 reserved | crc32`, little-endian.
 * The deadline fields took reserved bytes, which older records hold as zeros: no deadline.
 */
function encode(record: BootRecord): Uint8Array {
  const bytes = Buffer.alloc(recordBytes)
  bytes.write(magic, 0, 'latin1')
  bytes.writeUInt32LE(record.seq, 4)
  bytes.writeUInt8(slotCodes[record.active], 8)
  bytes.writeUInt8(slotCode(record.pending), 9)
  bytes.writeUInt8(record.trial ? 1 : 0, 10)
  bytes.writeUInt8(Math.min(255, record.extraBoots), 11)
  bytes.writeUInt32LE(record.securityVersion, 12)
  bytes.writeUInt8(slotCode(record.rolledBack), 16)
  bytes.writeUInt32LE(record.confirmWithinMs, 17)
  bytes.writeUIntLE(Math.max(0, Math.min(Math.trunc(record.trialStartedAt), MAX_U48)), 21, 6)
  bytes.writeUInt32LE(crc32(bytes.subarray(0, recordBytes - 4)), recordBytes - 4)
  return bytes
}

function decode(area: Uint8Array): BootRecord | undefined {
  const bytes = Buffer.from(area.buffer, area.byteOffset, recordBytes)
  const kind = bytes.toString('latin1', 0, 4)
  const length = kind === magic ? recordBytes : kind === magicV1 ? recordBytesV1 : 0
  if (length === 0 || bytes.readUInt32LE(length - 4) !== crc32(bytes.subarray(0, length - 4)))
    return undefined
  const active = slotOf(bytes.readUInt8(8))
  if (active === undefined) return undefined
  const v2 = length === recordBytes
  return {
    seq: bytes.readUInt32LE(4),
    active,
    pending: slotOf(bytes.readUInt8(9)),
    trial: bytes.readUInt8(10) === 1,
    extraBoots: v2 ? bytes.readUInt8(11) : 0,
    securityVersion: v2 ? bytes.readUInt32LE(12) : 0,
    rolledBack: v2 ? slotOf(bytes.readUInt8(16)) : undefined,
    confirmWithinMs: v2 ? bytes.readUInt32LE(17) : 0,
    trialStartedAt: v2 ? bytes.readUIntLE(21, 6) : 0,
  }
}

interface Copy {
  sector: number
  record: BootRecord | undefined
}

function copies(flash: NorFlash): Copy[] {
  return bootRecordSectors.map((sector) => ({
    sector,
    record: decode(flash.read(sector * flash.sectorSizeBytes, recordBytes)),
  }))
}

function newest(all: Copy[]): Copy | undefined {
  let best: Copy | undefined
  for (const copy of all) {
    if (copy.record !== undefined && (best?.record === undefined || copy.record.seq > best.record.seq))
      best = copy
  }
  return best
}

/** The current boot record: the valid copy with the highest sequence number. */
export function readBootRecord(flash: NorFlash): BootRecord {
  return newest(copies(flash))?.record ?? factory
}

/**
 * Writes `choice` with the next sequence number into the copy that is NOT current (erase, then
 * program). A cut anywhere in between leaves that copy torn or blank, so the reader falls back
 * on the untouched current copy: the update happened entirely or not at all.
 */
export async function writeBootRecord(flash: NorFlash, choice: BootChoice): Promise<BootRecord> {
  const all = copies(flash)
  const current = newest(all)
  const target = all.find((copy) => copy !== current) ?? all[0]!
  const record: BootRecord = { ...choice, seq: (current?.record?.seq ?? 0) + 1 }
  await flash.erase(target.sector)
  await flash.program(target.sector * flash.sectorSizeBytes, encode(record))
  return record
}
