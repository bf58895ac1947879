import { createRequire } from 'node:module'

/** MQTT.js's logger namespace for its client (`DEBUG=mqttjs*` turns it on). */
const NAMESPACE = 'mqttjs:client'

/** The logger a fleet client gets while MQTT.js's logging is off: it takes nothing and keeps nothing. */
export function quietLog(): void {}

/**
 * Whether MQTT.js's client logging is on now, asked of the `debug` package MQTT.js itself loads
 * (resolved from where MQTT.js is, so it is the same instance and sees `DEBUG` as well as
 * `debug.enable()`). MQTT.js otherwise makes one `debug('mqttjs:client')` logger per client (about
 * 1 KiB each, which at 10,000 clients is more than the fleet's own state) and allocates the
 * arguments of its ~110 log calls even when logging is off; a fleet client gets `quietLog` instead
 * unless the namespace is enabled, so `DEBUG=mqttjs*` still shows everything (docs/fleet.md).
 * Returns `() => true` (leave MQTT.js's logger alone) if that `debug` cannot be found.
 */
export function mqttLogEnabled(): () => boolean {
  try {
    const fromMqtt = createRequire(createRequire(import.meta.url).resolve('mqtt'))
    const debug = fromMqtt('debug') as { enabled?: (namespace: string) => boolean }
    const enabled = debug.enabled
    if (typeof enabled === 'function') return () => enabled(NAMESPACE)
  } catch {
    // MQTT.js without `debug`: nothing to quieten.
  }
  return () => true
}
