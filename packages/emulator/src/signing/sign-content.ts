/**
 * The text a device signs (docs/protocol.md §1.2, §1.4, §5): each parameter's name followed by its
 * value, the parameters sorted by name. A parameter whose value is undefined is left out.
 *
 * - CONNECT password and gateway sub-device signatures: `clientId`, `deviceName`, `productKey`,
 *   `timestamp` → `clientId…deviceName…productKey…timestamp…`.
 * - Dynamic registration: `deviceName`, `productKey`, `random` → `deviceName…productKey…random…`.
 */
export function signContent(params: Readonly<Record<string, string | undefined>>): string {
  const names = Object.keys(params)
    .filter((name) => params[name] !== undefined)
    .sort()
  return names.map((name) => `${name}${params[name]}`).join('')
}
