// Sizes of the simulated flash, apart from firmware-slot.ts so that parsing options loads no SDK.

/** Slots of the simulated flash, by default; an image must fit in one (its first sector holds the header). */
export const DEFAULT_FLASH_SLOT_BYTES = 4 * 1024 * 1024
/** The erase unit of the simulated flash (FlashSimPersistence's default). */
export const FLASH_SECTOR_BYTES = 4096

/** `4MiB`, `512KiB`, `8M`, `65536`: a size in bytes, or undefined when the text is none. */
export function parseSize(text: string): number | undefined {
  const match = /^(\d{1,12})\s*(B|K|KB|KiB|M|MB|MiB)?$/i.exec(text.trim())
  if (match === null) return undefined
  const unit = (match[2] ?? 'B').toUpperCase()[0]
  return Number(match[1]) * (unit === 'M' ? 1024 * 1024 : unit === 'K' ? 1024 : 1)
}

/** 4194304 → `4 MiB`, 4190208 → `4092 KiB`, 1000 → `1000 bytes`. */
export function formatSize(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`
  if (bytes % 1024 === 0) return `${bytes / 1024} KiB`
  return `${bytes} bytes`
}

/** What one slot of a flash of `slotSizeBytes` holds: the slot but its header sector. */
export function flashImageCapacity(slotSizeBytes: number): number {
  return slotSizeBytes - FLASH_SECTOR_BYTES
}
