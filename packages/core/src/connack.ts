import { LinkkitError } from './errors.js'

/**
 * Maps an MQTT 3.1.1 CONNACK return code to a coded error. The emulator uses the standard codes:
 * 4 = bad credentials / signature, 5 = not authorized (unknown or disabled device), 3 = keepalive
 * out of range or server unavailable (docs/protocol.md §1.2; the real platform's numbering is ambiguous).
 */
export function connackError(returnCode: number): LinkkitError {
  const details = { returnCode }
  switch (returnCode) {
    case 4:
      return new LinkkitError(
        'ERR_CONNACK_BAD_CREDENTIALS',
        'CONNACK 4: bad username or password (check the device secret and sign method)',
        { details },
      )
    case 5:
      return new LinkkitError(
        'ERR_CONNACK_NOT_AUTHORIZED',
        'CONNACK 5: not authorized (unknown or disabled device)',
        { details },
      )
    case 1:
      return new LinkkitError('ERR_CONNACK_REFUSED', 'CONNACK 1: unacceptable protocol version', { details })
    case 2:
      return new LinkkitError('ERR_CONNACK_REFUSED', 'CONNACK 2: identifier rejected', { details })
    case 3:
      return new LinkkitError(
        'ERR_CONNACK_REFUSED',
        'CONNACK 3: server unavailable (or keepalive out of range)',
        { details },
      )
    default:
      return new LinkkitError('ERR_CONNACK_REFUSED', `CONNACK ${returnCode}: connection refused`, { details })
  }
}

/** Wraps a socket/TLS/DNS failure. */
export function transportError(error: Error & { code?: unknown }): LinkkitError {
  const code = typeof error.code === 'string' ? error.code : undefined
  return new LinkkitError('ERR_CONNECTION', `transport error${code ? ` (${code})` : ''}: ${error.message}`, {
    cause: error,
    details: code ? { errno: code } : undefined,
  })
}

/** An MQTT.js client `error` as a coded error: a CONNACK refusal by its return code, anything else as a transport failure. */
export function mqttClientError(error: Error & { code?: unknown }): LinkkitError {
  return typeof error.code === 'number' ? connackError(error.code) : transportError(error)
}
