/**
 * Longest uplink `id` the emulator accepts. Real clients send long ids: the vendor Node SDK sends
 * `"<n>|exp-topic|<reply topic>"`, often over 100 characters (docs/protocol.md §6 item 15). The
 * bound only refuses absurd sizes; the reply still carries the id exactly as it came.
 */
export const MAX_UPLINK_ID_LENGTH = 1024

/**
 * The `id` of a device's message as the string the reply echoes: any non-empty string up to
 * MAX_UPLINK_ID_LENGTH characters, unchanged, or a non-negative integer (4.x OTA, docs/protocol.md §2.1)
 * as its decimal string. Anything else is no id.
 */
export function uplinkId(value: unknown): string | undefined {
  if (typeof value === 'string') {
    return value.length > 0 && value.length <= MAX_UPLINK_ID_LENGTH ? value : undefined
  }
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value)
  return undefined
}
